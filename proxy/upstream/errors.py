"""SDK and transport failures as the OpenAI errors a client should see, translated here once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import httpx
from langgraph_sdk.errors import APIConnectionError, APIStatusError

from proxy.web.errors import (
    ProxyError,
    bad_request,
    upstream_failed,
    upstream_timeout,
    upstream_unavailable,
)

T = TypeVar("T")


async def within(call: Awaitable[T], seconds: float) -> T:
    """``call``'s result within ``seconds``; any failure as the client should see it."""
    try:
        return await asyncio.wait_for(call, seconds)
    except Exception as exc:
        raise translate(exc) from exc


class RunError(Exception):
    """The run failed on the LangGraph server (an ``error`` event in its stream)."""

    def __init__(self, error_type: str, message: str) -> None:
        """Keep the platform's error type and message."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an SDK/httpx status error, else None."""
    if isinstance(exc, APIStatusError | httpx.HTTPStatusError) and exc.response is not None:
        return exc.response.status_code
    return None


def translate(exc: BaseException) -> ProxyError:
    """Map an SDK or transport failure to the error the OpenAI client should see."""
    if isinstance(exc, ProxyError):
        return exc
    if isinstance(exc, RunError):  # the graph ran: running it again is the client's call
        return upstream_failed(exc.message or "The run failed.", code=exc.error_type, retry=False)
    if isinstance(exc, httpx.ConnectTimeout):
        return upstream_unavailable()  # no answer to a connect: the server is unreachable
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return upstream_timeout()
    if isinstance(exc, APIStatusError | httpx.HTTPStatusError):
        status = status_of(exc) or 502
        detail = status_detail(exc)
        if status in (400, 422):
            return bad_request(f"The LangGraph server rejected the run: {detail}")
        if status == 404:
            return ProxyError(404, detail, code="model_not_found", param="model")
        if status in (401, 403):
            return upstream_failed("The LangGraph server rejected the proxy's credentials.")
        if status == 429:
            return ProxyError(429, "The LangGraph server is busy.", type="rate_limit_error")
        return upstream_failed(f"The LangGraph server answered {status}.")
    if isinstance(exc, httpx.TransportError | APIConnectionError | OSError):
        return upstream_unavailable()
    return upstream_failed("Unexpected failure talking to the LangGraph server.")


def status_detail(exc: BaseException) -> str:
    """The server's ``detail`` message, without echoing whole bodies."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])[:500]
    message = getattr(exc, "message", None) or str(exc)
    return str(message)[:500]
