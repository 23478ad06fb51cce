"""Request bodies, read by hand: size limit, content type, JSON, item count, then the wire model.

Every failure is a 4xx envelope naming what was wrong; nothing here can be a 5xx.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from proxy.settings import Settings
from proxy.web.errors import ProxyError, bad_request

M = TypeVar("M", bound=BaseModel)


async def read_body(
    request: Request, settings: Settings, model: type[M], *, list_field: str | None = None
) -> M:
    """The body as ``model``; ``list_field`` (e.g. ``messages``) is held to ``max_messages``."""
    data = await read_json_object(request, settings)
    items = data.get(list_field) if list_field else None
    if isinstance(items, list) and len(items) > settings.max_messages:
        raise bad_request(
            f"Too many items in '{list_field}' ({len(items)}); "
            f"the limit is {settings.max_messages}.",
            param=list_field,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        param = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise bad_request(f"Invalid '{param}': {message}.", param=param) from None


async def read_json_object(request: Request, settings: Settings) -> dict[str, Any]:
    """The body as a JSON object, read no further than ``max_body_bytes``."""
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
    return data


def _too_large(settings: Settings) -> ProxyError:
    return ProxyError(
        413,
        f"The request body is larger than {settings.max_body_bytes} bytes.",
        code="request_too_large",
    )
