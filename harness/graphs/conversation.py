"""Graphs whose state lives across turns, for the conversation tests (test servers only).

* ``counter``: answers ``Turn N: <what you said>`` and keeps N in its state, so a test can see
  whether the thread holds exactly the turns the client shows (edits, regenerations).
* ``ask``: asks a question with ``interrupt()`` before it answers, and a second one when
  the first answer is "again"; ``ask-dict`` interrupts with a dict, as tools often do.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from typing_extensions import NotRequired, TypedDict


class State(TypedDict):
    """A conversation and how many turns it has had."""

    messages: Annotated[list[AnyMessage], add_messages]
    turns: NotRequired[int]


def _last_text(state: State) -> str:
    return state["messages"][-1].text if state["messages"] else ""


async def count(state: State) -> dict[str, Any]:
    """One more turn: say which, and echo the user."""
    turns = state.get("turns", 0) + 1
    return {"turns": turns, "messages": [AIMessage(f"Turn {turns}: {_last_text(state)}")]}


async def ask(state: State) -> dict[str, Any]:
    """Ask for a name (twice if told "again"), then greet."""
    name = interrupt("What is your name?")
    if name == "again":
        name = interrupt("Really, what is your name?")
    return {"messages": [AIMessage(f"Hello, {name}! You asked: {_last_text(state)}")]}


async def ask_dict(state: State) -> dict[str, Any]:
    """Interrupt with a dict, as a tool asking for confirmation does."""
    answer = interrupt({"question": "Proceed with the transfer?", "amount": 10})
    return {"messages": [AIMessage(f"You said {answer!r}.")]}


def _one_node(name: str, node: Any) -> Any:
    return StateGraph(State).add_node("node", node).add_edge(START, "node").compile(name=name)


counter = _one_node("counter", count)
asker = _one_node("ask", ask)
asker_dict = _one_node("ask-dict", ask_dict)
