"""Tool steps an agent took on the server, as readable progress lines.

A tool call is shown once its arguments are complete (they stream as fragments grouped by
``index``); a tool result is shown with the tool's name, cut to a readable length.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from proxy.runs.content import text_parts
from proxy.runs.events import Event, Kind

SHOWN_CHARS = 500
"""Arguments and results longer than this are cut (the thinking block is for reading)."""


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def arguments(args: Any) -> str:
    """Arguments as compact JSON; a fragment that is not JSON (a cut-off stream) as it is."""
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError:
            return cut(args)
    return cut(json.dumps(args, ensure_ascii=False, separators=(", ", ": ")))


def call_line(name: str, args: Any) -> Event:
    """The progress line of a tool call."""
    return Event(Kind.PROGRESS, f"Calling {name or 'a tool'} with {arguments(args)}\n")


@dataclass
class _Call:
    name: str = ""
    call_id: str = ""
    args: list[str] = field(default_factory=list)


class PendingCalls:
    """Tool calls of each AI message, shown once; their names, for the results."""

    def __init__(self) -> None:
        """Nothing pending, nothing shown."""
        self._pending: dict[str, dict[Any, _Call]] = {}
        self._shown: set[str] = set()
        self.names: dict[str, str] = {}
        """Tool call id -> tool name."""

    def add_chunks(self, message_id: Any, chunks: Any) -> None:
        """Fragments of a streaming message's tool calls, grouped by ``index``."""
        if not isinstance(chunks, list) or not chunks:
            return
        calls = self._pending.setdefault(str(message_id), {})
        for chunk in chunks:
            if not isinstance(chunk, dict):
                continue
            key = chunk.get("index")
            if key is None:
                key = chunk.get("id") or len(calls)
            call = calls.setdefault(key, _Call())
            if isinstance(name := chunk.get("name"), str) and name:
                call.name = call.name or name
            if isinstance(call_id := chunk.get("id"), str) and call_id:
                call.call_id = call.call_id or call_id
            if isinstance(args := chunk.get("args"), str):
                call.args.append(args)

    def flush(self, message_id: Any) -> list[Event]:
        """The calls of ``message_id``: their arguments are complete."""
        calls = self._pending.pop(str(message_id), {})
        shown = (self._show(c.call_id, c.name, "".join(c.args)) for c in calls.values())
        return [event for event in shown if event is not None]

    def flush_others(self, message_id: str) -> list[Event]:
        """The calls of every message but ``message_id`` (a new message started)."""
        others = [other for other in self._pending if other != message_id]
        return [event for other in others for event in self.flush(other)]

    def flush_all(self) -> list[Event]:
        """Every pending call."""
        return [event for message_id in list(self._pending) for event in self.flush(message_id)]

    def whole(self, message: dict[str, Any]) -> list[Event]:
        """The complete calls of a message that arrived whole (valid ones and invalid ones)."""
        events = []
        for key in ("tool_calls", "invalid_tool_calls"):
            for call in message.get(key) or ():
                if not isinstance(call, dict):
                    continue
                call_id = call.get("id")
                name = str(call.get("name") or "")
                event = self._show(
                    call_id if isinstance(call_id, str) else "", name, call.get("args")
                )
                if event is not None:
                    events.append(event)
        return events

    def _show(self, call_id: str, name: str, args: Any) -> Event | None:
        """The line of a call, unless it was shown already."""
        if call_id:
            if call_id in self._shown:
                return None
            self._shown.add(call_id)
            self.names[call_id] = name
        return call_line(name, args)


def result_line(message: dict[str, Any], calls: PendingCalls) -> Event:
    """The progress line of a tool result (``ToolMessage``)."""
    call_id = message.get("tool_call_id")
    name = message.get("name") or (calls.names.get(call_id) if isinstance(call_id, str) else None)
    pieces: Sequence[str | None] = list(text_parts(message.get("content")))
    text = "".join(piece if piece is not None else "[non-text content]" for piece in pieces)
    verb = "failed" if message.get("status") == "error" else "returned"
    return Event(Kind.PROGRESS, f"Tool {name or 'call'} {verb}: {cut(text)}\n")
