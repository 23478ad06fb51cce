"""Bytes of the ``chat.completion.chunk`` SSE stream, built for the per-chunk hot path.

Everything that is the same for every chunk of a completion (id, created, model, the JSON
around the delta) is encoded once; a chunk is then ``prefix + json(text) + suffix``.
"""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"


class ChunkEncoder:
    """Encodes the chunks of one streamed completion."""

    __slots__ = ("_content", "_head", "_reasoning", "_suffix")

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        """Pre-encode the parts shared by every chunk of this completion."""
        head = orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
            }
        )[:-1]
        self._head = b"data: " + head
        self._content = self._head + b',"choices":[{"index":0,"delta":{"content":'
        self._reasoning = self._head + b',"choices":[{"index":0,"delta":{"reasoning_content":'
        self._suffix = b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def content(self, text: str) -> bytes:
        """A chunk whose delta is answer text."""
        return self._content + orjson.dumps(text) + self._suffix

    def reasoning(self, text: str) -> bytes:
        """A chunk whose delta is progress, shown by clients as "thinking"."""
        return self._reasoning + orjson.dumps(text) + self._suffix

    def role(self) -> bytes:
        """The first chunk: the assistant role and empty content."""
        return (
            self._head
            + b',"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
            + b'"logprobs":null,"finish_reason":null}]}\n\n'
        )

    def finish(self, reason: str = "stop") -> bytes:
        """The last choice chunk: an empty delta and the finish reason."""
        return (
            self._head
            + b',"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":'
            + orjson.dumps(reason)
            + b"}]}\n\n"
        )

    def usage(self, usage: dict[str, Any]) -> bytes:
        """The ``include_usage`` chunk: no choices, only usage."""
        return self._head + b',"choices":[],"usage":' + orjson.dumps(usage) + b"}\n\n"


def error_event(body: dict[str, Any]) -> bytes:
    """An in-stream error: the OpenAI ``ErrorResponse`` body as one data event."""
    return b"data: " + orjson.dumps(body) + b"\n\n"
