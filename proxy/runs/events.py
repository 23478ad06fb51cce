"""What a run yields to endpoints, whatever stream modes it was read in.

A run is read as a sequence of :class:`Event` values, handed over in batches. It ends when the
batches end (the run finished) or with a raised :class:`proxy.web.errors.ProxyError` (it failed,
timed out or its server went away): errors are exceptions, as in any Python stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, NamedTuple


class Kind(Enum):
    """What an event is to an OpenAI client."""

    ANSWER = "answer"
    """Text of the assistant's answer."""
    PROGRESS = "progress"
    """A progress line: tool steps, reasoning, custom progress (shown as "thinking")."""
    USAGE = "usage"
    """Token counts, summed by the pump (``data``: a dict of counts)."""
    INTERRUPT = "interrupt"
    """The run paused on ``interrupt()`` (``text``: the question; ``data``: the interrupts)."""
    RESTART = "restart"
    """The platform runs the run again from the start (``text``: a note; ``data``: attempt).

    Its executing process died and another one took the run over: what was said so far was
    said by an attempt that will not finish (docs/reliability.md)."""


class Event(NamedTuple):
    """One thing a run said: its kind, its text, and the data some kinds carry."""

    kind: Kind
    text: str = ""
    data: Any = None


NOTHING: Sequence[Event] = ()
"""What a reader returns for data that means nothing to an OpenAI client."""

Reader = Callable[[Any], Sequence[Event]]
"""Turns the data of one stream event into the events it means (usually zero or one)."""


def restart_note(attempt: int) -> str:
    """What a client is told when a run starts again."""
    return (
        f"[The LangGraph server restarted this run (attempt {attempt}) after the process "
        "running it stopped; the answer starts again below.]"
    )
