"""``/healthz`` (the process is up) and ``/readyz`` (LangGraph answers): open, for probes."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from proxy.upstream import Upstream
from proxy.web.deps import get_upstream
from proxy.web.errors import EnvelopeRoute, json_response, upstream_unavailable

router = APIRouter(route_class=EnvelopeRoute, include_in_schema=False)


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(upstream: Upstream = Depends(get_upstream)) -> Response:
    """The LangGraph server answers."""
    if await upstream.ready():
        return json_response({"status": "ready"})
    return upstream_unavailable("The LangGraph server is not reachable.").response()
