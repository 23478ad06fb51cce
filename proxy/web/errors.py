"""OpenAI error envelopes: ``{"error": {"message", "type", "param", "code"}}``, and JSON bodies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

logger = logging.getLogger("proxy")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response (non-ASCII left as is)."""
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


class ProxyError(Exception):
    """An error the client should see, with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Store the fields of the envelope."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The OpenAI ``ErrorResponse`` body."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> Response:
        """A JSON response carrying the envelope."""
        return json_response(self.body(), self.status, self.headers)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ProxyError:
    """400 ``invalid_request_error``."""
    return ProxyError(400, message, param=param, code=code)


def not_found(message: str, *, param: str | None = None, code: str | None = None) -> ProxyError:
    """404 ``invalid_request_error``."""
    return ProxyError(404, message, param=param, code=code)


def upstream_unavailable(message: str = "The LangGraph server is unreachable.") -> ProxyError:
    """503: the LangGraph server could not be reached."""
    return ProxyError(503, message, type="service_unavailable", code="upstream_unavailable")


NO_RETRY = {"x-should-retry": "false"}
"""Honoured by the openai SDKs (and what builds on them: LangChain, LiteLLM), which otherwise
retry every 5xx twice: a run that failed or timed out would run again, side effects and all."""


def upstream_failed(
    message: str, code: str = "upstream_error", *, retry: bool = True
) -> ProxyError:
    """502: the LangGraph server answered with an error, or the run failed."""
    return ProxyError(
        502, message, type="api_error", code=code, headers=None if retry else NO_RETRY
    )


def upstream_timeout(
    message: str = "The LangGraph server did not answer in time.", *, retry: bool = True
) -> ProxyError:
    """504: the LangGraph server or the run took too long."""
    return ProxyError(
        504, message, type="timeout", code="upstream_timeout", headers=None if retry else NO_RETRY
    )


def internal_error() -> ProxyError:
    """500: a bug in the proxy; the details go to the log, never to the client."""
    return ProxyError(
        500, "The proxy failed to handle the request.", type="server_error", code="internal_error"
    )


def as_proxy_error(exc: BaseException) -> ProxyError:
    """``exc`` if the client may see it; any other exception is a bug: logged, and a 500."""
    if isinstance(exc, ProxyError):
        return exc
    logger.error("Unhandled error", exc_info=exc)
    return internal_error()


class EnvelopeRoute(APIRoute):
    """A route that answers an unexpected exception with a 500 envelope, not a bare 500.

    Done per route rather than with an app-wide ``Exception`` handler: mounted in the
    LangGraph server, an app-wide handler would also take over the platform's own routes.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (ProxyError, HTTPException, RequestValidationError):
                raise
            except Exception:
                logger.exception("Unhandled error on %s %s", request.method, request.url.path)
                return internal_error().response()

        return guarded


async def proxy_error_handler(_: Request, exc: Exception) -> Response:
    """Render a ProxyError as its envelope."""
    assert isinstance(exc, ProxyError)
    return exc.response()


async def validation_error_handler(_: Request, exc: Exception) -> Response:
    """Turn FastAPI's 422 into OpenAI's 400 (only our routes are FastAPI routes)."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    loc = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return bad_request(first.get("msg", "Invalid request"), param=loc or None).response()
