"""A run that paused on ``interrupt(value)``: its question, as the assistant's message.

A string is the question as it is; a dict's ``question`` / ``description`` / ``message`` /
``prompt`` / ``text`` field, else readable JSON. LangChain's human-in-the-loop middleware gets
an approval question per tool call (batched ``action_requests``, or one ``tool_approval``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from proxy.runs.events import NOTHING, Event, Kind, Reader
from proxy.runs.state import RunState

QUESTION_FIELDS = ("question", "description", "message", "prompt", "text")
APPROVAL_HINT = "Reply yes to approve, or no (and why) to reject."
STATELESS_NOTE = (
    "\n\n(This graph is waiting for an answer. To give it, continue the conversation with a "
    "conversation id: `metadata.conversation_id` in the request, or the X-Conversation-Id "
    "header.)"
)


def _readable(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def _approval(request: dict[str, Any]) -> str:
    """One tool call waiting for approval."""
    description = request.get("description")
    if isinstance(description, str) and description.strip():
        return description.strip()
    args = json.dumps(request.get("args") or {}, ensure_ascii=False)
    return f"Run the tool {request.get('name') or '?'} with {args}?"


def is_approval(value: Any) -> bool:
    """Whether ``value`` is a human-in-the-loop middleware request (batched or per call)."""
    return isinstance(value, dict) and (
        isinstance(value.get("action_requests"), list) or value.get("type") == "tool_approval"
    )


def question(value: Any) -> str:
    """What the user is asked."""
    if is_approval(value):
        requests = value.get("action_requests") or [value]
        lines = [_approval(r) for r in requests if isinstance(r, dict)]
        return "\n\n".join([*lines, APPROVAL_HINT])
    if isinstance(value, dict):
        for field in QUESTION_FIELDS:
            if isinstance(text := value.get(field), str) and text.strip():
                return text
    return _readable(value)


def updates_reader(state: RunState) -> Reader:
    """The reader of one run's ``updates`` events: only interrupts mean anything here."""
    seen: set[str] = set()

    def read_updates(data: Any) -> Sequence[Event]:
        found = data.get("__interrupt__") if isinstance(data, dict) else None
        if not isinstance(found, list):
            return NOTHING
        events: list[Event] = []
        for interrupt in found:
            if not isinstance(interrupt, dict):
                continue
            key = str(interrupt.get("id") or len(seen))
            if key in seen:  # a subgraph's interrupt comes up through its parents too
                continue
            text = ("\n\n" if seen else "") + question(interrupt.get("value"))
            seen.add(key)
            events.append(Event(Kind.INTERRUPT, text, interrupt))
        if events and state.stateless:
            last = events[-1]
            events[-1] = last._replace(text=last.text + STATELESS_NOTE)
        return events

    return read_updates
