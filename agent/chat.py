"""A chat graph: an OpenAI-compatible model's tokens, streamed through custom stream mode.

The "without LangChain" pattern: the provider's own client (``openai``) streams the reply and
every token goes to ``get_stream_writer()`` the moment it arrives, as a
``(message_chunk, metadata)`` pair (README, "The custom-chunk contract"); a usage chunk with
the provider's own figures follows. The whole reply is appended to ``messages``, so that
non-streaming calls and Studio see it too.
"""

from __future__ import annotations

import asyncio
import math
import os
import weakref
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
import openai
from langchain_core.messages import AIMessage, AnyMessage, convert_to_openai_messages
from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from openai.types.chat import ChatCompletionMessageParam
from typing_extensions import TypedDict

from agent.stream import usage

OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"
"""Sent when no key applies: local servers (vLLM, Ollama) need none, but the client wants one."""
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2


@dataclass
class Context:
    """Per-run model settings (Studio's context form); each ``None`` falls back to the env.

    The API key is deliberately not here: it comes from ``CHAT_API_KEY`` or ``OPENAI_API_KEY``
    and is sent only to the environment's base URL, so a caller who sets ``base_url`` cannot
    have the key sent to a server of their choosing.

    Attributes:
        model: Model name (env ``CHAT_MODEL``); required.
        base_url: OpenAI-compatible endpoint (env ``CHAT_BASE_URL``, ``OPENAI_BASE_URL``,
            else OpenAI's).
        timeout: Seconds the model may stay silent, connecting or between streamed bytes,
            before the run fails (env ``CHAT_TIMEOUT``, 60).
        max_retries: Retries of a request that failed before streaming began (env
            ``CHAT_MAX_RETRIES``, 2).

    """

    model: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None


class State(TypedDict):
    """The conversation; OpenAI-format dicts are accepted as input."""

    messages: Annotated[list[AnyMessage], add_messages]


@dataclass(frozen=True)
class Settings:
    """A run's resolved model settings."""

    model: str
    base_url: str
    api_key: str
    timeout: float
    max_retries: int


def _env(*names: str) -> str | None:
    """The first of ``names`` set to a non-blank value in the environment."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _number(
    value: object, env: str, field: str, kind: type[int] | type[float], default: float, high: float
) -> Any:
    """A numeric setting from the context, else ``env``, else ``default``; checked in range.

    Floats must be above 0, integers at least 0; a bad value fails the run naming its source.
    """
    source = f"the context's {field!r}"
    if value is None:
        value = _env(env)
        source = env
    if value is None:
        return kind(default)
    try:
        number = kind(value)  # type: ignore[call-overload,arg-type]
    except (TypeError, ValueError):
        number = math.nan
    low_ok = number > 0 if kind is float else number >= 0
    if isinstance(value, bool) or not (low_ok and number <= high):
        low = "above 0" if kind is float else "from 0"
        raise ValueError(f"{source} must be a number {low} up to {high:g}, got {value!r}")
    return number


def redact(url: str) -> str:
    """``url`` without user info, fit for error messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def resolve(context: Context | None) -> Settings:
    """Merge the run's context over the environment; fail fast with what to set."""
    ctx = context if isinstance(context, Context) else Context()
    model = (ctx.model or "").strip() or _env("CHAT_MODEL")
    if not model:
        raise ValueError(
            "No chat model configured: set the CHAT_MODEL environment variable "
            "(or 'model' in the run's context)."
        )
    env_url = _env("CHAT_BASE_URL", "OPENAI_BASE_URL") or OPENAI_URL
    base_url = (ctx.base_url or "").strip() or env_url
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL, got {redact(base_url)!r}")
    same_server = base_url.rstrip("/") == env_url.rstrip("/")
    key = _env("CHAT_API_KEY", "OPENAI_API_KEY") if same_server else None
    return Settings(
        model=model,
        base_url=base_url,
        api_key=key or PLACEHOLDER_KEY,
        timeout=_number(ctx.timeout, "CHAT_TIMEOUT", "timeout", float, DEFAULT_TIMEOUT, 3600),
        max_retries=_number(
            ctx.max_retries, "CHAT_MAX_RETRIES", "max_retries", int, DEFAULT_MAX_RETRIES, 10
        ),
    )


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


def _token(content: str, reasoning: str = "") -> dict[str, str]:
    """The message chunk of a ``(message_chunk, metadata)`` pair (README, the contract)."""
    chunk = {"role": "assistant", "content": content}
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
                        write((_token("", thought), metadata))
                    if token := choice.delta.content:
                        text.append(token)
                        write((_token(token), metadata))
                    finish = choice.finish_reason or finish
    except PROVIDER_ERRORS as exc:
        raise _failure(exc, settings) from exc
    message = AIMessage(
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
