"""The Chat Completions wire shapes, defined once: chunks, the whole completion, usage, errors.

Streaming writes the same dicts, pre-encoded: everything that is the same for every chunk of a
completion (id, created, model, the JSON around the delta) is encoded once from
:func:`chunk_object`, and a chunk is then ``prefix + json(text) + suffix``.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy.runs.usage import Usage

DONE = b"data: [DONE]\n\n"
_MARK = "\x00text\x00"
_MARK_JSON = orjson.dumps(_MARK)


def chunk_object(
    head: dict[str, Any], delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**head, "object": "chat.completion.chunk", "choices": [choice]}


def completion_object(
    head: dict[str, Any], content: str, reasoning: str | None, usage: Usage
) -> dict[str, Any]:
    """A ``chat.completion`` with one choice (``CreateChatCompletionResponse``)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if reasoning:
        message["reasoning_content"] = reasoning
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    return {**head, "object": "chat.completion", "choices": [choice], "usage": usage_object(usage)}


def usage_object(usage: Usage) -> dict[str, Any]:
    """``CompletionUsage``; every count is an integer."""
    return {
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "total_tokens": usage.total,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


def error_event(body: dict[str, Any]) -> bytes:
    """An in-stream error: the OpenAI ``ErrorResponse`` body as one data event."""
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _template(obj: dict[str, Any]) -> tuple[bytes, bytes]:
    """The event bytes before and after the text marker in ``obj``."""
    before, after = _event(obj).split(_MARK_JSON)
    return before, after


class ChunkEncoder:
    """Encodes the chunks of one streamed completion."""

    __slots__ = ("_content", "_head", "_reasoning")

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        """Pre-encode the parts shared by every chunk of this completion."""
        self._head = {"id": completion_id, "object": "", "created": created, "model": model}
        self._content = _template(chunk_object(self._head, {"content": _MARK}))
        self._reasoning = _template(chunk_object(self._head, {"reasoning_content": _MARK}))

    def content(self, text: str) -> bytes:
        """A chunk whose delta is answer text."""
        before, after = self._content
        return before + orjson.dumps(text) + after

    def reasoning(self, text: str) -> bytes:
        """A chunk whose delta is progress, shown by clients as "thinking"."""
        before, after = self._reasoning
        return before + orjson.dumps(text) + after

    def role(self) -> bytes:
        """The first chunk: the assistant role and empty content."""
        return _event(chunk_object(self._head, {"role": "assistant", "content": ""}))

    def finish(self, reason: str = "stop") -> bytes:
        """The last choice chunk: an empty delta and the finish reason."""
        return _event(chunk_object(self._head, {}, reason))

    def usage(self, usage: Usage) -> bytes:
        """The ``include_usage`` chunk: no choices, only usage."""
        obj = {**self._head, "object": "chat.completion.chunk", "choices": []}
        return _event({**obj, "usage": usage_object(usage)})

    def completion(self, content: str, reasoning: str | None, usage: Usage) -> dict[str, Any]:
        """The non-streaming body of the same completion."""
        return completion_object(self._head, content, reasoning, usage)
