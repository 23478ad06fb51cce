"""Input schemas of assistants, cached: they decide how chat messages become a graph's input."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.settings import Settings
from proxy.upstream.errors import within

Schema = dict[str, Any]


class SchemaCache:
    """Assistant id -> input JSON schema, for ``schema_cache_ttl`` seconds."""

    def __init__(self, client: LangGraphClient, settings: Settings) -> None:
        """Start empty."""
        self.client = client
        self.settings = settings
        self._schemas: dict[str, tuple[float, Schema | None]] = {}
        self._fetches: dict[str, asyncio.Future[Schema | None]] = {}

    async def input_schema(self, assistant_id: str) -> Schema | None:
        """The assistant's input schema, or None if the graph declares none.

        One fetch per assistant at a time: requests that arrive while it is under way share
        it (a cold cache under load would otherwise fetch, and compile the graph, per request).
        """
        cached = self._schemas.get(assistant_id)
        if cached is not None and time.monotonic() - cached[0] <= self.settings.schema_cache_ttl:
            return cached[1]
        pending = self._fetches.get(assistant_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(assistant_id))
            self._fetches[assistant_id] = pending
            pending.add_done_callback(partial(self._fetched, assistant_id))
        # shielded: one requester leaving must not cancel the fetch the others wait for
        return await asyncio.shield(pending)

    def _fetched(self, assistant_id: str, fetch: asyncio.Future[Schema | None]) -> None:
        """Forget a finished fetch (its error, if any, went to whoever still waited)."""
        self._fetches.pop(assistant_id, None)
        if not fetch.cancelled():
            fetch.exception()  # retrieved, even if every requester had left

    async def _fetch(self, assistant_id: str) -> Schema | None:
        started = time.monotonic()
        schemas = await within(
            self.client.assistants.get_schemas(assistant_id), self.settings.request_timeout
        )
        schema = schemas.get("input_schema") if isinstance(schemas, dict) else None
        found = schema if isinstance(schema, dict) else None
        self._schemas[assistant_id] = (started, found)
        return found
