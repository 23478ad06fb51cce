"""A chat graph: an OpenAI-compatible model's tokens, streamed through custom stream mode.

The "without LangChain" pattern: the provider's own client (``openai``) streams the reply and
every token goes to ``get_stream_writer()`` the moment it arrives, as a
``(message_chunk, metadata)`` pair naming the reply's message id (README, "The contract"); a
usage chunk with the provider's own figures follows. The whole reply is appended to
``messages`` under that id, so that non-streaming calls and Studio see it too, and a reader of
the ``messages`` stream mode knows it has had its text already.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from typing import Annotated, Any, cast

import httpx
import openai
from langchain_core.messages import AIMessage, AnyMessage, convert_to_openai_messages
from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from openai.types.chat import ChatCompletionMessageParam
from typing_extensions import TypedDict

from agent.model_settings import PLACEHOLDER_KEY, Context, Settings, redact, resolve
from agent.stream import usage

__all__ = ["PLACEHOLDER_KEY", "Context", "State", "call_model", "graph", "resolve"]


class State(TypedDict):
    """The conversation; OpenAI-format dicts are accepted as input."""

    messages: Annotated[list[AnyMessage], add_messages]


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
    weakref.WeakKeyDictionary()
)


def _build_client() -> openai.AsyncOpenAI:
    """A pooled client, with the modules its chat API imports lazily already imported."""
    client = openai.AsyncOpenAI(api_key=PLACEHOLDER_KEY)
    _ = client.chat.completions
    return client


async def client_for(settings: Settings) -> openai.AsyncOpenAI:
    """A client for ``settings`` that shares one connection pool per event loop.

    Building a client loads TLS certificates and imports modules (blocking work, tens of
    milliseconds or more), so the pooled one is built once per loop, in a thread; per-run
    settings are cheap copies of it.
    """
    loop = asyncio.get_running_loop()
    base = _clients.get(loop)
    if base is None:
        base = _clients.setdefault(loop, await asyncio.to_thread(_build_client))
    return base.with_options(
        base_url=settings.base_url,
        api_key=settings.api_key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


PROVIDER_ERRORS = (openai.APIError, httpx.TransportError)
"""What a provider call raises: ``openai`` 1.x and 2.x let a failure while reading the stream
escape as a raw ``httpx`` error (3.x wraps it in ``APIConnectionError``)."""


def _failure(exc: openai.APIError | httpx.TransportError, settings: Settings) -> Exception:
    """A provider failure as an exception type whose message the platform passes on."""
    where = f"The chat model {settings.model!r} at {redact(settings.base_url)}"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return TimeoutError(
            f"{where} sent nothing for {settings.timeout:g} s "
            "(raise CHAT_TIMEOUT or the context's 'timeout')."
        )
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        cause = exc.__cause__ if isinstance(exc, openai.APIError) and exc.__cause__ else exc
        message = f"{where}: connection failed ({type(cause).__name__}: {cause})"
    else:
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = str(body.get("message") or exc.message)
        if isinstance(exc, openai.APIStatusError):
            message = f"{where} answered HTTP {exc.status_code}: {detail}"
        else:  # an error event in the middle of the stream
            message = f"{where} failed mid-answer: {detail}"
    if settings.api_key != PLACEHOLDER_KEY:
        message = message.replace(settings.api_key, "***")
    return RuntimeError(message[:1000])


def _reasoning(delta: Any) -> str:
    """A delta's reasoning text: ``reasoning_content`` (DeepSeek, vLLM) or ``reasoning``."""
    value = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
    return value if isinstance(value, str) else ""


def _token(message_id: str, content: str, reasoning: str = "") -> dict[str, str]:
    """The message chunk of a ``(message_chunk, metadata)`` pair (README, the contract).

    It names the message it belongs to, the one this node returns: a reader of both the
    ``custom`` and ``messages`` stream modes then shows that message's text once.
    """
    chunk = {"role": "assistant", "content": content, "id": message_id}
    if reasoning:
        chunk["reasoning_content"] = reasoning
    return chunk


async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, list[AIMessage]]:
    """Stream the reply token by token, then report usage and keep the whole reply."""
    settings = resolve(runtime.context)
    messages = convert_to_openai_messages(state.get("messages") or [])
    if not messages:
        raise ValueError("messages must hold at least one message")
    client = await client_for(settings)
    write = get_stream_writer()
    metadata = {"model": settings.model}
    message_id = f"run--{uuid.uuid4()}"
    text: list[str] = []
    reasoning: list[str] = []
    model, finish, report = settings.model, None, None
    try:
        stream = await client.chat.completions.create(
            model=settings.model,
            messages=cast("list[ChatCompletionMessageParam]", messages),
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:  # closes the provider's stream on cancellation too
            async for chunk in stream:
                model = chunk.model or model
                report = chunk.usage or report
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    if thought := _reasoning(choice.delta):
                        reasoning.append(thought)
                        write((_token(message_id, "", thought), metadata))
                    if token := choice.delta.content:
                        text.append(token)
                        write((_token(message_id, token), metadata))
                    finish = choice.finish_reason or finish
    except PROVIDER_ERRORS as exc:
        raise _failure(exc, settings) from exc
    message = AIMessage(
        id=message_id,
        content="".join(text),
        additional_kwargs={"reasoning_content": "".join(reasoning)} if reasoning else {},
        response_metadata={"model_name": model, "finish_reason": finish},
    )
    if report is not None:
        prompt, completion = report.prompt_tokens or 0, report.completion_tokens or 0
        usage(prompt, completion)
        message.usage_metadata = {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        }
    return {"messages": [message]}


graph = (
    StateGraph(State, context_schema=Context)
    .add_node(call_model)
    .add_edge(START, "call_model")
    .compile(name="chat")
)
