"""A tool-using assistant, written the way LangChain users write agents: ``create_agent``.

The chat model is any OpenAI-compatible server, configured like the ``chat`` graph
(``CHAT_MODEL``, ``CHAT_BASE_URL``, ... or the run's context). It streams its tokens through
LangGraph's ``messages`` mode: it writes no custom chunks, and needs none. On a thread it
remembers facts across turns (:mod:`agent.memory`), and asks before it forgets them (LangChain's
human-in-the-loop middleware: the run pauses on ``interrupt()`` until the user answers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

from langchain.agents import AgentState, create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    HumanInTheLoopMiddleware,
    ModelRequest,
    ModelResponse,
)
from langchain_core.messages import SystemMessage
from langchain_openai import ChatOpenAI

from agent.memory import MemoryState, forget_everything, remember, with_facts
from agent.model_settings import PLACEHOLDER_KEY, Context, Settings, resolve
from agent.tools import TOOLS

SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the calculator for any arithmetic, current_time for "
    "dates and times, and play_up_down when the user wants to play the up-down game. When the "
    "user tells you something about themselves worth keeping, call remember. Answer briefly."
)

_models: dict[Settings, ChatOpenAI] = {}


def _build(settings: Settings) -> ChatOpenAI:
    return ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key,  # type: ignore[arg-type]
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        stream_usage=True,
    )


async def chat_model(settings: Settings) -> ChatOpenAI:
    """The model for ``settings``, built once (in a thread: it loads TLS certificates)."""
    model = _models.get(settings)
    if model is None:
        model = _models.setdefault(settings, await asyncio.to_thread(_build, settings))
    return model


class RunModel(AgentMiddleware[AgentState[Any], Context]):
    """Calls the model the run's context (else the environment) names, with what it knows."""

    state_schema = MemoryState

    async def awrap_model_call(
        self,
        request: ModelRequest[Context],
        handler: Callable[[ModelRequest[Context]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Swap in the run's model and the remembered facts, then call it."""
        model = await chat_model(resolve(request.runtime.context))
        state = cast(MemoryState, request.state)
        facts = [str(f) for f in state.get("facts") or []]
        system = SystemMessage(with_facts(SYSTEM_PROMPT, facts))
        return await handler(request.override(model=model, system_message=system))


graph = create_agent(
    # replaced on every call by RunModel; never called itself
    model=ChatOpenAI(model="set-CHAT_MODEL", api_key=PLACEHOLDER_KEY),  # type: ignore[arg-type]
    tools=[*TOOLS, remember, forget_everything],
    middleware=[
        RunModel(),
        HumanInTheLoopMiddleware(
            interrupt_on={"forget_everything": {"allowed_decisions": ["approve", "reject"]}},
            description_prefix="Forget everything I remember about you?",
        ),
    ],
    context_schema=Context,
    name="assistant",
)
