"""Answering with a run: a stream once the run is accepted, or one body once it has ended.

Until the server has accepted the run, failures are HTTP errors; after that, a streaming
client gets headers (and pings while the run is queued) at once. A client that hangs up at
any point cancels the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from fastapi import Request
from starlette.responses import Response

from proxy.web.errors import json_response
from proxy.web.sse import SSEResponse, until_disconnect

RUN_ID_HEADER = "X-LangGraph-Run-Id"
"""Names the LangGraph run behind a response (for logs, tracing and support)."""


class Run(Protocol):
    """What answering needs of a run (:class:`proxy.runs.pump.RunPump`)."""

    async def created(self) -> str | None:
        """The run id, once the server accepted the run."""

    def close(self) -> None:
        """Stop the run if it is still going."""


async def respond(
    request: Request,
    run: Run,
    *,
    stream: bool,
    events: Callable[[], AsyncIterator[bytes]],
    body: Callable[[], Awaitable[Any]],
    keepalive: float,
    headers: dict[str, str] | None = None,
) -> Response:
    """Answer with ``events()`` as SSE, or with ``body()`` as JSON; the run closes either way."""
    handed_over = False
    try:
        run_id = await until_disconnect(request, run.created())
        if isinstance(run_id, Response):
            return run_id
        out = {**(headers or {}), **({RUN_ID_HEADER: run_id} if run_id else {})}
        if stream:
            handed_over = True
            return SSEResponse(events(), ping_interval=keepalive, headers=out, on_close=run.close)
        payload = await until_disconnect(request, body())
    finally:
        if not handed_over:
            run.close()  # closing the SDK stream cancels the run upstream
    if isinstance(payload, Response):
        return payload
    return json_response(payload, headers=out)
