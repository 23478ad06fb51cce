"""``GET /v1/models`` and ``GET /v1/models/{id}``: one model per assistant."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from proxy.models.protocol import model_list, model_object
from proxy.upstream import Upstream
from proxy.web.deps import get_upstream, v1_router
from proxy.web.errors import json_response

router: APIRouter = v1_router()


@router.get("/models")
async def list_models(upstream: Upstream = Depends(get_upstream)) -> Response:
    """One model per assistant."""
    return json_response(model_list(await upstream.catalog.models()))


@router.get("/models/{model_id:path}")
async def get_model(model_id: str, upstream: Upstream = Depends(get_upstream)) -> Response:
    """One model, by name, graph id or assistant UUID."""
    return json_response(model_object(await upstream.catalog.resolve(model_id)))
