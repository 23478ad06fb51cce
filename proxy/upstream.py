"""Everything the proxy asks of the LangGraph server, through ``langgraph-sdk`` only.

Assistants become models, input schemas are cached, runs are streamed in ``custom`` mode,
and SDK/HTTP failures are translated into OpenAI error envelopes here, once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

import httpx
import orjson
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIConnectionError, APIStatusError
from langgraph_sdk.schema import StreamPart

from proxy.errors import (
    ProxyError,
    bad_request,
    upstream_failed,
    upstream_timeout,
    upstream_unavailable,
)
from proxy.settings import Settings
from proxy.transport import BurstTransport

logger = logging.getLogger("proxy.upstream")

MODELS_PAGE = 1000
MIN_REFRESH_INTERVAL = 1.0
"""An unknown model name refreshes the model list at most this often."""


class InlineJSONExecutor(ThreadPoolExecutor):
    """The event loop's default executor, with orjson's encode and decode run in place.

    The SDK hands every request body to ``run_in_executor(None, orjson.dumps, ...)`` (and
    every JSON answer to ``orjson.loads``): a thread round trip of about 0.2 ms for
    microseconds of work, on the path of every run's start. Everything else still goes to
    worker threads (e.g. DNS lookups, which block).
    """

    INLINE = (orjson.dumps, orjson.loads)
    COMPACT_BELOW = 4096
    """orjson writes into a 4 KiB buffer and returns it whole: a small body is copied out."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run orjson at once; anything else in a worker thread.

        A run's request body lives as long as its stream (httpx keeps the request), so a
        small one is copied to its own size: 4 KiB less per open stream.
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


def reads_in_bursts(settings: Settings) -> bool:
    """Whether :func:`make_client` reads runs through :class:`BurstTransport` (aiohttp, HTTP).

    In-process (mounted) and on httpx's own stack, the pump holds a busy stream instead.
    """
    return bool(settings.langgraph_url) and settings.upstream_transport == "aiohttp"


def make_client(settings: Settings) -> LangGraphClient:
    """The SDK client: in-process when mounted, else a pooled HTTP client sized for load.

    The SDK's own default pool (100 connections, 5 s pool timeout) fails streams beyond
    100 concurrent ones, so the pool is sized from ``max_connections``. Under the SDK's
    httpx client sits aiohttp by default: its C HTTP parser reads a run's stream for about
    half the CPU of httpcore/h11, which parse every SSE event as its own HTTP chunk in
    Python, and it reads a busy run in bursts (:mod:`proxy.transport`; README "Benchmark").
    """
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        # no socket read timeout: every call has its own deadline (request_timeout, or the run
        # timeout in the pump), and a per-read timer costs ~6 µs per streamed event (aiohttp)
        read=None,
        write=settings.request_timeout,
        pool=settings.connect_timeout,
    )
    if not settings.langgraph_url:
        return get_client(url=None, api_key=None, timeout=timeout)
    headers = {"User-Agent": "langgraph-openai-proxy"}
    if settings.langgraph_api_key is not None:
        headers["x-api-key"] = settings.langgraph_api_key.get_secret_value()
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=min(settings.max_connections, 256),
    )
    transport: httpx.AsyncBaseTransport
    if reads_in_bursts(settings):
        transport = BurstTransport(hold=settings.coalesce_ms / 1000, limits=limits)
    else:
        # no connect retry: an unreachable server is a 503 within connect_timeout, not twice it
        transport = httpx.AsyncHTTPTransport(retries=0, limits=limits)
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

    The proxy's runs are stateless and cancelled when their stream drops, so there is
    nothing to rejoin: the SDK's retries (about 20 s of backoff) would only delay the
    client's error, and against a restarted server they end in a misleading 404.
    """
    if request.method == "GET" and request.url.path.endswith("/stream"):
        raise upstream_unavailable("The connection to the LangGraph server broke during the run.")


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
        status = exc.response.status_code if exc.response is not None else 502
        detail = _status_detail(exc)
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


def _models_error(exc: BaseException) -> ProxyError:
    """A failed model-list load; a 404 there means a wrong URL, not an unknown model."""
    if isinstance(exc, APIStatusError | httpx.HTTPStatusError) and (
        exc.response is not None and exc.response.status_code == 404
    ):
        return upstream_failed(
            "The LangGraph server has no assistants API at this URL (404): check LANGGRAPH_URL."
        )
    return translate(exc)


def _status_detail(exc: BaseException) -> str:
    """The server's ``detail`` message, without echoing whole bodies."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"][:500]
    message = getattr(exc, "message", None) or str(exc)
    return str(message)[:500]


