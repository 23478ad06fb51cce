"""Every way a graph can bring its answer, for "no text twice" (served by test servers only).

Each graph answers ``REPLY`` (or ``INTRO + REPLY``) in one of the shapes LangGraph users write:
a streaming chat model, one that does not stream, a hand-built message, custom chunks and a
model mixed, a node that streams through custom and returns the same text, a node that writes
the model's own chunks to the stream writer, a subgraph, and a router whose model call is an
internal step.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage
from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from harness.graphs.models import ScriptedModel

REPLY = "Hello from the model."
INTRO = "Intro first. "
ROUTE = "route: answer"

model = ScriptedModel(reply=REPLY)
quiet_model = ScriptedModel(reply=REPLY, disable_streaming=True)
router_model = ScriptedModel(reply=ROUTE)


class State(TypedDict):
    """A conversation."""

    messages: Annotated[list[AnyMessage], add_messages]


Update = dict[str, list[AIMessage]]


def _one_node(name: str, node: Any) -> Any:
    return StateGraph(State).add_node("respond", node).add_edge(START, "respond").compile(name=name)


async def streamed(state: State) -> Update:
    """A chat model whose tokens stream (``messages`` mode only)."""
    return {"messages": [await model.ainvoke(state["messages"])]}


async def not_streamed(state: State) -> Update:
    """A model that does not stream: its message arrives whole when the node ends."""
    return {"messages": [await quiet_model.ainvoke(state["messages"])]}


async def tagged_nostream(state: State) -> Update:
    """A streaming model LangGraph is told not to stream (the ``nostream`` tag)."""
    reply = await model.ainvoke(state["messages"], config={"tags": ["nostream"]})
    return {"messages": [reply]}


async def hand_built(state: State) -> Update:
    """No model at all: the node returns an AI message it made."""
    return {"messages": [AIMessage(content=REPLY)]}


async def intro(state: State) -> dict[str, Any]:
    """Custom progress and answer text, before a model speaks."""
    write = get_stream_writer()
    write({"type": "progress", "text": "Looking things up.\n"})
    write(INTRO)
    return {}


async def custom_then_message(state: State) -> Update:
    """Streams through custom without naming a message, then returns the same text."""
    write = get_stream_writer()
    for piece in ("Hello ", "from ", "the ", "model."):
        write({"type": "answer", "text": piece})
    return {"messages": [AIMessage(content=REPLY)]}


async def chunks_to_custom(state: State) -> Update:
    """Writes the model's own chunks to the stream writer while ``messages`` streams them."""
    write = get_stream_writer()
    reply: AIMessageChunk | None = None
    async for chunk in model.astream(state["messages"]):
        write(chunk)
        reply = chunk if reply is None else reply + chunk
    assert reply is not None
    return {"messages": [AIMessage(content=reply.content, id=reply.id)]}


async def route(state: State) -> Update:
    """An internal model call (a router's decision): not the answer."""
    return {"messages": [await router_model.ainvoke(state["messages"])]}


streaming = _one_node("kinds-streaming", streamed)
not_streaming = _one_node("kinds-not-streaming", not_streamed)
nostream_tag = _one_node("kinds-nostream-tag", tagged_nostream)
hand_built_message = _one_node("kinds-hand-built-message", hand_built)
custom_and_message = _one_node("kinds-custom-and-message", custom_then_message)
custom_chunks_too = _one_node("kinds-custom-chunks-too", chunks_to_custom)
mixed = (
    StateGraph(State)
    .add_node(intro)
    .add_node("respond", streamed)
    .add_edge(START, "intro")
    .add_edge("intro", "respond")
    .compile(name="kinds-mixed")
)
subgraph = (
    StateGraph(State)
    .add_node("inner", streaming)
    .add_edge(START, "inner")
    .compile(name="kinds-subgraph")
)
router = (
    StateGraph(State)
    .add_node(route)
    .add_node("answer", streamed)
    .add_edge(START, "route")
    .add_edge("route", "answer")
    .compile(name="kinds-router")
)
