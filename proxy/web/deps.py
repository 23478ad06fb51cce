"""What every endpoint's routes share: their router, and the app's settings and upstream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from proxy.settings import Settings
from proxy.upstream import Upstream
from proxy.web.auth import check_api_key
from proxy.web.errors import EnvelopeRoute


def v1_router() -> APIRouter:
    """A router for ``/v1`` routes: behind the API key, errors as OpenAI envelopes."""
    return APIRouter(prefix="/v1", dependencies=[Depends(check_api_key)], route_class=EnvelopeRoute)


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself (``read_body``)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


async def get_upstream(request: Request) -> Upstream:
    """The app's LangGraph connection (made in the lifespan)."""
    upstream: Upstream = request.app.state.openai_proxy
    return upstream


async def app_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.proxy_settings
    return settings
