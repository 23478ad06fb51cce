"""What the readers of one run share, so that no message's text reaches the client twice.

A graph can bring the same answer through two stream modes: a node that streams its tokens
through ``custom`` and also returns the message (``messages`` mode then sends it whole), or a
node that writes LangChain's own token chunks to the stream writer while ``messages`` mode
streams them too. The rules (README, "The contract"):

* **per message id**: the first mode to bring text of a message owns it; the other mode's text
  of that message (and its usage) is dropped;
* **a whole message after custom text**: an AI message that arrives whole, with exactly the
  answer text ``custom`` streamed since the previous message event, is that text again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CUSTOM, MESSAGES = "custom", "messages"
MAX_REMEMBERED = 1 << 20
"""Characters of custom answer text kept for the whole-message rule (beyond: rule off)."""


@dataclass
class RunState:
    """Per run: who owns which message, and the custom answer text since the last message."""

    answer_nodes: frozenset[str] | None = None
    """Nodes whose AI messages are answer text (None: every node's)."""
    stateless: bool = True
    """The run is on no thread of the client's: an interrupt cannot be answered."""
    owners: dict[str, str] = field(default_factory=dict)
    _custom: list[str] = field(default_factory=list)
    _custom_chars: int = 0

    def claim(self, message_id: object, mode: str) -> bool:
        """Whether ``mode`` may send text of ``message_id`` (the first mode to ask owns it)."""
        if not isinstance(message_id, str) or not message_id:
            return True
        return self.owners.setdefault(message_id, mode) == mode

    def owned_by_other(self, message_id: object, mode: str) -> bool:
        """Whether another mode already sends this message's text."""
        owner = self.owners.get(message_id) if isinstance(message_id, str) else None
        return owner is not None and owner != mode

    def custom_answer(self, text: str) -> None:
        """Remember answer text that came through ``custom``."""
        if self._custom_chars <= MAX_REMEMBERED:
            self._custom.append(text)
            self._custom_chars += len(text)

    def repeats_custom(self, text: str) -> bool:
        """Whether ``text`` is exactly the custom answer text since the last message event."""
        if not text or self._custom_chars != len(text) or self._custom_chars > MAX_REMEMBERED:
            return False
        return "".join(self._custom) == text

    def message_seen(self) -> None:
        """A message event arrived: custom text before it is no longer pending."""
        if self._custom:
            self._custom.clear()
            self._custom_chars = 0
