"""``POST /v1/chat/completions``: read the request, then :func:`proxy.chat.serving.serve_chat`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from proxy.chat.protocol import ChatCompletionRequest
from proxy.chat.serving import serve_chat
from proxy.settings import Settings
from proxy.threads import policy_for
from proxy.upstream import Upstream
from proxy.web.body import read_body
from proxy.web.deps import app_settings, get_upstream, json_body, v1_router

router: APIRouter = v1_router()


@router.post("/chat/completions", openapi_extra=json_body(ChatCompletionRequest))
async def chat_completions(
    request: Request,
    upstream: Upstream = Depends(get_upstream),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Run the model's graph and answer as OpenAI would, streaming or not."""
    body = await read_body(request, settings, ChatCompletionRequest, list_field="messages")
    policy = policy_for(
        upstream,
        settings,
        metadata=(body.model_extra or {}).get("metadata"),
        headers=request.headers,
        messages=body.input_messages(),
        stream=bool(body.stream),
    )
    return await serve_chat(request, body, upstream, settings, policy)
