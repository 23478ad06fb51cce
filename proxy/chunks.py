"""The consumer side of the custom-chunk contract (README, "The custom-chunk contract").

A graph writes plain data to ``get_stream_writer()``; this module says what each kind means.
It runs once per chunk, so it only looks at types and a few keys.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple


class Kind(Enum):
    """What a custom chunk is to an OpenAI client."""

    ANSWER = "answer"
    PROGRESS = "progress"
    USAGE = "usage"
    IGNORED = "ignored"


class Chunk(NamedTuple):
    """A classified custom chunk: its kind, its text, and a usage report if it is one."""

    kind: Kind
    text: str = ""
    usage: dict[str, int] | None = None


IGNORED = Chunk(Kind.IGNORED)


def _content_text(content: Any) -> str:
    """Text of a message ``content``: a string, or the text parts of a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block if isinstance(block, str) else str(block.get("text") or "")
            for block in content
            if isinstance(block, str) or (isinstance(block, dict) and block.get("type") == "text")
        )
    return ""


def _message_chunk(message: dict[str, Any]) -> Chunk:
    """An LLM token chunk (OpenAI-style delta or a serialized LangChain message chunk)."""
    text = _content_text(message.get("content"))
    if text:
        return Chunk(Kind.ANSWER, text)
    extra = message.get("additional_kwargs")
    reasoning = message.get("reasoning_content") or (
        extra.get("reasoning_content") if isinstance(extra, dict) else None
    )
    if isinstance(reasoning, str) and reasoning:
        return Chunk(Kind.PROGRESS, reasoning)
    return IGNORED


MAX_TOKENS = 2**53 - 1
"""Counts above this are not token counts (and would not survive JSON clients); dropped."""


def _usage(data: dict[str, Any]) -> Chunk:
    """A usage report; counts that are not integers from 0 to ``MAX_TOKENS`` are dropped."""
    counts = {
        key: value
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
        if isinstance(value := data.get(key), int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_TOKENS
    }
    if "prompt_tokens" not in counts and "completion_tokens" not in counts:
        return IGNORED
    return Chunk(Kind.USAGE, usage=counts)


def classify(data: Any) -> Chunk:
    """Classify one custom chunk as the contract defines it; unknown shapes are ignored."""
    if isinstance(data, str):
        return Chunk(Kind.ANSWER, data) if data else IGNORED
    if isinstance(data, dict):
        kind = data.get("type")
        if kind == "answer" or kind == "progress":
            text = data.get("text")
            if isinstance(text, str) and text:
                return Chunk(Kind.ANSWER if kind == "answer" else Kind.PROGRESS, text)
            return IGNORED
        if kind == "usage":
            return _usage(data)
        if "content" in data and ("role" in data or kind in ("AIMessageChunk", "ai")):
            return _message_chunk(data)
        return IGNORED
    if isinstance(data, list | tuple) and len(data) == 2 and isinstance(data[0], dict):
        return _message_chunk(data[0])
    return IGNORED
