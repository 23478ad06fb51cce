"""The HTTP surface: ``/v1/models``, ``/v1/chat/completions``, ``/healthz``, ``/readyz``.

A request goes: :func:`chat_completions` -> :mod:`proxy.upstream` (model, schema, run) ->
:class:`proxy.completions.Completion` (chunks) -> :mod:`proxy.sse` (bytes).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from proxy.auth import check_api_key
from proxy.completions import Completion, RunPump, estimate_prompt_tokens
from proxy.errors import EnvelopeRoute, ProxyError, bad_request, upstream_unavailable
from proxy.inputs import build_input
from proxy.protocol import ChatCompletionRequest, model_list, model_object
from proxy.settings import Settings
from proxy.sse import SSEResponse
from proxy.upstream import Upstream

T = TypeVar("T")

router = APIRouter(route_class=EnvelopeRoute)
v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_api_key)], route_class=EnvelopeRoute)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RUN_ID_HEADER = "X-LangGraph-Run-Id"
"""Names the LangGraph run behind a completion (for logs, tracing and support)."""
_REQUEST_SCHEMA = ChatCompletionRequest.model_json_schema(
    ref_template="#/components/schemas/{model}"
)


async def get_upstream(request: Request) -> Upstream:
    """The app's LangGraph connection (made in the lifespan)."""
    return request.app.state.openai_proxy


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.proxy_settings


def json_response(body: Any, status: int = 200) -> Response:
    """A compact JSON response (non-ASCII left as is)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.get("/healthz", include_in_schema=False)
async def healthz() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def readyz(upstream: Upstream = Depends(get_upstream)) -> Response:
    """The LangGraph server answers."""
    if await upstream.ready():
        return json_response({"status": "ready"})
    return upstream_unavailable("The LangGraph server is not reachable.").response()


@v1.get("/models")
async def list_models(upstream: Upstream = Depends(get_upstream)) -> Response:
    """One model per assistant."""
    models = await upstream.models()
    data = [model_object(*upstream.model_entry(mid, a)) for mid, a in models.items()]
    return json_response(model_list(data))


@v1.get("/models/{model_id:path}")
async def get_model(model_id: str, upstream: Upstream = Depends(get_upstream)) -> Response:
    """One model, by name, graph id or assistant UUID."""
    name, assistant = await upstream.resolve(model_id)
    return json_response(model_object(*upstream.model_entry(name, assistant)))


async def read_request(request: Request, settings: Settings) -> ChatCompletionRequest:
    """Parse the body ourselves: size limit, content type, JSON, then the wire model (all 4xx)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise ProxyError(
            415, "Send the request body as application/json.", code="unsupported_media_type"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise _too_large(settings)
    body = bytearray()
    try:
        async for piece in request.stream():
            body += piece
            if len(body) > settings.max_body_bytes:
                raise _too_large(settings)
    except ClientDisconnect:
        raise bad_request("The client closed the request before sending the body.") from None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The body is not valid JSON: {exc.msg}.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object.")
    messages = data.get("messages")
    if isinstance(messages, list) and len(messages) > settings.max_messages:
        raise bad_request(
            f"Too many messages ({len(messages)}); the limit is {settings.max_messages}.",
            param="messages",
        )
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        param = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise bad_request(f"Invalid '{param}': {message}.", param=param) from None


def _too_large(settings: Settings) -> ProxyError:
    return ProxyError(
        413,
        f"The request body is larger than {settings.max_body_bytes} bytes.",
        code="request_too_large",
    )


async def until_disconnect(request: Request, work: Awaitable[T]) -> T | Response:
    """Await ``work``; if the client hangs up first, cancel it and answer 499 (nobody reads it).

    Waits on ``receive()`` for ``http.disconnect``: ``is_disconnected()`` was seen to stay
    False inside the LangGraph server after the client left.
    """
    task = asyncio.ensure_future(work)

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        return Response(status_code=499)
    return task.result()


@v1.post(
    "/chat/completions",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _REQUEST_SCHEMA}},
        }
    },
)
async def chat_completions(
    request: Request,
    upstream: Upstream = Depends(get_upstream),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Run the model's graph and answer as OpenAI would, streaming or not."""
    body = await read_request(request, settings)
    if body.n is not None and body.n != 1:
        raise bad_request("Only n=1 is supported.", param="n")
    model_id, assistant = await upstream.resolve(body.model)
    assistant_id = str(assistant["assistant_id"])
    messages = body.input_messages()
    schema = await upstream.input_schema(assistant_id)
    graph_input = build_input(messages, schema, settings.input_fields.get(model_id))

    completion = Completion(
        completion_id=f"chatcmpl-{secrets.token_hex(12)}",
        created=int(time.time()),
        model=model_id,
        progress=body.progress_mode or settings.progress_mode,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        prompt_tokens=estimate_prompt_tokens(messages),
        merge=settings.merge_deltas,
    )
    pump = RunPump(
        timeout=settings.run_timeout,
        progress=completion.progress,
        coalesce=upstream.pump_coalesce,
    )
    handed_over = False
    try:
        pump.start(
            upstream.stream_run(assistant_id, graph_input, body.context, pump.on_run_created)
        )
        # Until the server has accepted the run, failures are HTTP errors; after that, a
        # streaming client gets headers (and pings while the run is queued) at once.
        if body.stream:
            run_id = await until_disconnect(request, pump.created())
            if isinstance(run_id, Response):
                return run_id
            handed_over = True
            return SSEResponse(
                completion.stream(pump),
                ping_interval=settings.keepalive_interval,
                headers={**SSE_HEADERS, **_run_header(run_id)},
                on_close=pump.close,
            )
        result = await until_disconnect(request, _aggregate(completion, pump))
    finally:
        if not handed_over:
            pump.close()  # closing the SDK stream cancels the run upstream
    if isinstance(result, Response):
        return result
    run_id, payload = result
    response = json_response(payload)
    response.headers.update(_run_header(run_id))
    return response


async def _aggregate(completion: Completion, pump: RunPump) -> tuple[str | None, dict[str, Any]]:
    """The run id and the non-streaming body."""
    run_id = await pump.created()
    return run_id, await completion.aggregate(pump)


def _run_header(run_id: str | None) -> dict[str, str]:
    return {RUN_ID_HEADER: run_id} if run_id else {}


@v1.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def unknown_route(request: Request) -> Response:
    """Any other ``/v1`` path or method: OpenAI's 404 envelope, not Starlette's ``detail``."""
    raise ProxyError(404, f"Invalid URL ({request.method} {request.url.path})", code="unknown_url")
