"""The LangGraph server as the proxy sees it, through ``langgraph-sdk`` only.

:class:`Upstream` holds the parts each request needs: the SDK client, the model catalogue and
the input-schema cache. Runs are started by :mod:`proxy.runs`.
"""

from __future__ import annotations

import asyncio

from langgraph_sdk.client import LangGraphClient

from proxy.settings import Settings
from proxy.upstream.catalog import Catalog, Model
from proxy.upstream.client import make_client
from proxy.upstream.schemas import SchemaCache

__all__ = ["Catalog", "Model", "SchemaCache", "Upstream"]


class Upstream:
    """One LangGraph server: its client, models and schemas."""

    def __init__(self, settings: Settings, client: LangGraphClient | None = None) -> None:
        """Create (or adopt, in unit tests) the SDK client; caches start empty."""
        self.settings = settings
        self.client = client or make_client(settings)
        self.catalog = Catalog(self.client, settings)
        self.schemas = SchemaCache(self.client, settings)

    async def ready(self) -> bool:
        """Whether the LangGraph server answers its health check."""
        try:
            await asyncio.wait_for(
                self.client.http.get("/ok"), min(self.settings.request_timeout, 5.0)
            )
        except Exception:
            return False
        return True

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.http.client.aclose()
