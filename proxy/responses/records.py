"""Stored responses, and the thread and checkpoint each one continues from.

They live in the LangGraph deployment's store, never in the proxy: any replica continues any
response, and a restart loses nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.upstream.errors import within

NAMESPACE = ["langgraph-openai-proxy", "responses"]


@dataclass(frozen=True)
class StoredResponse:
    """A response, the caller it belongs to, and where its thread stood when it ended."""

    caller: str
    assistant_id: str
    thread_id: str
    checkpoint: str
    interrupt: bool
    response: dict[str, Any]


class Responses:
    """The stored responses."""

    def __init__(self, client: LangGraphClient, timeout: float) -> None:
        """Read and write through ``client``, each call within ``timeout`` seconds."""
        self.client = client
        self.timeout = timeout

    async def get(self, response_id: str, caller: str) -> StoredResponse | None:
        """The response, if it was stored and belongs to ``caller`` (else None: not found)."""
        item = await within(self.client.store.get_item(NAMESPACE, response_id), self.timeout)
        value = item.get("value") if isinstance(item, dict) else None
        try:
            stored = StoredResponse(**value) if isinstance(value, dict) else None
        except TypeError:
            return None
        return stored if stored is not None and stored.caller == caller else None

    async def put(self, response_id: str, stored: StoredResponse) -> None:
        """Store a response."""
        put = self.client.store.put_item(NAMESPACE, response_id, asdict(stored), index=False)
        await within(put, self.timeout)
