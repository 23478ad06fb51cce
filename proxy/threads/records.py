"""Where a conversation's records live: the LangGraph deployment's own store, keyed by thread.

Nothing is kept in the proxy: any replica serves any turn, and a restart loses nothing. (Not in
thread metadata: the platform copies that into every checkpoint's metadata.)
"""

from __future__ import annotations

from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.threads.turns import Record
from proxy.upstream.errors import within

NAMESPACE = ["langgraph-openai-proxy", "threads"]


class Records:
    """The records of conversations' threads, in the store."""

    def __init__(self, client: LangGraphClient, timeout: float) -> None:
        """Read and write through ``client``, each call within ``timeout`` seconds."""
        self.client = client
        self.timeout = timeout

    async def load(self, thread_id: str) -> list[Record]:
        """The thread's records, oldest first (none if there are none, or they are unreadable)."""
        item = await within(self.client.store.get_item(NAMESPACE, thread_id), self.timeout)
        value = item.get("value") if isinstance(item, dict) else None
        raw = value.get("records") if isinstance(value, dict) else None
        records = [Record.from_json(r) for r in raw] if isinstance(raw, list) else []
        return [r for r in records if r is not None]

    async def save(self, thread_id: str, records: list[Record], about: dict[str, Any]) -> None:
        """Replace the thread's records; ``about`` names the conversation (never a key)."""
        value = {**about, "records": [r.to_json() for r in records]}
        put = self.client.store.put_item(NAMESPACE, thread_id, value, index=False)
        await within(put, self.timeout)
