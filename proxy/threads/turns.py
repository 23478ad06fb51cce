"""Which of the messages a client resends the thread has seen: a record per run, matched.

Clients send the whole history every turn. Each run on a conversation's thread leaves a record:
how many of the client's messages it covered (what went in, and its own answer) and a digest
of them. A new request is walked against the records; the first record that no longer matches
(an edited message, a regenerated answer) is where the thread forks, and everything after the
matched records is what goes in. System and developer messages are not compared (clients
rewrite them per request, e.g. with the date); they go in when a thread starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from proxy.runs.content import TEXT_PARTS, text_parts

COMPARED = frozenset({"user", "assistant", "tool", "function"})
_SHOWN_THINKING = re.compile(r"<(details|think)\b[^>]*>.*?</\1>", re.S | re.I)
"""Reasoning some clients fold into the assistant message they send back (Open WebUI)."""


@dataclass(frozen=True)
class Record:
    """One run: ``n`` compared messages (its input and its answer), their digest, where it ended.

    ``checkpoint`` is the thread's head when the run ended: where the next turn continues, or
    a later edit forks. (A run resumed into another interrupt writes no checkpoint of its own.)
    """

    n: int
    digest: str
    checkpoint: str
    interrupt: bool = False
    """The run ended on a question (``interrupt()``): its answer is the user's next message."""

    def to_json(self) -> dict[str, Any]:
        """As stored."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Record | None:
        """From storage; None if it is not a record."""
        if not isinstance(data, dict):
            return None
        try:
            interrupt = bool(data.get("interrupt"))
            return cls(int(data["n"]), str(data["digest"]), str(data["checkpoint"]), interrupt)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Match:
    """How far the records match the client's messages."""

    kept: int
    """Records that still hold."""
    new: list[dict[str, Any]]
    """The compared messages after them: what the thread has not seen."""


def compared(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages records are made of: user, assistant and tool ones."""
    return [m for m in messages if m.get("role") in COMPARED]


def _normal(message: dict[str, Any]) -> list[Any]:
    """A message as compared: role, its text with whitespace folded, its other parts."""
    role = str(message.get("role"))
    content = message.get("content")
    texts = [text for text in text_parts(content) if text is not None]
    text = "".join(texts)
    if role == "assistant":
        text = _SHOWN_THINKING.sub("", text)
    parts = content if isinstance(content, list) else []
    others = [p for p in parts if isinstance(p, dict) and p.get("type") not in TEXT_PARTS]
    return [role, " ".join(text.split()), others]


def digest(messages: list[dict[str, Any]]) -> str:
    """A digest of compared messages."""
    data = json.dumps([_normal(m) for m in messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def match(records: list[Record], messages: list[dict[str, Any]]) -> Match:
    """Walk ``records`` along the client's messages as far as they agree."""
    visible = compared(messages)
    position = kept = 0
    for record in records:
        end = position + record.n
        if record.n < 1 or end > len(visible) or digest(visible[position:end]) != record.digest:
            break
        position, kept = end, kept + 1
    return Match(kept, visible[position:])
