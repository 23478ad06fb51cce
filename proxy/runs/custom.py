"""Stream mode ``custom``: the consumer side of the custom-chunk contract (README, "The contract").

A graph writes plain data to ``get_stream_writer()``; this module says what each shape means.
It runs once per chunk, so it only looks at types and a few keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proxy.runs.content import content_text
from proxy.runs.events import NOTHING, Event, Kind, Reader
from proxy.runs.state import CUSTOM, RunState

MAX_TOKENS = 2**53 - 1
"""Counts above this are not token counts (and would not survive JSON clients); dropped."""


def _message_chunk(message: dict[str, Any], state: RunState) -> Sequence[Event]:
    """An LLM token chunk (OpenAI-style delta or a serialized LangChain message chunk).

    A chunk that names its message (``id``) claims that message's text for this mode, unless
    ``messages`` mode already brought it (README, "The contract").
    """
    if not state.claim(message.get("id"), CUSTOM):
        return NOTHING
    text = content_text(message.get("content"))
    if text:
        if not message.get("id"):
            state.custom_answer(text)
        return (Event(Kind.ANSWER, text),)
    extra = message.get("additional_kwargs")
    reasoning = message.get("reasoning_content") or (
        extra.get("reasoning_content") if isinstance(extra, dict) else None
    )
    if isinstance(reasoning, str) and reasoning:
        return (Event(Kind.PROGRESS, reasoning),)
    return NOTHING


def usage_counts(data: dict[str, Any]) -> dict[str, int] | None:
    """A usage report's counts; those that are not integers from 0 to ``MAX_TOKENS`` dropped."""
    counts = {
        key: value
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
        if isinstance(value := data.get(key), int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_TOKENS
    }
    if "prompt_tokens" not in counts and "completion_tokens" not in counts:
        return None
    return counts


def custom_reader(state: RunState) -> Reader:
    """The reader of one run's custom chunks."""

    def read_custom(data: Any) -> Sequence[Event]:
        """What one custom chunk means under the contract; unknown shapes mean nothing."""
        if isinstance(data, str):
            if not data:
                return NOTHING
            state.custom_answer(data)
            return (Event(Kind.ANSWER, data),)
        if isinstance(data, dict):
            kind = data.get("type")
            if kind == "answer" or kind == "progress":
                text = data.get("text")
                if not isinstance(text, str) or not text:
                    return NOTHING
                if kind == "progress":
                    return (Event(Kind.PROGRESS, text),)
                state.custom_answer(text)
                return (Event(Kind.ANSWER, text),)
            if kind == "usage":
                counts = usage_counts(data)
                return (Event(Kind.USAGE, data=counts),) if counts else NOTHING
            if "content" in data and ("role" in data or kind in ("AIMessageChunk", "ai")):
                return _message_chunk(data, state)
            return NOTHING
        if isinstance(data, list | tuple) and len(data) == 2 and isinstance(data[0], dict):
            return _message_chunk(data[0], state)
        return NOTHING

    return read_custom
