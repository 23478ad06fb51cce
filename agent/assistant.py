"""A tool-using assistant, written the way LangChain users write agents: ``create_agent``.

The chat model is any OpenAI-compatible server, configured like the ``chat`` graph
(``CHAT_MODEL``, ``CHAT_BASE_URL``, ... or the run's context). It streams its tokens through
LangGraph's ``messages`` mode: it writes no custom chunks, and needs none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents import AgentState, create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_openai import ChatOpenAI

from agent.model_settings import PLACEHOLDER_KEY, Context, Settings, resolve
from agent.tools import TOOLS

SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the calculator for any arithmetic, current_time for "
    "dates and times, and play_up_down when the user wants to play the up-down game. "
    "Answer briefly."
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
    """Calls the model the run's context (else the environment) names."""

    async def awrap_model_call(
        self,
        request: ModelRequest[Context],
        handler: Callable[[ModelRequest[Context]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Swap in the run's model, then call it."""
        model = await chat_model(resolve(request.runtime.context))
        return await handler(request.override(model=model))


graph = create_agent(
    # replaced on every call by RunModel; never called itself
    model=ChatOpenAI(model="set-CHAT_MODEL", api_key=PLACEHOLDER_KEY),  # type: ignore[arg-type]
    tools=TOOLS,
    system_prompt=SYSTEM_PROMPT,
    middleware=[RunModel()],
    context_schema=Context,
    name="assistant",
)
