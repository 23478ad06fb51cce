"""What the assistant remembers about the user, in its state: it lasts as long as the thread.

``remember`` adds a fact; ``forget_everything`` clears them, and needs the user's approval
first (LangChain's human-in-the-loop middleware, in :mod:`agent.assistant`). The facts are
shown to the model with its instructions on every call.
"""

from __future__ import annotations

from langchain.agents import AgentState
from langchain.tools import ToolRuntime, tool
from langchain_core.messages import ToolMessage
from langgraph.types import Command
from typing_extensions import NotRequired

MAX_FACTS = 50
MAX_FACT_CHARS = 300


class MemoryState(AgentState):
    """The agent's state, plus the facts it keeps across turns."""

    facts: NotRequired[list[str]]


def _reply(runtime: ToolRuntime, text: str, facts: list[str]) -> Command[None]:
    message = ToolMessage(text, tool_call_id=runtime.tool_call_id or "")
    return Command(update={"facts": facts, "messages": [message]})


@tool(parse_docstring=True)
def remember(fact: str, runtime: ToolRuntime) -> Command[None]:  # noqa: D417 - injected
    """Remember a fact about the user for the rest of the conversation.

    Args:
        fact: One short fact, e.g. "The user's name is Ann".

    """
    facts = [str(f) for f in runtime.state.get("facts") or []]
    fact = " ".join(fact.split())[:MAX_FACT_CHARS]
    if fact and fact not in facts:
        facts = [*facts, fact][-MAX_FACTS:]
    return _reply(runtime, f"Remembered: {fact}", facts)


@tool
def forget_everything(runtime: ToolRuntime) -> Command[None]:
    """Forget every fact remembered about the user (asks the user first)."""
    return _reply(runtime, "Forgot everything.", [])


def with_facts(instructions: str, facts: list[str]) -> str:
    """The model's instructions, with what it remembers."""
    if not facts:
        return instructions
    return (
        instructions
        + "\n\nWhat you remember about the user:\n"
        + "\n".join(f"- {fact}" for fact in facts)
    )
