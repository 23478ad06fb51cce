"""The chat model a run talks to: per-run settings over the environment (``CHAT_*``).

Shared by every graph that calls an OpenAI-compatible model (``chat``, ``assistant``), so one
deployment is configured once.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
