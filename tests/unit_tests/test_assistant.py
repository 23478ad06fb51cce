"""The tool-using assistant in-process, against the fake OpenAI upstream, and its tools."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.assistant import graph
from agent.model_settings import Context
from agent.tools import calculator, current_time, evaluate, play_up_down
from proxy.runs.events import Kind
from proxy.runs.modes import Readers
from proxy.runs.state import RunState
from tests.fake_openai import FakeOpenAI, ToolCall


@pytest.fixture
def fake(fake_model: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The session's fake model; no model settings from the developer's environment."""
    for name in ("CHAT_MODEL", "CHAT_BASE_URL", "CHAT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return fake_model


def context(fake: FakeOpenAI) -> Context:
    return Context(model="fake-model", base_url=fake.url)


CALC = ToolCall("calculator", '{"expression": "2 + 3 * 4"}')
ANSWER = ["The ", "answer ", "is ", "14."]


async def run(fake: FakeOpenAI, text: str) -> tuple[list[Any], dict[str, Any]]:
    """One run; the ``messages`` events as a LangGraph server would send them, and the state."""
    events: list[Any] = []
    state: dict[str, Any] = {}
    async for mode, data in graph.astream(
        {"messages": [{"role": "user", "content": text}]},
        context=context(fake),
        stream_mode=["messages", "values"],
    ):
        if mode == "messages":
            message, metadata = data
            wire = [message.model_dump(), {"langgraph_node": metadata["langgraph_node"]}]
            events.append(orjson.loads(orjson.dumps(wire, default=str)))
        else:
            state = data
    return events, state


async def test_the_agent_calls_a_tool_then_answers(fake: FakeOpenAI) -> None:
    fake.turns = [[CALC], ANSWER]
    _, state = await run(fake, "What is 2 + 3 * 4?")
    human, call, result, answer = state["messages"]
    assert isinstance(human, HumanMessage)
    assert isinstance(call, AIMessage) and call.tool_calls[0]["name"] == "calculator"
    assert call.tool_calls[0]["args"] == {"expression": "2 + 3 * 4"}
    assert isinstance(result, ToolMessage) and result.content == "14"
    assert isinstance(answer, AIMessage) and answer.content == "The answer is 14."
    first, second = fake.requests
    assert [t["function"]["name"] for t in first["body"]["tools"]] == [
        "calculator",
        "current_time",
        "play_up_down",
        "remember",
        "forget_everything",
    ]
    assert second["body"]["messages"][-1]["role"] == "tool"


async def test_what_the_proxy_makes_of_its_stream(fake: FakeOpenAI) -> None:
    """Tokens are the answer, once; the tool step is progress; nothing else leaks."""
    fake.turns = [[CALC], ANSWER]
    events, _ = await run(fake, "What is 2 + 3 * 4?")
    readers = Readers(["custom", "messages-tuple"], RunState())
    read = [e for data in events for e in readers("messages")(data)] + readers.finish()
    assert [e.text for e in read if e.kind is Kind.ANSWER] == ANSWER
    assert [e.text for e in read if e.kind is Kind.PROGRESS] == [
        'Calling calculator with {"expression": "2 + 3 * 4"}\n',
        "Tool calculator returned: 14\n",
    ]


async def test_a_tool_error_goes_back_to_the_model(fake: FakeOpenAI) -> None:
    fake.turns = [[ToolCall("calculator", '{"expression": "1 / 0"}')], ["Cannot divide by zero."]]
    _, state = await run(fake, "1/0?")
    result = state["messages"][2]
    assert isinstance(result, ToolMessage) and result.status == "error"
    assert "division by zero" in str(result.content)
    assert state["messages"][-1].content == "Cannot divide by zero."


async def test_without_a_model_the_run_fails_saying_what_to_set() -> None:
    with pytest.raises(ValueError, match="CHAT_MODEL"):
        await graph.ainvoke({"messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize(
    ("expression", "value"),
    [("2 + 3 * 4", 14), ("2 ** 10", 1024), ("7 // 2", 3), ("-(3 - 5) % 3", 2), ("1 / 4", 0.25)],
)
def test_calculator(expression: str, value: float) -> None:
    assert evaluate(expression) == value
    assert calculator.invoke({"expression": expression}) == str(value)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("__import__('os').system('true')", "Only numbers"),
        ("x + 1", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("2 ** 100000", "Exponents above"),
        ("9 ** 999 * 9 ** 999", "more than 1000 digits"),
        ("1 / 0", "division by zero"),
        ("1 +", "Not an arithmetic expression"),
        ("1" * 201, "longer than"),
    ],
)
def test_calculator_refuses_anything_else(expression: str, error: str) -> None:
    assert error in calculator.invoke({"expression": expression})


def test_current_time_in_a_zone_and_an_unknown_one() -> None:
    assert "KST (UTC+0900)" in current_time.invoke({"timezone": "Asia/Seoul"})
    assert "Unknown time zone" in current_time.invoke({"timezone": "Mars/Olympus"})


async def test_the_up_down_game_as_a_tool_streams_nothing_into_the_caller() -> None:
    assert (
        await play_up_down.ainvoke({"number": -3})
        == "You entered -3, which is less than 0. (draws: 0)"
    )
    result = await play_up_down.ainvoke({"number": 50, "seed": 7})
    assert result.startswith("Finished after ") and "(draws: " in result
