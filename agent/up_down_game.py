"""The up-down game: draw random numbers until one falls below the user's number.

The reference graph for the custom-chunk contract: every draw is streamed as a progress line,
then the answer is streamed in pieces the way an LLM streams tokens, and stored in
``response`` so that a non-streaming call (``runs.wait``, ``invoke``) gets it too.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import NotRequired, TypedDict

from agent.stream import answer, progress

MAX_DRAWS_CEILING = 10_000
"""Hard ceiling for ``max_draws``; LangGraph's default recursion limit (10,007) sits above it."""


@dataclass
class Context:
    """Per-run settings, passed as the run's ``context`` (Studio shows them as a form).

    Attributes:
        locale: ``"ko"`` (the original wording) or ``"en"``.
        pace: Factor on the LLM-like delays; 1 = the original pacing, 0 = no delay.
        seed: Makes a run reproducible; ``None`` draws from system entropy.
        max_draws: Upper bound on draws, so that no input can loop forever.

    """

    locale: Literal["ko", "en"] = "ko"
    pace: float = 1.0
    seed: int | None = None
    max_draws: int = 1000


class InputState(TypedDict):
    """What a caller sends: one integer."""

    input: int


class State(InputState):
    """The whole state of a run."""

    count: NotRequired[int]
    value: NotRequired[int | None]
    progress: NotRequired[str]
    response: NotRequired[str]


class Wording(TypedDict):
    """One locale's lines (``input``, ``draw``) and answers, in the pieces they stream as."""

    input: str
    draw: str
    negative: list[str]
    done: list[str]
    limit: list[str]


WORDING: dict[str, Wording] = {
    "ko": {
        "input": "사용자의 입력 : {input}\n",
        "draw": "임의의 숫자 생성 ({count}회차) : {value}\n",
        "negative": ["사용자가 ", "입력한 ", "{input}", "은(는) ", "0보다", " ", "작습니다."],
        "done": ["{count} ", "번 ", "반복 ", "실행됐", "습니다."],
        "limit": ["최대 ", "{count}번 ", "반복했지만 ", "조건을 ", "만족하지 ", "못했습니다."],
    },
    "en": {
        "input": "User input: {input}\n",
        "draw": "Random number (draw {count}): {value}\n",
        "negative": ["You ", "entered ", "{input}", ", which ", "is less ", "than ", "0."],
        "done": ["Finished ", "after ", "{count} ", "draw", "(s)."],
        "limit": ["Stopped ", "after ", "{count} ", "draws ", "without ", "a result."],
    },
}


def _settings(runtime: Runtime[Context]) -> Context:
    """Return the run's context, validated (an invalid one fails the run with ValueError)."""
    ctx = runtime.context if isinstance(runtime.context, Context) else Context()
    if ctx.locale not in WORDING:
        raise ValueError(f"locale must be one of {sorted(WORDING)}, got {ctx.locale!r}")
    if not 0 <= ctx.pace <= 10:
        raise ValueError(f"pace must be between 0 and 10, got {ctx.pace!r}")
    if not 1 <= ctx.max_draws <= MAX_DRAWS_CEILING:
        raise ValueError(f"max_draws must be between 1 and {MAX_DRAWS_CEILING}")
    return ctx


def _rng(ctx: Context, step: int) -> random.Random:
    """One generator per step, derived from the seed, so a seeded run replays exactly."""
    if ctx.seed is None:
        return random.Random()
    return random.Random(f"{ctx.seed}/{step}")


async def _pause(ctx: Context, rng: random.Random, low: float, high: float) -> None:
    """Sleep like an LLM would think; never blocks the event loop."""
    if ctx.pace > 0:
        await asyncio.sleep(rng.uniform(low, high) * ctx.pace)


def parse_input(raw: object) -> int:
    """Accept an integer (or a string holding one); reject anything else with ValueError."""
    if isinstance(raw, bool):
        raise ValueError(f"input must be an integer, got a boolean ({raw!r})")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"input must be an integer, got {raw!r}")


async def read_input(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Validate the input and report it, then pause before the routing decision."""
    ctx = _settings(runtime)
    number = parse_input(state.get("input"))
    line = WORDING[ctx.locale]["input"].format(input=number)
    progress(line)
    await _pause(ctx, _rng(ctx, 0), 0.2, 1.5)
    return {"input": number, "count": 0, "value": None, "progress": line}


async def generate(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draw one number from 1 to 100 and report it."""
    ctx = _settings(runtime)
    count = state.get("count", 0) + 1
    rng = _rng(ctx, count)
    value = rng.randint(1, 100)
    line = WORDING[ctx.locale]["draw"].format(count=count, value=value)
    progress(line)
    await _pause(ctx, rng, 0.2, 1.5)
    return {"count": count, "value": value, "progress": line}


async def terminate(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream the answer in pieces and keep the whole text in ``response``."""
    ctx = _settings(runtime)
    wording = WORDING[ctx.locale]
    count = state.get("count", 0)
    value = state.get("value")
    if state["input"] < 0:
        template = wording["negative"]
    elif value is not None and state["input"] > value:
        template = wording["done"]
    else:
        template = wording["limit"]
    pieces = [piece.format(input=state["input"], count=count) for piece in template]
    rng = _rng(ctx, -1)
    for index, piece in enumerate(pieces):
        if index:
            await _pause(ctx, rng, 0.1, 1.0)
        answer(piece)
    return {"response": "".join(pieces)}


def route_input(state: State) -> Literal["generate", "terminate"]:
    """A negative number ends the game at once."""
    return "terminate" if state["input"] < 0 else "generate"


def route_draw(state: State, runtime: Runtime[Context]) -> Literal["generate", "terminate"]:
    """Stop once a draw falls below the input, or when the draw limit is reached."""
    ctx = _settings(runtime)
    value = state.get("value")
    if value is not None and state["input"] > value:
        return "terminate"
    if state.get("count", 0) >= ctx.max_draws:
        return "terminate"
    return "generate"


graph = (
    StateGraph(State, context_schema=Context, input_schema=InputState)
    .add_node(read_input)
    .add_node(generate)
    .add_node(terminate)
    .add_edge(START, "read_input")
    .add_conditional_edges("read_input", route_input)
    .add_conditional_edges("generate", route_draw)
    .add_edge("terminate", END)
    .compile(name="up-down-game")
)
