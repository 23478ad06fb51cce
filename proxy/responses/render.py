"""The Responses API wire shapes, defined once.

The Response object, its output items, its streaming events (``response.created`` ...
``response.completed``), numbered in sequence.

:class:`Output` builds a response's output from a run's text as it arrives, an item per stretch
of one kind: answer text is a ``message`` item (one ``output_text`` part), progress a
``reasoning`` item (``summary_text`` parts). Every step returns the events it means; the
non-streaming path builds the same items and drops the events.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from proxy.responses.ids import item_id
from proxy.runs.usage import Usage


def event(kind: str, sequence: int, **fields: Any) -> bytes:
    """One SSE event: ``event:`` names it, ``data:`` carries it with its sequence number."""
    data = orjson.dumps({"type": kind, "sequence_number": sequence, **fields})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


def usage_object(usage: Usage) -> dict[str, Any]:
    """``ResponseUsage``."""
    return {
        "input_tokens": usage.prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.completion,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.total,
    }


def response_object(
    response_id: str,
    model: str,
    *,
    status: str,
    output: list[dict[str, Any]],
    created_at: int,
    instructions: str | None = None,
    previous_response_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    usage: Usage | None = None,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``Response``: every field strict clients require; ``usage`` once it is known."""
    obj: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": error,
        "incomplete_details": None,
        "instructions": instructions,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": previous_response_id,
        "tool_choice": "auto",
        "tools": [],
        "temperature": None,
        "top_p": None,
        "metadata": metadata or {},
        "text": {"format": {"type": "text"}},
    }
    if usage is not None:
        obj["usage"] = usage_object(usage)
    return obj


def message_item(item: str, text: str, status: str) -> dict[str, Any]:
    """An assistant ``message`` output item with one ``output_text`` part."""
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    content = [part] if status == "completed" or text else []
    return {
        "id": item,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def reasoning_item(item: str, text: str | None) -> dict[str, Any]:
    """A ``reasoning`` output item: the progress as one summary part."""
    summary = [] if text is None else [{"type": "summary_text", "text": text}]
    return {"id": item, "type": "reasoning", "summary": summary}


class Output:
    """A response's output items, built from a run's text as it streams."""

    def __init__(self, response_id: str, sequence: int = 0) -> None:
        """No items yet; events are numbered from ``sequence``."""
        self.response_id = response_id
        self.sequence = sequence
        self.items: list[dict[str, Any]] = []
        self._kind: str | None = None
        self._parts: list[str] = []

    def next(self, kind: str, **fields: Any) -> bytes:
        """The next event."""
        data = event(kind, self.sequence, **fields)
        self.sequence += 1
        return data

    def text(self, text: str) -> bytes:
        """Answer text: a delta of the current message (opened first if need be)."""
        head = b"" if self._kind == "message" else self.close() + self._open("message")
        self._parts.append(text)
        where = {"item_id": self.items[-1]["id"], "output_index": len(self.items) - 1}
        delta = self.next(
            "response.output_text.delta", **where, content_index=0, delta=text, logprobs=[]
        )
        return head + delta

    def progress(self, text: str) -> bytes:
        """Progress: a summary delta of the current reasoning item (opened first if need be)."""
        head = b"" if self._kind == "reasoning" else self.close() + self._open("reasoning")
        self._parts.append(text)
        where = {"item_id": self.items[-1]["id"], "output_index": len(self.items) - 1}
        return head + self.next(
            "response.reasoning_summary_text.delta", **where, summary_index=0, delta=text
        )

    def _open(self, kind: str) -> bytes:
        index = len(self.items)
        self._kind, self._parts = kind, []
        if kind == "message":
            item = message_item(item_id("msg", self.response_id, index), "", "in_progress")
            self.items.append(item)
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            where = {"item_id": item["id"], "output_index": index}
            added = self.next("response.output_item.added", output_index=index, item=item)
            return added + self.next(
                "response.content_part.added", **where, content_index=0, part=part
            )
        item = reasoning_item(item_id("rs", self.response_id, index), None)
        self.items.append(item)
        where = {"item_id": item["id"], "output_index": index, "summary_index": 0}
        summary = {"type": "summary_text", "text": ""}
        added = self.next("response.output_item.added", output_index=index, item=item)
        return added + self.next("response.reasoning_summary_part.added", **where, part=summary)

    def restart(self) -> None:
        """Drop every item (a non-streamed response whose run starts again)."""
        self.items, self._kind, self._parts = [], None, []

    def partial(self) -> list[dict[str, Any]]:
        """The items so far, the open one with its text so far: a failed response's output."""
        items = list(self.items)
        if self._kind is not None:
            key, text = items[-1]["id"], "".join(self._parts)
            if self._kind == "message":
                items[-1] = message_item(key, text, "incomplete")
            else:
                items[-1] = {**reasoning_item(key, text), "status": "incomplete"}
        return items

    def close(self) -> bytes:
        """Finish the current item, if any: its ``.done`` events."""
        kind, text, index = self._kind, "".join(self._parts), len(self.items) - 1
        self._kind, self._parts = None, []
        if kind is None:
            return b""
        item_key = self.items[index]["id"]
        where = {"item_id": item_key, "output_index": index}
        if kind == "message":
            item = self.items[index] = message_item(item_key, text, "completed")
            part = item["content"][0]
            return (
                self.next(
                    "response.output_text.done", **where, content_index=0, text=text, logprobs=[]
                )
                + self.next("response.content_part.done", **where, content_index=0, part=part)
                + self.next("response.output_item.done", output_index=index, item=item)
            )
        item = self.items[index] = reasoning_item(item_key, text)
        summary = item["summary"][0]
        return (
            self.next("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
            + self.next(
                "response.reasoning_summary_part.done", **where, summary_index=0, part=summary
            )
            + self.next("response.output_item.done", output_index=index, item=item)
        )
