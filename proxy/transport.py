"""The HTTP transport under the SDK client: aiohttp, reading a busy run stream in bursts.

A LangGraph server writes every custom event as its own HTTP chunk, so a fast run arrives one
small TCP segment at a time, and each costs a wake-up, a ``recv``, a parse and a hand-over on
the proxy's event loop. Once a read has handed over fresh data, this transport stops reading
the socket for ``hold`` seconds: the rest of the burst piles up in the kernel and comes back
as one read, one SDK parse loop, one client write. A read after a quiet spell is handed over
at once, so an event is never delayed unless another one was delivered within ``hold``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from aiohttp import ClientResponse
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions


class BurstStream(httpx.AsyncByteStream):
    """A response body read whole-buffer at a time, pausing the socket after fresh data."""

    def __init__(self, response: ClientResponse, hold: float) -> None:
        """Wrap an aiohttp response; ``hold`` 0 reads every segment as it comes."""
        self._response = response
        self._hold = hold

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield everything buffered at each read, then stop reading for ``hold``."""
        content = self._response.content
        hold = self._hold
        reads = 0
        with map_aiohttp_exceptions():
            while True:
                data = await content.readany()
                if not data:
                    return
                yield data
                reads += 1
                # the first read is the run's metadata: the first chunk is not held behind it
                if hold and reads > 1:
                    await self._pause(hold)

    async def _pause(self, hold: float) -> None:
        """Stop reading the socket for ``hold`` seconds (the kernel keeps what arrives).

        The transport is paused directly: aiohttp's ``protocol.pause_reading()`` also pauses
        its parser, which then hands over only the first HTTP chunk of the next read.
        """
        connection = self._response.connection
        protocol = connection.protocol if connection is not None else None
        transport = protocol.transport if protocol is not None else None
        if transport is None or transport.is_closing() or not transport.is_reading():
            await asyncio.sleep(hold)  # closed, or paused by aiohttp's own flow control
            return
        transport.pause_reading()
        try:
            await asyncio.sleep(hold)
        finally:
            if not transport.is_closing():
                transport.resume_reading()

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end)."""
        with map_aiohttp_exceptions():
            await self._response.__aexit__(None, None, None)


class BurstTransport(AiohttpTransport):
    """httpx-aiohttp's transport, with response bodies read as :class:`BurstStream`."""

    def __init__(self, *, hold: float, limits: httpx.Limits) -> None:
        """``hold``: seconds to stop reading a busy stream after fresh data (0 = never)."""
        super().__init__(limits=limits)  # never retries a connect
        self.hold = hold

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send with aiohttp; read an event stream in bursts, any other body as it comes."""
        response = await super().handle_async_request(request)
        aiohttp_response: ClientResponse = response.stream._aiohttp_response  # type: ignore[attr-defined]
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        response.stream = BurstStream(aiohttp_response, self.hold if streaming else 0.0)
        return response
