"""A load graph: streams N numbered chunks as fast as it can.

Used by the benchmark (``make bench``) and the reliability tests, never by end users. The
per-run context can also make it fall silent or fail half-way, to exercise keep-alives,
timeouts and mid-stream errors through the proxy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from langchain_core.messages import HumanMessage
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import NotRequired, TypedDict

from agent.stream import answer, progress
from harness.graphs.models import NumberedTokens

MAX_CHUNKS = 1_000_000


@dataclass
class Context:
    """Per-run knobs for fault injection.

    Attributes:
        silence: Seconds to stay silent, once ``silence_after`` chunks are written.
        silence_after: Chunks to write before the silence (0 = silent from the start; at
            the end if the run has fewer chunks).
        fail_after: Raise ``RuntimeError`` after this many chunks (``None`` = never).
        progress_every: Also write a progress line every this many chunks (0 = never).

    """

    silence: float = 0.0
    silence_after: int = 0
    fail_after: int | None = None
    progress_every: int = 0


class InputState(TypedDict):
    """How many chunks to stream."""

    chunks: int


class State(InputState):
    """Input plus the number of chunks written."""

    written: NotRequired[int]


async def emit(state: State, runtime: Runtime[Context]) -> dict[str, int]:
    """Write chunks ``"0 "``, ``"1 "``, ... with no pacing."""
    ctx = runtime.context if isinstance(runtime.context, Context) else Context()
    total = state["chunks"]
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_CHUNKS:
        raise ValueError(f"chunks must be an integer from 0 to {MAX_CHUNKS}")
    silent_at = min(max(ctx.silence_after, 0), total) if ctx.silence > 0 else -1
    for index in range(total):
        if index == silent_at:
            await asyncio.sleep(ctx.silence)
        if ctx.fail_after is not None and index == ctx.fail_after:
            raise RuntimeError(f"bench graph failed on purpose after {index} chunks")
        if ctx.progress_every and index % ctx.progress_every == 0:
            progress(f"chunk {index}\n")
        answer(f"{index} ")
        if index % 256 == 255:
            await asyncio.sleep(0)  # let the server flush and stay responsive
    if silent_at == total:
        await asyncio.sleep(ctx.silence)
    return {"written": total}


graph = (
    StateGraph(State, context_schema=Context, input_schema=InputState)
    .add_node(emit)
    .add_edge(START, "emit")
    .compile(name="bench")
)


async def emit_tokens(state: State) -> dict[str, int]:
    """Stream ``chunks`` numbered tokens through a chat model (``messages`` mode)."""
    total = state["chunks"]
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_CHUNKS:
        raise ValueError(f"chunks must be an integer from 0 to {MAX_CHUNKS}")
    await NumberedTokens().ainvoke([HumanMessage(content="count")], tokens=total)
    return {"written": total}


messages_graph = (
    StateGraph(State, input_schema=InputState)
    .add_node(emit_tokens)
    .add_edge(START, "emit_tokens")
    .compile(name="bench-messages")
)
"""The same load through a LangChain chat model's tokens: what any agent streams."""
