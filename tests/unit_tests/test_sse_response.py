"""SSEResponse: keep-alive pings on silence, and a prompt stop when the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from proxy.web.sse import PING, SSEResponse


class Client:
    """Records what the response sends; ``leave()`` makes receive() report a disconnect."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.gone = asyncio.Event()

    async def send(self, message: dict) -> None:
        self.messages.append(message)

    async def receive(self) -> dict:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


async def test_headers_body_and_end() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        yield b"data: 2\n\n"

    client = Client()
    await SSEResponse(body(), ping_interval=10, headers={"X-Accel-Buffering": "no"})(
        {"type": "http"}, client.receive, client.send
    )
    start = client.messages[0]
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert headers[b"x-accel-buffering"] == b"no"
    assert client.bodies() == [b"data: 1\n\n", b"data: 2\n\n", b""]
    assert client.messages[-1]["more_body"] is False


async def test_pings_only_while_silent() -> None:
    release = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        await release.wait()
        yield b"data: last\n\n"

    client = Client()
    task = asyncio.ensure_future(
        SSEResponse(body(), ping_interval=0.05)({"type": "http"}, client.receive, client.send)
    )
    await asyncio.sleep(0.28)
    release.set()
    await task
    bodies = client.bodies()
    assert bodies[0] == b"data: first\n\n" and bodies[-2:] == [b"data: last\n\n", b""]
    pings = bodies[1:-2]
    assert pings and set(pings) == {PING} and PING == b": ping\n\n"
    assert 2 <= len(pings) <= 6


async def test_disconnect_stops_and_closes_the_body() -> None:
    closed = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"data: 1\n\n"
            await asyncio.sleep(60)
            yield b"never"
        finally:
            closed.set()

    client = Client()
    task = asyncio.ensure_future(
        SSEResponse(body(), ping_interval=10)({"type": "http"}, client.receive, client.send)
    )
    await asyncio.sleep(0.05)
    client.gone.set()
    await asyncio.wait_for(task, 2)
    assert closed.is_set()
    assert b"never" not in client.bodies()
