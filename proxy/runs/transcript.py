"""What a client got as the assistant's content, for the run's thread policy to remember.

Endpoints pass every piece of content through :meth:`Transcript.add`; it also puts a blank line
before an interrupt's question when the run already said something.
"""

from __future__ import annotations

from typing import Any

from proxy.runs.events import Event, Kind
from proxy.runs.start import Outcome


class Transcript:
    """The content sent so far (kept only when ``remember``), and the interrupts met."""

    __slots__ = ("_parts", "interrupts", "remember", "said")

    def __init__(self, remember: bool) -> None:
        """Start empty; ``remember`` keeps the text (a conversation records it)."""
        self.remember = remember
        self.said = False
        self._parts: list[str] = []
        self.interrupts: list[dict[str, Any]] = []

    def add(self, texts: list[str]) -> str:
        """Content pieces about to be sent, joined."""
        text = "".join(texts)
        if text:
            self.said = True
            if self.remember:
                self._parts.append(text)
        return text

    def interrupt(self, events: list[Event]) -> str:
        """An interrupt's question, as content."""
        self.interrupts += [e.data for e in events if e.kind is Kind.INTERRUPT]
        text = "".join(e.text for e in events)
        if self.said and text and not text.startswith("\n"):
            text = "\n\n" + text
        return self.add([text])

    def outcome(self, run_id: str | None, response: dict[str, Any] | None = None) -> Outcome:
        """How the run ended, for its thread policy."""
        return Outcome(run_id, "".join(self._parts), self.interrupts, response)
