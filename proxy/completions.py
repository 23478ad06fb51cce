"""One chat completion: read a run's custom stream, emit OpenAI chunks or one body.

Both paths read the run through the same :class:`RunPump`, so a streamed and a non-streamed
completion of the same run can never disagree.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import aclosing
from itertools import groupby
from operator import attrgetter
from typing import Any

from langgraph_sdk.schema import StreamPart

from proxy.chunks import Chunk, Kind, classify
from proxy.errors import ProxyError, upstream_failed, upstream_timeout
from proxy.protocol import completion_body, usage_object
from proxy.settings import ProgressMode
from proxy.sse import DONE, ChunkEncoder, error_event
from proxy.upstream import RunError, translate

logger = logging.getLogger("proxy.completions")

QUEUE_SIZE = 4096
"""Chunks read ahead of a slow client before the run's stream is paused."""

_END = object()
_pumps: set[asyncio.Task[None]] = set()
"""Running pump tasks, referenced so they are not garbage-collected mid-run."""


def _run_error(data: Any) -> RunError:
    """The platform's ``{"error": type, "message": ...}`` as an exception."""
    if isinstance(data, dict):
        return RunError(str(data.get("error") or "RunError"), str(data.get("message") or ""))
    return RunError("RunError", str(data))


class Handoff:
    """One producer, one consumer: the consumer takes everything waiting at each wake-up.

    Cheaper than ``asyncio.Queue`` per item (no per-get bookkeeping), and the batch is the
    unit the client is written in. ``put`` waits only while ``limit`` items are unread.
    """

    __slots__ = ("_items", "_limit", "_space", "_waiter")

    def __init__(self, limit: int) -> None:
        """An empty buffer holding at most ``limit`` items."""
        self._items: deque[Any] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None

    async def put(self, item: Any) -> None:
        """Add an item, waiting for the consumer first if the buffer is full."""
        while len(self._items) >= self._limit:
            self._space = asyncio.get_running_loop().create_future()
            await self._space
        self.put_last(item)

    def put_last(self, item: Any) -> None:
        """Add an item whatever the limit (the final one: its consumer may be gone)."""
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def take(self) -> list[Any]:
        """Every item waiting, in order; waits until there is at least one."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        items = list(self._items)
        self._items.clear()
        space = self._space
        if space is not None:
            self._space = None
            if not space.done():
                space.set_result(None)
        return items


class RunPump:
    """Reads a run's events in a task of its own and hands over classified chunks in batches.

    Reading in a separate task lets the run timeout and a client's disconnect stop the run
    cleanly (closing the SDK stream cancels the run upstream), and lets chunks that arrived
    while the client was being written to go out together in one write.

    :meth:`created` resolves as soon as the LangGraph server has accepted the run (its
    response headers), before the run starts executing: a queued run can then already
    answer with headers and keep-alive pings, and a client that leaves while it waits
    cancels it. Failures before that point raise from :meth:`created`, so they are still
    HTTP errors rather than stream events.
    """

    def __init__(
        self,
        *,
        timeout: float,
        progress: ProgressMode,
        coalesce: float = 0.0,
    ) -> None:
        """Get ready; :meth:`start` begins reading.

        ``coalesce``: seconds to pause reading after a chunk that needed a fresh read, so a
        burst piles up; 0 when the SDK's transport already reads in bursts (standalone on
        aiohttp, :mod:`proxy.transport`), else (mounted, in-process) the pause happens here.
        """
        self._timeout = timeout
        self._coalesce = coalesce
        self._handoff = Handoff(QUEUE_SIZE)
        self._drop_progress = progress == "drop"
        self._created: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        # a failure nobody waits for any more (the client left) is not an unretrieved error
        self._created.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._task: asyncio.Task[None] | None = None
        self.usage: dict[str, int] | None = None

    def on_run_created(self, run_id: str | None) -> None:
        """The server accepted the run (the SDK's ``on_run_created``, or its first event)."""
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

    def _fail_before_created(self, error: ProxyError) -> bool:
        """Report a failure through :meth:`created` if nobody got past it yet."""
        if self._created.done():
            return False
        self._created.set_exception(error)
        return True

    async def _pump(self, events: AsyncIterator[StreamPart]) -> None:
        """Classify every custom event; end with ``_END`` or the exception that ended the run.

        The run timeout applies twice: to the wait for the run to start (a queued run sends
        nothing), and again to the run itself, from its ``metadata`` event.
        """
        handoff = self._handoff
        put = handoff.put
        drop_progress = self._drop_progress
        loop = asyncio.get_running_loop()
        coalesce = self._coalesce
        started = False
        outcome: object = _END
        try:
            async with asyncio.timeout(self._timeout) as deadline, aclosing(events):
                while True:
                    # The loop runs this marker only if the read below has to wait for the
                    # socket, i.e. the event comes from a fresh read, not from the buffer.
                    waited: list[None] = []
                    if coalesce:
                        loop.call_soon(waited.append, None)
                    try:
                        part = await anext(events)
                    except StopAsyncIteration:
                        if not started:
                            outcome = upstream_failed(
                                "The LangGraph server closed the run's stream at once."
                            )
                        break
                    event = part.event
                    if not started:  # the first event (``metadata``): the run is executing
                        started = True
                        data = part.data
                        run_id = data.get("run_id") if isinstance(data, dict) else None
                        self.on_run_created(str(run_id) if run_id else None)
                        deadline.reschedule(loop.time() + self._timeout)
                    if event == "custom" or event.startswith("custom|"):
                        chunk = classify(part.data)
                        kind = chunk.kind
                        if kind is Kind.ANSWER or (kind is Kind.PROGRESS and not drop_progress):
                            await put(chunk)
                            if waited:
                                # Pause before the next read so the rest of a burst piles up
                                # and goes through in one read and one client write. A chunk
                                # after a quiet spell is handed over at once, not delayed.
                                await asyncio.sleep(coalesce)
                        elif kind is Kind.USAGE:
                            self._add_usage(chunk)
                    elif event == "error":
                        outcome = _run_error(part.data)
                        break
        except TimeoutError:
            outcome = upstream_timeout(
                "The run took longer than PROXY_RUN_TIMEOUT and was cancelled."
                if started
                else "The run did not start within PROXY_RUN_TIMEOUT and was cancelled.",
                retry=False,
            )
        except asyncio.CancelledError:
            if not self._created.done():
                self._created.cancel()
            raise
        except Exception as exc:
            logger.warning("run stream failed: %s", type(exc).__name__)
            outcome = exc
        if isinstance(outcome, BaseException) and self._fail_before_created(translate(outcome)):
            return
        handoff.put_last(outcome)

    def _add_usage(self, chunk: Chunk) -> None:
        """Sum usage reports (a graph may call a model several times)."""
        report = chunk.usage or {}
        total = self.usage or {"prompt_tokens": 0, "completion_tokens": 0}
        for key in ("prompt_tokens", "completion_tokens"):
            total[key] += report.get(key, 0)
        self.usage = total

    async def batches(self) -> AsyncIterator[list[Chunk]]:
        """Yield the chunks waiting at each wake-up; raise what ended the run, if it failed."""
        take = self._handoff.take
        while True:
            batch = await take()
            end = batch[-1]
            if end is _END or isinstance(end, BaseException):
                if len(batch) > 1:
                    yield batch[:-1]
                if end is _END:
                    return
                raise end
            yield batch

    def close(self) -> None:
        """Stop reading; closing the SDK stream cancels the run upstream. Never blocks."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if not self._created.done():
            self._created.cancel()


_KIND = attrgetter("kind")


def _same_kind_runs(batch: list[Chunk]) -> Iterator[tuple[Kind, Iterable[Chunk]]]:
    """Consecutive chunks of one kind, together: each run becomes one delta."""
    return groupby(batch, _KIND)


def _one_by_one(batch: list[Chunk]) -> Iterator[tuple[Kind, Iterable[Chunk]]]:
    """Every chunk on its own: one delta each (``PROXY_MERGE_DELTAS=false``)."""
    return ((chunk.kind, (chunk,)) for chunk in batch)


def estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """About four characters a token, over the text of every message (documented in README)."""
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(
                len(text)
                for part in content
                if isinstance(part, dict) and isinstance(text := part.get("text"), str)
            )
    return math.ceil(chars / 4)


class Completion:
    """Settings of one completion that every chunk needs."""

    __slots__ = (
        "created",
        "encoder",
        "id",
        "include_usage",
        "merge",
        "model",
        "progress",
        "prompt_tokens",
    )

    def __init__(
        self,
        *,
        completion_id: str,
        created: int,
        model: str,
        progress: ProgressMode,
        include_usage: bool,
        prompt_tokens: int,
        merge: bool = True,
    ) -> None:
        """Pre-encode the chunk envelope.

        ``merge``: chunks of one kind that reached the proxy together leave as one delta.
        """
        self.id = completion_id
        self.created = created
        self.model = model
        self.progress = progress
        self.include_usage = include_usage
        self.prompt_tokens = prompt_tokens
        self.merge = merge
        self.encoder = ChunkEncoder(completion_id, created, model)

    def usage(self, pump: RunPump, answer_chunks: int, progress_chunks: int) -> dict[str, Any]:
        """The graph's own usage report if it sent one, else the documented estimate."""
        if pump.usage is not None:
            return usage_object(pump.usage["prompt_tokens"], pump.usage["completion_tokens"], 0)
        return usage_object(self.prompt_tokens, answer_chunks + progress_chunks, progress_chunks)

    async def stream(self, pump: RunPump) -> AsyncIterator[bytes]:
        """The SSE body: role chunk, deltas, finish chunk, optional usage chunk, ``[DONE]``.

        A batch is what reached the proxy together (a burst held by ``PROXY_COALESCE_MS``).
        With ``merge``, each run of same-kind chunks in it becomes one delta, as an LLM server
        sends several tokens in one chunk: the text and its timing are the same, and a client
        parses one event where it would have parsed dozens (``PROXY_MERGE_DELTAS``).
        """
        encoder = self.encoder
        content = encoder.content
        progress = encoder.content if self.progress == "content" else encoder.reasoning
        runs = _same_kind_runs if self.merge else _one_by_one
        answers = progresses = 0
        try:
            yield encoder.role()
            async for batch in pump.batches():
                parts = []
                for kind, group in runs(batch):
                    texts = [chunk.text for chunk in group]
                    if kind is Kind.ANSWER:
                        parts.append(content("".join(texts)))
                        answers += len(texts)
                    else:
                        parts.append(progress("".join(texts)))
                        progresses += len(texts)
                yield parts[0] if len(parts) == 1 else b"".join(parts)
        except Exception as exc:
            yield error_event(translate(exc).body()) + DONE
            return
        finally:
            pump.close()
        tail = encoder.finish()
        if self.include_usage:
            tail += encoder.usage(self.usage(pump, answers, progresses))
        yield tail + DONE

    async def aggregate(self, pump: RunPump) -> dict[str, Any]:
        """The non-streaming body, built from the same chunks the stream would carry."""
        answer: list[str] = []
        reasoning: list[str] = []
        progress = answer if self.progress == "content" else reasoning
        answers = progresses = 0
        try:
            async for batch in pump.batches():
                for chunk in batch:
                    if chunk.kind is Kind.ANSWER:
                        answer.append(chunk.text)
                        answers += 1
                    else:
                        progress.append(chunk.text)
                        progresses += 1
        except Exception as exc:
            raise translate(exc) from exc
        finally:
            pump.close()
        usage = self.usage(pump, answers, progresses)
        return completion_body(
            self.id, self.created, self.model, "".join(answer), "".join(reasoning) or None, usage
        )
