"""The SDK's HTTP transport reads a busy stream in bursts, over a real socket.

A raw asyncio server plays the LangGraph server: it writes each SSE event as its own HTTP
chunk, with pauses chosen far from the transport's hold (milliseconds against a hold of a
second, or seconds of quiet), so the grouping asserted does not depend on machine speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx
import pytest

from proxy.upstream.transport import (
    BurstStream,
    BurstTransport,
    HoldingTransport,
    _pause_socket,
    _read_all,
)

HOLD = 1.0
"""The hold under test: far longer than the gaps inside a burst."""


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _serve(
    script: Sequence[tuple[float, bytes]], content_type: bytes = b"text/event-stream"
) -> tuple[asyncio.Server, int]:
    """A server that answers any request with ``script``: (delay before, event) pairs."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\n"
            b"transfer-encoding: chunked\r\n\r\n" % content_type
        )
        for delay, event in script:
            await asyncio.sleep(delay)
            writer.write(_chunk(event))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _reads(
    script: Sequence[tuple[float, bytes]],
    hold: float,
    content_type: bytes = b"text/event-stream",
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[bytes]:
    """What each read of the response body returned, through :class:`BurstTransport`."""
    server, port = await _serve(script, content_type)
    transport = transport or BurstTransport(hold=hold, limits=httpx.Limits(max_connections=4))
    try:
        async with (
            httpx.AsyncClient(transport=transport) as client,
            client.stream("GET", f"http://127.0.0.1:{port}/stream") as response,
        ):
            return [data async for data in response.aiter_raw()]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_burst_after_the_first_event_comes_back_as_one_read() -> None:
    script = [(0.0, b"meta\n"), (0.3, b"a\n")] + [(0.002, b"%d\n" % i) for i in range(10)]
    reads = await _reads(script, HOLD)
    # the metadata alone, the first event at once (nothing held behind or before it), then
    # everything that arrived during the hold in one read
    assert reads == [b"meta\n", b"a\n", b"".join(b"%d\n" % i for i in range(10))]


async def test_an_event_after_a_quiet_spell_is_its_own_read() -> None:
    script = [(0.0, b"meta\n"), (0.3, b"a\n"), (0.002, b"b\n"), (1.5, b"c\n")]
    assert await _reads(script, HOLD) == [b"meta\n", b"a\n", b"b\n", b"c\n"]


async def test_a_body_that_is_not_an_event_stream_is_never_held() -> None:
    script = [(0.0, b"[")] + [(0.05, b"%d," % i) for i in range(3)]
    assert await _reads(script, HOLD, b"application/json") == [b"[", b"0,", b"1,", b"2,"]


async def test_hold_zero_reads_every_event_as_it_comes() -> None:
    script = [(0.0, b"meta\n")] + [(0.05, b"%d\n" % i) for i in range(5)]
    assert await _reads(script, 0.0) == [b"meta\n"] + [b"%d\n" % i for i in range(5)]


class FakeTransport:
    """Enough of an asyncio transport to watch pause/resume."""

    def __init__(self, *, reading: bool = True, closing: bool = False) -> None:
        self.reading = reading
        self.closing = closing
        self.calls: list[str] = []

    def is_reading(self) -> bool:
        return self.reading

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.calls.append("pause")
        self.reading = False

    def resume_reading(self) -> None:
        self.calls.append("resume")
        self.reading = True


class FakeContent:
    def __init__(self, reads: list[bytes], on_read: Callable[[], None] = lambda: None) -> None:
        self.reads = reads
        self.on_read = on_read

    async def readany(self) -> bytes:
        self.on_read()
        return self.reads.pop(0) if self.reads else b""


class FakeResponse:
    def __init__(self, content: FakeContent, transport: FakeTransport | None) -> None:
        self.content = content
        protocol = type("Protocol", (), {"transport": transport})()
        self.connection = type("Connection", (), {"protocol": protocol})()


async def _drain(stream: BurstStream) -> list[bytes]:
    return [data async for data in stream]


def _aiohttp_like(response: FakeResponse, hold: float) -> BurstStream:
    """The stream BurstTransport makes of an aiohttp response."""

    async def close() -> None:
        pass

    return BurstStream(
        _read_all(response),  # type: ignore[arg-type]
        hold,
        lambda seconds: _pause_socket(response, seconds),  # type: ignore[arg-type]
        close,
        after_every_read=True,
    )


async def test_the_socket_is_paused_only_during_the_hold() -> None:
    transport = FakeTransport()
    states: list[bool] = []
    content = FakeContent([b"meta", b"a", b"b"], on_read=lambda: states.append(transport.reading))
    stream = _aiohttp_like(FakeResponse(content, transport), 0.001)
    assert await _drain(stream) == [b"meta", b"a", b"b"]
    assert transport.calls == ["pause", "resume", "pause", "resume"]  # after "a" and "b"
    assert all(states)  # every read happens with the socket read again


@pytest.mark.parametrize(
    "transport",
    [FakeTransport(reading=False), FakeTransport(closing=True), None],
    ids=["paused by aiohttp flow control", "closing", "no transport"],
)
async def test_a_socket_it_did_not_pause_is_left_alone(transport: FakeTransport | None) -> None:
    content = FakeContent([b"meta", b"a", b"b"])
    stream = _aiohttp_like(FakeResponse(content, transport), 0.001)
    assert await _drain(stream) == [b"meta", b"a", b"b"]
    assert transport is None or transport.calls == []


async def test_holding_transport_holds_a_burst_once_not_every_event() -> None:
    """In-process and on httpx's stack: one hold per fresh read, none for buffered events."""
    script = [(0.0, b"meta\n"), (0.3, b"a\n")] + [(0.002, b"%d\n" % i) for i in range(10)]
    transport = HoldingTransport(httpx.AsyncHTTPTransport(), HOLD)
    started = asyncio.get_running_loop().time()
    reads = await _reads(script, HOLD, transport=transport)
    elapsed = asyncio.get_running_loop().time() - started
    assert b"".join(reads) == b"".join(event for _, event in script)
    # the burst waited one hold after "a", not one per event (that would be 10 s)
    assert HOLD < elapsed < 3 * HOLD


async def test_burst_stream_pauses_only_after_fresh_reads() -> None:
    """A read served from a buffer is not held; one that waited is (but never the first)."""
    pauses: list[float] = []

    async def counting_pause(seconds: float) -> None:
        pauses.append(seconds)

    async def socket_like():
        # 3 reads of 4 pieces each: only the first piece of each read waits for the socket
        for read in range(3):
            await asyncio.sleep(0.001)
            for index in range(4):
                yield b"%d.%d " % (read, index)

    async def close() -> None:
        pass

    stream = BurstStream(socket_like(), 0.002, counting_pause, close, after_every_read=False)
    pieces = await _drain(stream)
    assert pieces == [b"%d.%d " % (r, i) for r in range(3) for i in range(4)]
    assert pauses == [0.002] * 2  # after the 2nd and 3rd fresh reads; the first is never held

    pauses.clear()
    stream = BurstStream(socket_like(), 0, counting_pause, close, after_every_read=False)
    assert len(await _drain(stream)) == 12
    assert pauses == []
