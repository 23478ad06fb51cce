"""Writers for the custom-chunk contract (README, "The custom-chunk contract").

The contract is plain data so that any consumer (the proxy, Studio, an SDK client) can read
it without importing this package:

* ``str`` - answer text;
* ``{"type": "answer", "text": str}`` - answer text;
* ``{"type": "progress", "text": str}`` - a progress line (shown as "thinking" by the proxy);
* ``{"type": "usage", "prompt_tokens": int, "completion_tokens": int}`` - a usage report;
* ``(message_chunk, metadata)`` - an LLM token chunk; its ``content`` is answer text.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_stream_writer


def progress(text: str) -> None:
    """Stream one progress line."""
    get_stream_writer()({"type": "progress", "text": text})


def answer(text: str) -> None:
    """Stream one piece of the answer."""
    get_stream_writer()({"type": "answer", "text": text})


def usage(prompt_tokens: int, completion_tokens: int, **extra: Any) -> None:
    """Report token usage for this run (the proxy passes it on as OpenAI ``usage``)."""
    get_stream_writer()(
        {
            "type": "usage",
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            **extra,
        }
    )