def _timestamp(value: Any) -> int:
    """An assistant's ``created_at`` (ISO string or datetime) as Unix seconds."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return 0


class RunError(Exception):
    """The run failed on the LangGraph server (an ``error`` event in its stream)."""

    def __init__(self, error_type: str, message: str) -> None:
        """Keep the platform's error type and message."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class Upstream:
    """The LangGraph server as the proxy sees it: models, schemas and runs."""

    def __init__(self, settings: Settings, client: LangGraphClient | None = None) -> None:
        """Create (or adopt) the SDK client; caches start empty."""
        self.settings = settings
        self.client = client or make_client(settings)
        bursts = client is None and reads_in_bursts(settings)
        self.pump_coalesce = 0.0 if bursts else settings.coalesce_ms / 1000
        """Seconds the pump pauses after fresh data: 0 when the transport holds bursts itself."""
        self._models: dict[str, dict[str, Any]] = {}
        self._by_uuid: dict[str, dict[str, Any]] = {}
        self._models_at = float("-inf")
        self._models_lock = asyncio.Lock()
        self._models_failed: tuple[float, ProxyError] | None = None
        self._schemas: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._schema_fetches: dict[str, asyncio.Future[dict[str, Any] | None]] = {}

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.http.client.aclose()

    async def _load_models(self) -> None:
        """Fetch every assistant; the first assistant with a given name names the model."""
        assistants: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.client.assistants.search(limit=MODELS_PAGE, offset=offset)
            assistants.extend(page)
            if len(page) < MODELS_PAGE:
                break
            offset += MODELS_PAGE
        models: dict[str, dict[str, Any]] = {}
        for assistant in sorted(assistants, key=lambda a: str(a.get("created_at", ""))):
            name = assistant.get("name") or assistant.get("graph_id")
            if name:
                models.setdefault(str(name), assistant)
        self._models = models
        self._by_uuid = {str(a["assistant_id"]): a for a in assistants}
        self._models_at = time.monotonic()

    async def models(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """Model id -> assistant, refreshed after ``models_cache_ttl`` seconds."""
        stale = time.monotonic() - self._models_at > self.settings.models_cache_ttl
        if refresh or stale:
            asked = time.monotonic()
            async with self._models_lock:
                failed = self._models_failed
                if failed is not None and failed[0] >= asked:
                    # the load this request queued behind just failed: share its error rather
                    # than wait out another connect timeout per queued request
                    raise failed[1]
                age = time.monotonic() - self._models_at
                if (refresh and age > MIN_REFRESH_INTERVAL) or (
                    age > self.settings.models_cache_ttl
                ):
                    try:
                        await asyncio.wait_for(self._load_models(), self.settings.request_timeout)
                    except Exception as exc:
                        error = _models_error(exc)
                        self._models_failed = (time.monotonic(), error)
                        raise error from exc
        return self._models

    async def resolve(self, model: str) -> tuple[str, dict[str, Any]]:
        """The model id and assistant for ``model`` (a name, graph id or assistant UUID)."""
        for refresh in (False, True):
            models = await self.models(refresh=refresh)
            if model in models:
                return model, models[model]
            if model in self._by_uuid:
                assistant = self._by_uuid[model]
                return str(assistant.get("name") or assistant["graph_id"]), assistant
        if _is_uuid(model):
            try:
                assistant = await asyncio.wait_for(
                    self.client.assistants.get(model), self.settings.request_timeout
                )
            except APIStatusError as exc:
                if exc.response is None or exc.response.status_code != 404:
                    raise translate(exc) from exc
            except Exception as exc:
                raise translate(exc) from exc
            else:
                return str(assistant.get("name") or assistant["graph_id"]), dict(assistant)
        raise ProxyError(
            404,
            f"The model '{model}' does not exist. GET /v1/models lists the graphs served.",
            param="model",
            code="model_not_found",
        )

    def model_entry(self, model_id: str, assistant: dict[str, Any]) -> tuple[str, int]:
        """The ``(id, created)`` of an OpenAI model for an assistant."""
        return model_id, _timestamp(assistant.get("created_at"))

    async def input_schema(self, assistant_id: str) -> dict[str, Any] | None:
        """The assistant's input JSON schema (cached), or None if the graph declares none.

        One fetch per assistant at a time: requests that arrive while it is under way share
        it (a cold cache under load would otherwise fetch, and compile the graph, per request).
        """
        cached = self._schemas.get(assistant_id)
        if cached is not None and time.monotonic() - cached[0] <= self.settings.schema_cache_ttl:
            return cached[1]
        pending = self._schema_fetches.get(assistant_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_schema(assistant_id))
            self._schema_fetches[assistant_id] = pending
            pending.add_done_callback(partial(self._fetched, assistant_id))
        # shielded: one requester leaving must not cancel the fetch the others wait for
        return await asyncio.shield(pending)

    def _fetched(self, assistant_id: str, fetch: asyncio.Future[Any]) -> None:
        """Forget a finished fetch (its error, if any, went to whoever still waited)."""
        self._schema_fetches.pop(assistant_id, None)
        if not fetch.cancelled():
            fetch.exception()  # retrieved, even if every requester had left

    async def _fetch_schema(self, assistant_id: str) -> dict[str, Any] | None:
        """Fetch and cache one input schema."""
        started = time.monotonic()
        try:
            schemas = await asyncio.wait_for(
                self.client.assistants.get_schemas(assistant_id), self.settings.request_timeout
            )
        except Exception as exc:
            raise translate(exc) from exc
        schema = schemas.get("input_schema") if isinstance(schemas, dict) else None
        self._schemas[assistant_id] = (started, schema if isinstance(schema, dict) else None)
        return self._schemas[assistant_id][1]

    async def ready(self) -> bool:
        """Whether the LangGraph server answers its health check."""
        try:
            await asyncio.wait_for(
                self.client.http.get("/ok"), min(self.settings.request_timeout, 5.0)
            )
        except Exception:
            return False
        return True

    def stream_run(
        self,
        assistant_id: str,
        graph_input: dict[str, Any],
        context: dict[str, Any] | None,
        on_created: Callable[[str | None], None],
    ) -> AsyncIterator[StreamPart]:
        """A stateless run streamed in custom mode; it is cancelled if we stop reading.

        ``on_created`` gets the run id as soon as the server has accepted the run (its
        response headers), which for a queued run is long before its first event.
        """
        return self.client.runs.stream(
            None,
            assistant_id,
            input=graph_input,
            context=context,
            stream_mode="custom",
            stream_subgraphs=True,
            on_disconnect="cancel",
            on_run_created=lambda created: on_created(str(created["run_id"])),
        )


def _is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (the platform's assistant ids)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
