"""``POST /v1/responses`` and ``GET /v1/responses/{id}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from proxy.responses.protocol import ResponseRequest
from proxy.responses.records import Responses
from proxy.responses.serving import serve_response
from proxy.settings import Settings
from proxy.threads.identity import caller
from proxy.upstream import Upstream
from proxy.web.body import read_body
from proxy.web.deps import app_settings, get_upstream, json_body, v1_router
from proxy.web.errors import json_response, not_found

router: APIRouter = v1_router()


@router.post("/responses", openapi_extra=json_body(ResponseRequest))
async def create_response(
    request: Request,
    upstream: Upstream = Depends(get_upstream),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Run the model's graph and answer as the Responses API does, streaming or not."""
    body = await read_body(request, settings, ResponseRequest, list_field="input")
    return await serve_response(request, body, upstream, settings)


@router.get("/responses/{response_id}")
async def get_response(
    response_id: str,
    request: Request,
    upstream: Upstream = Depends(get_upstream),
    settings: Settings = Depends(app_settings),
) -> Response:
    """A stored response of the caller's."""
    who = caller(request.headers.get("authorization"), keyed=bool(settings.api_keys))
    stored = await Responses(upstream.client, settings.request_timeout).get(response_id, who)
    if stored is None:
        raise not_found(f"No stored response {response_id!r}.", param="response_id")
    return json_response(stored.response)
