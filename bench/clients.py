"""One stream of the bench graph, read the way each variant's users read it.

* ``direct``: ``langgraph-sdk`` ``runs.stream``, with the arguments the proxy itself sends
  (stateless run, its stream modes, ``stream_subgraphs=True``, ``on_disconnect="cancel"``).
* ``proxy`` / ``mounted``: the official ``openai`` SDK against the standalone proxy or the
  proxy mounted in the LangGraph server; the user message is the chunk count.
* ``proxy_raw`` / ``mounted_raw``: the same, read with plain ``httpx`` (no SDK): tells the
  proxy's own latency from the ``openai`` client's.

A chunk is one of the graph's chunks: a custom event or a token's ``messages`` event (direct),
or one ``"<i> "`` piece of the content (proxy, where the chunks of a burst may share one
``chat.completion.chunk``). ``bench`` writes custom chunks, ``bench-messages`` streams the
same numbers as a chat model's tokens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import orjson
from langgraph_sdk.client import LangGraphClient
from openai import AsyncOpenAI

from proxy.runs.start import STREAM_MODES

GRAPH = "bench"
MESSAGES_GRAPH = "bench-messages"
STREAM_TIMEOUT = 600.0
DIRECT_MAX_CONNECTIONS = 1024
"""The direct client's pool: large enough never to be the bottleneck (it is "the limit")."""

Kind = Literal["direct", "openai", "raw"]


@dataclass
class StreamResult:
    """What one stream did; times are ``perf_counter`` seconds."""

    start: float
    opened: float | None = None  # response headers (openai) / first event (direct)
    first: float | None = None
    last: float | None = None
    end: float | None = None
    chunks: int = 0
    error: str | None = None

    @property
    def ttfc(self) -> float | None:
        """Seconds from the request to the first chunk."""
        return None if self.first is None else self.first - self.start


@dataclass
class Target:
    """A variant under test: how to reach it and which processes to watch."""

    name: str
    kind: Kind
    url: str
    server_pid: int
    proxy_pid: int | None = None
    client: Any = field(default=None, repr=False)

    def open_client(self) -> None:
        """Create the SDK client (call inside the event loop)."""
        timeout = httpx.Timeout(STREAM_TIMEOUT, connect=10.0)
        if self.kind == "direct":
            limits = httpx.Limits(
                max_connections=DIRECT_MAX_CONNECTIONS, max_keepalive_connections=256
            )
            transport = httpx.AsyncHTTPTransport(limits=limits)
            http = httpx.AsyncClient(base_url=self.url, transport=transport, timeout=timeout)
            self.client = LangGraphClient(http)
        elif self.kind == "openai":
            # the SDK's own defaults (1000 connections), no retries: an error is an error
            self.client = AsyncOpenAI(base_url=self.url, api_key="unused", max_retries=0)
        else:
            limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
            self.client = httpx.AsyncClient(base_url=self.url, timeout=timeout, limits=limits)

    async def close_client(self) -> None:
        """Close the SDK client."""
        if self.client is not None:
            await (self.client.close() if self.kind == "openai" else self.client.aclose())
            self.client = None

    async def stream(
        self,
        chunks: int,
        context: dict[str, Any] | None = None,
        on_open: Callable[[], None] | None = None,
        graph: str = GRAPH,
    ) -> StreamResult:
        """Read one run of ``chunks`` chunks of ``graph`` to the end; never raises."""
        result = StreamResult(start=time.perf_counter())
        try:
            async with asyncio.timeout(STREAM_TIMEOUT):
                if self.kind == "direct":
                    await self._direct(result, chunks, context, on_open, graph)
                elif self.kind == "openai":
                    await self._openai(result, chunks, context, on_open, graph)
                else:
                    await self._raw(result, chunks, context, on_open, graph)
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            result.error = type(exc).__name__ + (f" {status}" if status else "")
        result.end = time.perf_counter()
        if result.error is None and result.chunks != chunks:
            result.error = f"incomplete ({result.chunks}/{chunks})"
        return result

    async def _direct(
        self,
        result: StreamResult,
        chunks: int,
        context: dict[str, Any] | None,
        on_open: Callable[[], None] | None,
        graph: str,
    ) -> None:
        parts = self.client.runs.stream(
            None,
            graph,
            input={"chunks": chunks},
            context=context,
            stream_mode=list(STREAM_MODES),
            stream_subgraphs=True,
            on_disconnect="cancel",
        )
        async for part in parts:
            event = part.event
            if event == "custom" or event.startswith("custom|"):
                _count(result)
            elif event == "messages" or event.startswith("messages|"):
                if part.data[0].get("content"):
                    _count(result)
            elif event == "error":
                result.error = "run error"
            elif result.opened is None:
                result.opened = time.perf_counter()
                if on_open is not None:
                    on_open()

    async def _openai(
        self,
        result: StreamResult,
        chunks: int,
        context: dict[str, Any] | None,
        on_open: Callable[[], None] | None,
        graph: str,
    ) -> None:
        stream = await self.client.chat.completions.create(
            model=graph,
            messages=[{"role": "user", "content": str(chunks)}],
            stream=True,
            extra_body={"context": context} if context else None,
        )
        result.opened = time.perf_counter()
        if on_open is not None:
            on_open()
        async with stream:
            async for chunk in stream:
                if chunk.choices and (text := chunk.choices[0].delta.content):
                    _count(result, text.count(" "))

    async def _raw(
        self,
        result: StreamResult,
        chunks: int,
        context: dict[str, Any] | None,
        on_open: Callable[[], None] | None,
        graph: str,
    ) -> None:
        body: dict[str, Any] = {
            "model": graph,
            "stream": True,
            "messages": [{"role": "user", "content": str(chunks)}],
        }
        if context:
            body["context"] = context
        async with self.client.stream("POST", "/chat/completions", json=body) as response:
            response.raise_for_status()
            result.opened = time.perf_counter()
            if on_open is not None:
                on_open()
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    choices = orjson.loads(line[6:]).get("choices")
                    if choices and (text := choices[0]["delta"].get("content")):
                        _count(result, text.count(" "))


def _count(result: StreamResult, chunks: int = 1) -> None:
    now = time.perf_counter()
    if result.first is None:
        result.first = now
    result.last = now
    result.chunks += chunks
