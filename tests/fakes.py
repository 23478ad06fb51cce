"""A fake LangGraph SDK client for unit tests: scripted assistants, schemas and run streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from langgraph_sdk.schema import StreamPart

UP_DOWN_SCHEMA = {
    "type": "object",
    "properties": {"input": {"type": "integer"}},
    "required": ["input"],
}
MESSAGES_SCHEMA = {
    "type": "object",
    "properties": {"messages": {"type": "array", "items": {"type": "object"}}},
    "required": ["messages"],
}


def assistant(name: str, index: int) -> dict[str, Any]:
    return {
        "assistant_id": f"00000000-0000-0000-0000-{index:012d}",
        "graph_id": name,
        "name": name,
        "created_at": "2026-01-01T00:00:00+00:00",
    }


class FakeAssistants:
    def __init__(self, client: FakeClient) -> None:
        self.client = client

    async def search(self, limit: int = 10, offset: int = 0, **_: Any) -> list[dict[str, Any]]:
        self.client.calls.append("search")
        if self.client.fail is not None:
            raise self.client.fail
        return self.client.assistants_list[offset : offset + limit]

    async def get(self, assistant_id: str) -> dict[str, Any]:
        for item in self.client.assistants_list:
            if item["assistant_id"] == assistant_id:
                return item
        request = httpx.Request("GET", f"http://fake/assistants/{assistant_id}")
        from langgraph_sdk.errors import NotFoundError

        raise NotFoundError(
            "not found", response=httpx.Response(404, request=request), body={"detail": "not found"}
        )

    async def get_schemas(self, assistant_id: str) -> dict[str, Any]:
        self.client.calls.append(f"schemas:{assistant_id}")
        name = next(
            a["name"] for a in self.client.assistants_list if a["assistant_id"] == assistant_id
        )
        return {"input_schema": self.client.schemas.get(name)}


class FakeRuns:
    def __init__(self, client: FakeClient) -> None:
        self.client = client

    def stream(self, thread_id: Any, assistant_id: str, **kwargs: Any) -> AsyncIterator[StreamPart]:
        self.client.runs_started.append({"assistant_id": assistant_id, **kwargs})
        return self.client.script(kwargs)


class FakeHttp:
    def __init__(self, client: FakeClient) -> None:
        self.client = httpx.AsyncClient()
        self.owner = client

    async def get(self, path: str) -> Any:
        if self.owner.fail is not None:
            raise self.owner.fail
        return {"ok": True}


class FakeClient:
    """Stands in for ``LangGraphClient``; ``script`` makes each run's event stream."""

    def __init__(
        self,
        events: list[tuple[str, Any]] | None = None,
        *,
        script: Callable[[dict[str, Any]], AsyncIterator[StreamPart]] | None = None,
    ) -> None:
        self.assistants_list = [assistant("up-down-game", 1), assistant("chat", 2)]
        self.schemas: dict[str, Any] = {"up-down-game": UP_DOWN_SCHEMA, "chat": MESSAGES_SCHEMA}
        self.calls: list[str] = []
        self.runs_started: list[dict[str, Any]] = []
        self.fail: BaseException | None = None
        self.closed_streams = 0
        self.events = events or []
        self.script = script or self._default_script
        self.assistants = FakeAssistants(self)
        self.runs = FakeRuns(self)
        self.http = FakeHttp(self)

    async def _default_script(self, _: dict[str, Any]) -> AsyncIterator[StreamPart]:
        try:
            yield StreamPart("metadata", {"run_id": "run-1"})
            for event, data in self.events:
                yield StreamPart(event, data)
        finally:
            self.closed_streams += 1
