"""The OpenAI client as users hold it, and what a completion looked like to it, delta by delta."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

MARKER = "restarted"
"""What the delta that announces a restarted run says (the lead's rule, see test_retries.py)."""
RUN_ID_HEADER = "x-langgraph-run-id"
THREAD_ID_HEADER = "x-langgraph-thread-id"


def client(base_url: str) -> AsyncOpenAI:
    """The official SDK, no retries (an error is an error), a generous timeout."""
    return AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)


@dataclass
class Delta:
    """One ``chat.completion.chunk``'s choice as the SDK parsed it."""

    content: str
    reasoning: str
    finish: str | None


@dataclass
class Streamed:
    """A streamed completion: response headers, then every delta, in order."""

    headers: Mapping[str, str]
    deltas: list[Delta] = field(default_factory=list)

    @property
    def content(self) -> str:
        """The answer text, all of it."""
        return "".join(delta.content for delta in self.deltas)

    @property
    def reasoning(self) -> str:
        """The thinking text, all of it."""
        return "".join(delta.reasoning for delta in self.deltas)

    @property
    def finishes(self) -> list[str]:
        """Every ``finish_reason`` sent."""
        return [delta.finish for delta in self.deltas if delta.finish]

    @property
    def run_id(self) -> str:
        """The run the proxy started (``X-LangGraph-Run-Id``)."""
        return self.headers[RUN_ID_HEADER]


async def stream(
    base_url: str,
    model: str,
    messages: list[dict[str, Any]],
    *,
    context: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    on_delta: Callable[[Streamed], Awaitable[None]] | None = None,
) -> Streamed:
    """Stream one completion to the end; ``on_delta`` sees the record after every delta."""
    body: dict[str, Any] = {}
    if context is not None:
        body["context"] = context
    response = await client(base_url).chat.completions.with_raw_response.create(
        model=model,
        messages=messages,  # type: ignore[arg-type]
        stream=True,
        metadata=metadata,
        extra_body=body or None,
    )
    record = Streamed(response.headers)
    async for chunk in cast(AsyncStream[ChatCompletionChunk], response.parse()):
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        extra = choice.delta.model_extra or {}
        record.deltas.append(
            Delta(
                choice.delta.content or "",
                extra.get("reasoning_content") or "",
                choice.finish_reason,
            )
        )
        if on_delta is not None:
            await on_delta(record)
    return record


async def complete(
    base_url: str,
    model: str,
    messages: list[dict[str, Any]],
    *,
    context: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> tuple[Mapping[str, str], ChatCompletion]:
    """One completion, not streamed: the response headers and the parsed completion."""
    response = await client(base_url).chat.completions.with_raw_response.create(
        model=model,
        messages=messages,  # type: ignore[arg-type]
        metadata=metadata,
        extra_body={"context": context} if context is not None else None,
    )
    return response.headers, response.parse()
