"""The stream modes a run is read in, and the reader of each: a new mode is one entry here.

LangGraph names a mode's events after the mode, with ``|<namespace>`` for subgraphs
(``custom|tools:<task id>``); every namespace of a mode goes to the same reader. The readers
of one run share a :class:`~proxy.runs.state.RunState`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from langgraph_sdk.schema import StreamMode as SdkStreamMode

from proxy.runs.custom import custom_reader
from proxy.runs.events import NOTHING, Event, Kind, Reader, restart_note
from proxy.runs.interrupts import updates_reader
from proxy.runs.messages import messages_reader
from proxy.runs.state import RunState
from proxy.upstream.errors import RunError
from proxy.web.errors import ProxyError, upstream_failed


class StreamMode(NamedTuple):
    """A stream mode: what the SDK is asked for, what its events are called, who reads them."""

    name: SdkStreamMode
    event: str
    reader: Callable[[RunState], Reader]


MODES: dict[str, StreamMode] = {
    mode.name: mode
    for mode in (
        StreamMode("custom", "custom", custom_reader),
        StreamMode("messages-tuple", "messages", messages_reader),
        StreamMode("updates", "updates", updates_reader),
    )
}
"""Every mode the proxy can read, by the name the SDK is asked for."""


def ignore(_: Any) -> Sequence[Event]:
    """Events of modes nobody asked for (``metadata``, ``end``, ...) mean nothing here."""
    return NOTHING


def unfinished(why: str) -> ProxyError:
    """A run that ended without finishing: what was sent of it is not the whole answer."""
    return upstream_failed(
        f"The run did not finish ({why}); what was sent of it is incomplete.", retry=False
    )


def raise_error(data: Any) -> Sequence[Event]:
    """The platform's ``{"error": type, "message": ...}`` ends the run as a :class:`RunError`."""
    if not isinstance(data, dict):
        raise RunError("RunError", str(data))
    message = str(data.get("message") or "")
    if message.endswith("Run not found"):  # deleted while we read it (replaced by a newer run)
        raise unfinished("replaced by a newer one")
    raise RunError(str(data.get("error") or "RunError"), message)


class Readers:
    """One run's readers, by event name; namespaced names are resolved once each.

    A ``metadata`` event names the run's attempt: one after the first means the platform
    runs it again from the start, so the readers start again too (a :data:`Kind.RESTART`).
    """

    __slots__ = ("_attempt", "_by_mode", "_by_name", "_modes", "_state")

    def __init__(self, modes: Sequence[str], state: RunState | None = None) -> None:
        """Make a reader for each of ``modes`` (names in :data:`MODES`), sharing ``state``."""
        self._modes, self._state = tuple(modes), state or RunState()
        self._attempt = 1
        self._start()

    def _start(self) -> None:
        shared = replace(self._state)
        self._by_mode: dict[str, Reader] = {
            MODES[m].event: MODES[m].reader(shared) for m in self._modes
        }
        self._by_mode["error"] = raise_error
        self._by_mode["metadata"] = self._metadata
        self._by_name: dict[str, Reader] = dict(self._by_mode)

    def _metadata(self, data: Any) -> Sequence[Event]:
        attempt = data.get("attempt") if isinstance(data, dict) else None
        if not isinstance(attempt, int) or attempt <= self._attempt:
            return NOTHING
        self._attempt = attempt
        self._start()  # what the abandoned attempt left half-read is gone with it
        return (Event(Kind.RESTART, restart_note(attempt), attempt),)

    def __call__(self, event: str) -> Reader:
        """The reader for events named ``event``."""
        reader = self._by_name.get(event)
        if reader is None:
            reader = self._by_mode.get(event.split("|", 1)[0], ignore)
            self._by_name[event] = reader
        return reader

    def finish(self) -> list[Event]:
        """What readers still hold when the run's stream ends (e.g. pending tool calls)."""
        events: list[Event] = []
        for reader in self._by_mode.values():
            finish = getattr(reader, "finish", None)
            if finish is not None:
                events += finish()
        return events
