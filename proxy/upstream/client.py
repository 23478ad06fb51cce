"""The ``langgraph-sdk`` client: in-process when mounted, else pooled HTTP for load."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import orjson
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from proxy.settings import Settings
from proxy.upstream.transport import BurstTransport, HoldingTransport
from proxy.web.errors import upstream_unavailable


class InlineJSONExecutor(ThreadPoolExecutor):
    """The event loop's default executor, with orjson's encode and decode run in place.

    The SDK hands every request body to ``run_in_executor(None, orjson.dumps, ...)`` (and
    every JSON answer to ``orjson.loads``): a thread round trip for microseconds of work, on
    the path of every run's start. Everything else still goes to worker threads (e.g. DNS
    lookups, which block).
    """

    INLINE = (orjson.dumps, orjson.loads)
    COMPACT_BELOW = 4096
    """orjson writes into a 4 KiB buffer and returns it whole: a small body is copied out."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run orjson at once; anything else in a worker thread.

        A run's request body lives as long as its stream (httpx keeps the request), so a
        small one is copied to its own size.
        """
        if fn not in self.INLINE:
            return super().submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        try:
            result = fn(*args, **kwargs)
            if type(result) is bytes and len(result) < self.COMPACT_BELOW:
                result = bytes(memoryview(result))
            future.set_result(result)
        except Exception as exc:
            future.set_exception(exc)
        return future


def make_client(settings: Settings) -> LangGraphClient:
    """The SDK client: in-process when mounted, else a pooled HTTP client sized for load.

    The SDK's own default pool (100 connections, 5 s pool timeout) fails streams beyond
    100 concurrent ones, so the pool is sized from ``max_connections``. Under the SDK's
    httpx client sits aiohttp by default: its C HTTP parser reads a run's stream for less
    CPU than httpcore/h11. Every transport reads a busy run in bursts (:mod:`.transport`).
    """
    hold = settings.coalesce_ms / 1000
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        # no socket read timeout: every call has its own deadline (request_timeout, or the run
        # timeout in the pump), and a per-read timer costs CPU on every streamed event
        read=None,
        write=settings.request_timeout,
        pool=settings.connect_timeout,
    )
    if not settings.langgraph_url:
        parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        client = get_client(url=None, api_key=None, timeout=parts)
        # the in-process ASGI transport the SDK chose; httpx has no public accessor for it
        http = client.http.client
        http._transport = HoldingTransport(http._transport, hold)
        return client
    headers = {"User-Agent": "langgraph-openai-proxy"}
    if settings.langgraph_api_key is not None:
        headers["x-api-key"] = settings.langgraph_api_key.get_secret_value()
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=min(settings.max_connections, 256),
    )
    transport: httpx.AsyncBaseTransport
    if settings.upstream_transport == "aiohttp":
        transport = BurstTransport(hold=hold, limits=limits)
    else:
        # no connect retry: an unreachable server is a 503 within connect_timeout, not twice it
        transport = HoldingTransport(httpx.AsyncHTTPTransport(retries=0, limits=limits), hold)
    http = httpx.AsyncClient(
        base_url=settings.langgraph_url.rstrip("/"),
        transport=transport,
        timeout=timeout,
        headers=headers,
        event_hooks={"request": [_refuse_rejoin]},
    )
    return LangGraphClient(http)


async def _refuse_rejoin(request: httpx.Request) -> None:
    """Stop the SDK from rejoining a run's stream after the connection broke.

    A run's stream is cancelled when it drops, so there is nothing to rejoin: the SDK's
    retries (about 20 s of backoff) would only delay the client's error, and against a
    restarted server they end in a misleading 404.
    """
    if request.method == "GET" and request.url.path.endswith("/stream"):
        raise upstream_unavailable("The connection to the LangGraph server broke during the run.")
