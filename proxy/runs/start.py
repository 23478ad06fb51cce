"""Starting a run for an endpoint: model -> assistant, messages -> graph input -> a read run.

Every endpoint starts its runs here, so what a request means to LangGraph is decided once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langgraph_sdk.schema import StreamMode

from proxy.runs.inputs import build_input
from proxy.runs.modes import Readers
from proxy.runs.pump import RunPump
from proxy.runs.state import RunState
from proxy.runs.usage import estimate_prompt_tokens
from proxy.settings import ProgressMode, Settings
from proxy.upstream import Model, Upstream

STREAM_MODES: tuple[StreamMode, ...] = ("custom", "messages-tuple")
"""The stream modes every run is read in (:data:`proxy.runs.modes.MODES`)."""


@dataclass(frozen=True)
class RunRequest:
    """What an endpoint asks for, in OpenAI's terms."""

    model: str
    messages: list[dict[str, Any]]
    context: dict[str, Any] | None = None
    progress: ProgressMode = "reasoning"


@dataclass
class Run:
    """A run under way: its model, its pump, and what usage estimates need."""

    model: Model
    pump: RunPump
    prompt_tokens: int
    """Estimated from the messages; used when the run reports no usage."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers the endpoint should add."""


async def start_run(upstream: Upstream, settings: Settings, request: RunRequest) -> Run:
    """Resolve the model, build the graph's input and start reading a stateless run."""
    model = await upstream.catalog.resolve(request.model)
    schema = await upstream.schemas.input_schema(model.assistant_id)
    graph_input = build_input(request.messages, schema, settings.input_fields.get(model.id))
    pump = RunPump(
        readers=Readers(STREAM_MODES, RunState(answer_nodes(model, settings))),
        timeout=settings.run_timeout,
        drop_progress=request.progress == "drop",
    )
    pump.start(
        upstream.client.runs.stream(
            None,
            model.assistant_id,
            input=graph_input,
            context=request.context,
            stream_mode=list(STREAM_MODES),
            stream_subgraphs=True,
            on_disconnect="cancel",
            on_run_created=lambda created: pump.on_run_created(str(created["run_id"])),
        )
    )
    return Run(model, pump, estimate_prompt_tokens(request.messages))


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
