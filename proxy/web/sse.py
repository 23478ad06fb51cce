"""Answering a client that may leave: the SSE response and the disconnect watch they share.

Both learn of a hang-up from ``receive()`` (``http.disconnect``): ``is_disconnected()`` was seen
to stay False inside the LangGraph server after the client left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

T = TypeVar("T")
PING = b": ping\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def disconnected(receive: Receive) -> None:
    """Return once the client has hung up."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(request: Request, work: Awaitable[T]) -> T | Response:
    """Await ``work``; if the client hangs up first, cancel it and answer 499 (nobody reads it)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(disconnected(request.receive))
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


class SSEResponse(Response):
    """A ``text/event-stream`` response of pre-encoded events.

    Each batch is one ``send`` (sse-starlette's EventSourceResponse takes a cancel scope and a
    lock per write). It keeps what matters from it: ``: ping`` comments after
    ``ping_interval`` seconds of silence, and it stops (closing the body, which cancels the
    run) as soon as the client disconnects.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        body: AsyncIterator[bytes],
        *,
        ping_interval: float,
        headers: Mapping[str, str] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """Keep the body iterator; headers are encoded once.

        ``on_close`` runs however the response ends, even if the body never started (a
        never-started generator runs no ``finally`` when closed).
        """
        self.body_iterator = body
        self.ping_interval = ping_interval
        self.on_close = on_close
        self.status_code = 200
        self.background = None
        self.init_headers({**SSE_HEADERS, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the body, ping when silent, stop when the client leaves."""
        try:
            await self._stream(receive, send)
        finally:
            if self.on_close is not None:
                self.on_close()

    async def _stream(self, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        last_write = loop.time()
        pings: set[asyncio.Future[None]] = set()
        timer: asyncio.TimerHandle | None = None

        async def write_body() -> None:
            nonlocal last_write
            async for data in self.body_iterator:
                await send({"type": "http.response.body", "body": data, "more_body": True})
                last_write = loop.time()
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        def forget(ping: asyncio.Future[None]) -> None:
            pings.discard(ping)
            if not ping.cancelled():
                ping.exception()  # a failed ping means the client left; the watcher says so

        def keep_alive() -> None:
            # a timer, not a task: a stream that is never silent costs no coroutine
            nonlocal last_write, timer
            if loop.time() - last_write >= self.ping_interval:
                ping = asyncio.ensure_future(
                    send({"type": "http.response.body", "body": PING, "more_body": True})
                )
                pings.add(ping)
                ping.add_done_callback(forget)
                last_write = loop.time()
            timer = loop.call_at(last_write + self.ping_interval, keep_alive)

        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        writer = asyncio.ensure_future(write_body())
        watcher = asyncio.ensure_future(disconnected(receive))
        timer = loop.call_at(last_write + self.ping_interval, keep_alive)
        try:
            await asyncio.wait((writer, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()  # the latest one: keep_alive replaces it each time
            tasks = (writer, watcher, *pings)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        if not writer.cancelled() and (error := writer.exception()) is not None:
            if not isinstance(error, OSError):
                raise error
