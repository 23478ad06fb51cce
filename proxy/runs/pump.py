"""Reading one run: a task of its own turns its stream into events, handed over in batches.

Reading in a separate task lets the run timeout and a client's disconnect stop the run cleanly
(closing the SDK stream cancels the run upstream), and lets events that arrived while the
client was being written to go out together in one write. Timeouts and cancellation live here,
once, for every endpoint; a busy stream reaches the pump in bursts
(:mod:`proxy.upstream.transport`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from langgraph_sdk.schema import StreamPart

from proxy.runs.events import Event, Kind
from proxy.runs.handoff import Handoff
from proxy.runs.modes import Readers
from proxy.runs.usage import add_usage
from proxy.upstream.errors import translate
from proxy.web.errors import ProxyError, upstream_failed, upstream_timeout

logger = logging.getLogger("proxy.runs")

QUEUE_SIZE = 4096
"""Events read ahead of a slow client before the run's stream is paused."""

_END = object()
_pumps: set[asyncio.Task[None]] = set()
"""Running pump tasks, referenced so they are not garbage-collected mid-run."""


async def _aclose(events: AsyncIterator[StreamPart]) -> None:
    """Close the SDK's stream: that cancels the run upstream if it is still going."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


class RunPump:
    """Reads a run's events in a task of its own and hands them over in batches.

    :meth:`created` resolves as soon as the LangGraph server has accepted the run (its
    response headers), before the run starts executing: a queued run can then already
    answer with headers and keep-alive pings, and a client that leaves while it waits
    cancels it. Failures before that point raise from :meth:`created`, so they are still
    HTTP errors rather than stream events.
    """

    def __init__(self, *, readers: Readers, timeout: float, drop_progress: bool) -> None:
        """Get ready; :meth:`start` begins reading."""
        self._readers = readers
        self._timeout = timeout
        self._drop_progress = drop_progress
        self._handoff: Handoff[Any] = Handoff(QUEUE_SIZE)
        self._created: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        # a failure nobody waits for any more (the client left) is not an unretrieved error
        self._created.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._task: asyncio.Task[None] | None = None
        self.started = False
        self.confirm: Callable[[], Awaitable[None]] | None = None
        """Checks that a run whose stream ended really finished (runs on a thread)."""
        self.run_id: str | None = None
        self.usage: dict[str, int] | None = None
        """Usage the run reported (summed), or None: then endpoints estimate it."""

    def on_run_created(self, run_id: str | None) -> None:
        """The server accepted the run (the SDK's ``on_run_created``, or its first event)."""
        self.run_id = self.run_id or run_id
        if not self._created.done():
            self._created.set_result(run_id)

    def start(self, events: AsyncIterator[StreamPart]) -> None:
        """Read ``events`` in a task of its own."""
        self._task = asyncio.create_task(self._pump(events))
        _pumps.add(self._task)
        self._task.add_done_callback(_pumps.discard)

    async def created(self) -> str | None:
        """Wait until the run exists; its id, if the server said it. Raises a ProxyError."""
        return await asyncio.shield(self._created)

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Yield the events waiting at each wake-up; raise what ended the run, if it failed."""
        take = self._handoff.take
        while True:
            batch = await take()
            end = batch[-1]
            if end is _END or isinstance(end, BaseException):
                if len(batch) > 1:
                    yield batch[:-1]
                if isinstance(end, BaseException):
                    raise end
                return
            yield batch

    def close(self) -> None:
        """Stop reading; closing the SDK stream cancels the run upstream. Never blocks."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if not self._created.done():
            self._created.cancel()

    async def _pump(self, events: AsyncIterator[StreamPart]) -> None:
        """Read until the run ends; hand over ``_END`` or the error that ended it.

        The run timeout applies twice: to the wait for the run to start (a queued run sends
        nothing), and again to the run itself, from its first event.
        """
        outcome: object = _END
        try:
            async with asyncio.timeout(self._timeout) as deadline:
                try:
                    await self._read(events, deadline)
                finally:
                    await _aclose(events)
        except TimeoutError:
            outcome = upstream_timeout(
                "The run took longer than PROXY_RUN_TIMEOUT and was cancelled."
                if self.started
                else "The run did not start within PROXY_RUN_TIMEOUT and was cancelled.",
                retry=False,
            )
        except asyncio.CancelledError:
            if not self._created.done():
                self._created.cancel()
            raise
        except Exception as exc:
            logger.warning("run stream failed: %s", type(exc).__name__)
            outcome = translate(exc)
        if isinstance(outcome, ProxyError) and not self._created.done():
            self._created.set_exception(outcome)  # nobody got past created(): an HTTP error
            return
        self._handoff.put_last(outcome)

    async def _read(self, events: AsyncIterator[StreamPart], deadline: asyncio.Timeout) -> None:
        """Hand over every event the readers make of the run's stream."""
        readers, keep = self._readers, self._keep
        put = self._handoff.put
        async for part in events:
            if not self.started:  # the first event (``metadata``): the run is executing
                self._start(part.data, deadline)
            for event in readers(part.event)(part.data):
                if keep(event):  # a plain call per event (no coroutine) on the hot path
                    await put(event)
        if not self.started:
            raise upstream_failed("The LangGraph server closed the run's stream at once.")
        if self.confirm is not None:
            await self.confirm()
        for event in readers.finish():
            if keep(event):
                await put(event)

    def _keep(self, event: Event) -> bool:
        """Whether the consumer gets ``event``: usage is summed here, progress maybe dropped."""
        kind = event.kind
        if kind is Kind.USAGE:
            self.usage = add_usage(self.usage, event.data)
            return False
        if kind is Kind.RESTART:
            self.usage = None  # only the attempt that finishes counts
        return kind is not Kind.PROGRESS or not self._drop_progress

    def _start(self, data: Any, deadline: asyncio.Timeout) -> None:
        """The run is executing: its id is known, and the run timeout starts again."""
        self.started = True
        run_id = data.get("run_id") if isinstance(data, dict) else None
        self.on_run_created(str(run_id) if run_id else None)
        deadline.reschedule(asyncio.get_running_loop().time() + self._timeout)
