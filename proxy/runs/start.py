"""Starting a run for an endpoint: model -> assistant, messages -> graph input -> a read run.

Every endpoint starts its runs here, so what a request means to LangGraph is decided once. Where
a run goes (a temporary thread, or a conversation's thread and checkpoint) is the business of a
:class:`ThreadPolicy`: stateless by default, :mod:`proxy.threads` for conversations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langgraph_sdk.schema import StreamMode, StreamPart

from proxy.runs.inputs import build_input
from proxy.runs.modes import Readers, unfinished
from proxy.runs.pump import RunPump
from proxy.runs.state import RunState
from proxy.runs.usage import estimate_prompt_tokens
from proxy.settings import ProgressMode, Settings
from proxy.upstream import Model, Upstream
from proxy.upstream.errors import status_of, translate
from proxy.upstream.schemas import Schema

STREAM_MODES: tuple[StreamMode, ...] = ("custom", "messages-tuple", "updates")
"""The stream modes every run is read in (:data:`proxy.runs.modes.MODES`)."""


@dataclass(frozen=True)
class RunRequest:
    """What an endpoint asks for, in OpenAI's terms."""

    model: str
    messages: list[dict[str, Any]]
    context: dict[str, Any] | None = None
    progress: ProgressMode = "reasoning"


@dataclass(frozen=True)
class RunTarget:
    """Where a run goes and what goes in: the messages, or a reply to an interrupt."""

    messages: list[dict[str, Any]]
    thread_id: str | None = None
    checkpoint_id: str | None = None
    resume: Any = None
    """Resume an interrupted thread with this value (``Command(resume=...)``) instead."""
    metadata: dict[str, Any] | None = None
    multitask: Literal["rollback", "enqueue"] = "rollback"
    """What a run does to one still running on its thread: replace it, or wait for it."""


@dataclass(frozen=True)
class Outcome:
    """How a run ended, as the client saw it (what its thread policy records)."""

    run_id: str | None
    content: str
    """All the text the client got as the assistant message's content."""
    interrupts: list[dict[str, Any]]
    """The interrupts the run paused on (``{"id", "value"}``), if any."""
    response: dict[str, Any] | None = None
    """The endpoint's whole response, where the policy keeps it (the Responses API)."""


class ThreadPolicy(Protocol):
    """Which thread a request's run goes to, and what to remember once it ended."""

    stateless: bool
    headers: dict[str, str]
    """Response headers for the client (e.g. the thread id)."""

    async def target(
        self, model: Model, messages: list[dict[str, Any]], schema: Schema | None
    ) -> RunTarget:
        """Where the run goes."""

    async def finish(self, outcome: Outcome) -> None:
        """The run ended normally (not failed, not cancelled)."""


class Stateless:
    """Every request its own run on a temporary thread: the graph sees the history as sent."""

    stateless = True

    def __init__(self) -> None:
        """No headers to add."""
        self.headers: dict[str, str] = {}

    async def target(
        self, model: Model, messages: list[dict[str, Any]], schema: Schema | None
    ) -> RunTarget:
        """The whole conversation goes in; no thread."""
        return RunTarget(messages)

    async def finish(self, outcome: Outcome) -> None:
        """Nothing to remember."""


@dataclass
class Run:
    """A run under way: its model, its pump, and what answering needs."""

    model: Model
    pump: RunPump
    prompt_tokens: int
    """Estimated from the messages; used when the run reports no usage."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers the endpoint should add."""
    finish: Callable[[Outcome], Awaitable[None]] = Stateless().finish
    """Call once the run ended normally, before the response's last bytes."""
    remembers: bool = False
    """Whether ``finish`` needs the content (a conversation records it)."""


async def start_run(
    upstream: Upstream,
    settings: Settings,
    request: RunRequest,
    policy: ThreadPolicy | None = None,
) -> Run:
    """Resolve the model, build the graph's input and start reading the run."""
    policy = policy or Stateless()
    model = await upstream.catalog.resolve(request.model)
    schema = await upstream.schemas.input_schema(model.assistant_id)
    target = await policy.target(model, request.messages, schema)
    command: dict[str, Any] | None = None
    graph_input: dict[str, Any] | None = None
    if target.resume is not None:
        command = {"resume": target.resume}
    else:
        graph_input = build_input(target.messages, schema, settings.input_fields.get(model.id))
    state = RunState(answer_nodes(model, settings), stateless=policy.stateless)
    pump = RunPump(
        readers=Readers(STREAM_MODES, state),
        timeout=settings.run_timeout,
        drop_progress=request.progress == "drop",
    )
    on_thread: dict[str, Any] = {}
    if target.thread_id is not None:
        thread_id = target.thread_id
        on_thread = {"multitask_strategy": target.multitask, "metadata": target.metadata}
        if target.checkpoint_id is not None:
            on_thread["checkpoint_id"] = target.checkpoint_id
        pump.confirm = lambda: confirm_finished(upstream, thread_id, pump.run_id)
    # one call for both shapes: the SDK types thread runs and stateless runs apart
    stream: Callable[..., AsyncIterator[StreamPart]] = upstream.client.runs.stream
    pump.start(
        stream(
            target.thread_id,
            model.assistant_id,
            input=graph_input,
            command=command,
            context=request.context,
            stream_mode=list(STREAM_MODES),
            stream_subgraphs=True,
            on_disconnect="cancel",
            on_run_created=lambda created: pump.on_run_created(str(created["run_id"])),
            **on_thread,
        )
    )
    return Run(
        model,
        pump,
        estimate_prompt_tokens(request.messages),
        headers=dict(policy.headers),
        finish=policy.finish,
        remembers=not policy.stateless,
    )


def answer_nodes(model: Model, settings: Settings) -> frozenset[str] | None:
    """The nodes whose AI messages are the answer (None: every node's).

    ``PROXY_ANSWER_NODES`` for the model, else the assistant's metadata ``answer_nodes``.
    """
    nodes = settings.answer_nodes.get(model.id)
    if nodes is None:
        metadata = model.assistant.get("metadata")
        found = metadata.get("answer_nodes") if isinstance(metadata, dict) else None
        if isinstance(found, list) and all(isinstance(node, str) for node in found):
            nodes = found
    return frozenset(nodes) if nodes is not None else None


async def confirm_finished(upstream: Upstream, thread_id: str, run_id: str | None) -> None:
    """Fail unless the run finished.

    A run's stream carries no end marker: it also just ends when the run was replaced by
    another one (``rollback``), cancelled, or stopped with its server.
    """
    if run_id is None:
        return
    for _ in range(CONFIRM_TRIES):
        try:
            run = await asyncio.wait_for(
                upstream.client.runs.get(thread_id, run_id), upstream.settings.request_timeout
            )
        except Exception as exc:
            if status_of(exc) == 404:  # rolled back: deleted with its checkpoints
                raise unfinished("replaced by a newer one") from None
            raise translate(exc) from exc
        status = run.get("status")
        if status == "success":  # a graph that paused on interrupt() succeeded too
            return
        if status not in ("pending", "running"):
            raise unfinished(str(status))
        await asyncio.sleep(CONFIRM_PAUSE)  # the status may lag the stream's end a moment
    raise unfinished("still running, but its stream ended")


CONFIRM_TRIES = 10
CONFIRM_PAUSE = 0.1
