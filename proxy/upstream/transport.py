"""Reading a busy run stream in bursts: the one place the proxy holds off reading.

A LangGraph server writes every stream event as its own HTTP chunk, so a fast run arrives one
small piece at a time, and each costs a wake-up, a read, a parse and a hand-over. After a read
that brought fresh data, the body is not read again for ``hold`` seconds: the rest of the burst
piles up and comes back as one read, one SDK parse loop, one client write. A read after a quiet
spell is handed over at once, and the run's first read (its metadata) is never followed by a
hold, so an event is delayed only if another one was delivered within ``hold``.

Two ways to hold, one policy (:class:`BurstStream`):

* standalone on aiohttp (:class:`BurstTransport`), the socket itself is paused: the kernel
  keeps what arrives, and the next read takes all of it;
* in-process (mounted) and on httpx's own stack (:class:`HoldingTransport`), the body's
  iterator sleeps after a read that had to wait for data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from aiohttp import ClientResponse
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions


def is_event_stream(response: httpx.Response) -> bool:
    """Only run streams are held; model lists and schemas are read as they come."""
    return str(response.headers.get("content-type", "")).startswith("text/event-stream")


class BurstStream(httpx.AsyncByteStream):
    """A response body that holds off reading for ``hold`` seconds after fresh data."""

    def __init__(
        self,
        reads: AsyncIterator[bytes],
        hold: float,
        pause: Callable[[float], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        *,
        after_every_read: bool,
    ) -> None:
        """Hold with ``pause`` after every read, or only after a read that had to wait.

        ``after_every_read``: each read takes everything buffered (aiohttp's ``readany``), so
        every read is fresh; otherwise a read served from a queue is not, and is not held.
        """
        self._reads = reads
        self._hold = hold
        self._pause = pause
        self._close = close
        self._every = after_every_read

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield each read; hold before the next one after fresh data (never after the first)."""
        loop = asyncio.get_running_loop()
        hold, reads = self._hold, 0
        while True:
            # this marker runs only if the read below has to wait, i.e. the data is fresh
            waited: list[None] = []
            if not self._every:
                loop.call_soon(waited.append, None)
            try:
                data = await anext(self._reads)
            except StopAsyncIteration:
                return
            yield data
            reads += 1
            if hold and reads > 1 and (self._every or waited):
                await self._pause(hold)

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end)."""
        try:
            close_reads = getattr(self._reads, "aclose", None)
            if close_reads is not None:
                await close_reads()
        finally:
            await self._close()


class HoldingTransport(httpx.AsyncBaseTransport):
    """Any httpx transport, with run streams read as a :class:`BurstStream` that sleeps."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hold: float) -> None:
        """Wrap ``inner``; ``hold`` 0 reads every event as it comes."""
        self.inner = inner
        self.hold = hold

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send with ``inner``; hold an event stream's body after fresh data."""
        response = await self.inner.handle_async_request(request)
        if self.hold and is_event_stream(response):
            body = response.stream
            assert isinstance(body, httpx.AsyncByteStream)
            response.stream = BurstStream(
                aiter(body), self.hold, asyncio.sleep, body.aclose, after_every_read=False
            )
        return response

    async def aclose(self) -> None:
        """Close ``inner``."""
        await self.inner.aclose()


class BurstTransport(AiohttpTransport):
    """httpx-aiohttp's transport; a run stream's socket is paused for ``hold`` after a read."""

    def __init__(self, *, hold: float, limits: httpx.Limits) -> None:
        """``hold``: seconds to stop reading a busy stream after fresh data (0 = never)."""
        super().__init__(limits=limits)  # never retries a connect
        self.hold = hold

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send with aiohttp; read an event stream in bursts, any other body as it comes."""
        response = await super().handle_async_request(request)
        # httpx-aiohttp's body keeps the aiohttp response it reads from
        body: Any = response.stream
        aiohttp_response: ClientResponse = body._aiohttp_response
        hold = self.hold if is_event_stream(response) else 0.0

        async def close() -> None:
            with map_aiohttp_exceptions():
                await aiohttp_response.__aexit__(None, None, None)

        response.stream = BurstStream(
            _read_all(aiohttp_response),
            hold,
            lambda seconds: _pause_socket(aiohttp_response, seconds),
            close,
            after_every_read=True,
        )
        return response


async def _read_all(response: ClientResponse) -> AsyncIterator[bytes]:
    """Everything buffered at each read, until the body ends."""
    content = response.content
    with map_aiohttp_exceptions():
        while data := await content.readany():
            yield data


async def _pause_socket(response: ClientResponse, seconds: float) -> None:
    """Stop reading the socket for ``seconds`` (the kernel keeps what arrives).

    The transport is paused directly: aiohttp's ``protocol.pause_reading()`` also pauses its
    parser, which then hands over only the first HTTP chunk of the next read.
    """
    connection = response.connection
    protocol = connection.protocol if connection is not None else None
    transport = protocol.transport if protocol is not None else None
    if transport is None or transport.is_closing() or not transport.is_reading():
        await asyncio.sleep(seconds)  # closed, or paused by aiohttp's own flow control
        return
    transport.pause_reading()
    try:
        await asyncio.sleep(seconds)
    finally:
        if not transport.is_closing():
            transport.resume_reading()
