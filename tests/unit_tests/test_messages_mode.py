"""The run readers on what LangGraph streams for agents (``messages-tuple``) beside ``custom``.

Each case feeds the event sequence a graph kind produces, as the LangGraph API serializes it,
and checks what the client would get: every message's text exactly once.
"""

from __future__ import annotations

from typing import Any

import pytest

from proxy.runs.events import Event, Kind
from proxy.runs.modes import Readers
from proxy.runs.state import RunState
from proxy.runs.tools import SHOWN_CHARS

MODES = ["custom", "messages-tuple"]
META = {"langgraph_node": "model", "langgraph_checkpoint_ns": "model:1", "run_id": "r"}


def read(events: list[tuple[str, Any]], answer_nodes: frozenset[str] | None = None) -> list[Event]:
    readers = Readers(MODES, RunState(answer_nodes))
    out = [e for name, data in events for e in readers(name)(data)]
    return out + readers.finish()


def texts(events: list[Event], kind: Kind) -> str:
    return "".join(e.text for e in events if e.kind is kind)


def chunk(text: Any = "", mid: str = "lc_run--1", **extra: Any) -> dict[str, Any]:
    return {"type": "AIMessageChunk", "content": text, "id": mid, **extra}


def ai(text: Any = "", mid: str = "msg-1", **extra: Any) -> dict[str, Any]:
    return {"type": "ai", "content": text, "id": mid, **extra}


def msg(message: dict[str, Any], meta: dict[str, Any] | None = None) -> tuple[str, Any]:
    return ("messages", [message, meta or META])


def test_tokens_stream_and_the_final_message_is_not_sent_again() -> None:
    events = read(
        [
            msg(chunk("Hel")),
            msg(chunk("lo")),
            msg(chunk("", chunk_position="last")),
            msg(ai("Hello", mid="lc_run--1")),  # the node's output, same id
        ]
    )
    assert [e.text for e in events if e.kind is Kind.ANSWER] == ["Hel", "lo"]


def test_a_model_that_did_not_stream_arrives_whole_once() -> None:
    events = read([msg(ai("The answer.")), msg(ai("The answer."))])
    assert texts(events, Kind.ANSWER) == "The answer."


def test_only_text_blocks_are_answer_text() -> None:
    blocks = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "data:..."}},
        {"type": "tool_call_chunk", "args": "{}"},
        {"type": "text", "text": "b"},
    ]
    assert texts(read([msg(chunk(blocks))]), Kind.ANSWER) == "ab"


def test_tool_calls_are_progress_once_their_arguments_are_complete() -> None:
    fragments = [
        [{"index": 0, "id": "call_1", "name": "calculator", "args": ""}],
        [{"index": 0, "id": None, "name": None, "args": '{"expres'}],
        [{"index": 1, "id": "call_2", "name": "current_time", "args": '{"timezone"'}],
        [{"index": 0, "id": None, "name": None, "args": 'sion": "2+3"}'}],
        [{"index": 1, "id": None, "name": None, "args": ': "UTC"}'}],
    ]
    stream = [msg(chunk(tool_call_chunks=f)) for f in fragments]
    events = read(
        [
            *stream[:3],
            *stream[3:],
            msg(chunk(response_metadata={"finish_reason": "tool_calls"})),
            msg(ai(mid="lc_run--1", tool_calls=[{"name": "calculator", "id": "call_1"}])),
            msg({"type": "tool", "content": "5", "tool_call_id": "call_1", "name": "calculator"}),
            msg({"type": "tool", "content": "12:00", "tool_call_id": "call_2"}),
            msg(chunk("It is 5.", mid="lc_run--2")),
        ]
    )
    assert [e.text for e in events if e.kind is Kind.PROGRESS] == [
        'Calling calculator with {"expression": "2+3"}\n',
        'Calling current_time with {"timezone": "UTC"}\n',
        "Tool calculator returned: 5\n",
        "Tool current_time returned: 12:00\n",
    ]
    assert texts(events, Kind.ANSWER) == "It is 5."
    assert not any("tool_calls" in e.text for e in events)


def test_whole_messages_with_tool_calls_and_failed_tools() -> None:
    events = read(
        [
            msg(ai(tool_calls=[{"name": "search", "args": {"q": "x"}, "id": "c1"}])),
            msg(
                {
                    "type": "tool",
                    "content": "boom: division by zero",
                    "tool_call_id": "c1",
                    "status": "error",
                }
            ),
        ]
    )
    assert [e.text for e in events] == [
        'Calling search with {"q": "x"}\n',
        "Tool search failed: boom: division by zero\n",
    ]


def test_a_cut_off_tool_call_and_a_huge_result_still_read() -> None:
    huge = "x" * 100_000
    events = read(
        [
            msg(chunk(tool_call_chunks=[{"index": 0, "id": "c", "name": "t", "args": '{"a": '}])),
            msg({"type": "tool", "content": huge, "tool_call_id": "c"}),
        ]
    )
    call, result = [e.text for e in events]
    assert call == 'Calling t with {"a":\n'
    assert result.startswith("Tool t returned: xxx") and len(result) <= SHOWN_CHARS + 40


def test_reasoning_in_every_shape_is_progress() -> None:
    events = read(
        [
            msg(chunk(additional_kwargs={"reasoning_content": "think "})),
            msg(chunk([{"type": "reasoning", "reasoning": "more "}])),
            msg(chunk([{"type": "thinking", "thinking": "and more "}])),
            msg(chunk([{"type": "reasoning", "summary": [{"type": "summary_text", "text": "s"}]}])),
            msg(chunk("answer")),
        ]
    )
    assert texts(events, Kind.PROGRESS) == "think more and more s"
    assert texts(events, Kind.ANSWER) == "answer"


@pytest.mark.parametrize(
    "message",
    [
        {"type": "human", "content": "hi", "id": "h"},
        {"type": "system", "content": "be nice", "id": "s"},
        {"type": "remove", "id": "x"},
        {"type": "something-new", "content": "?", "id": "n"},
        {"content": "no type"},
    ],
)
def test_human_system_and_unknown_messages_are_never_answer(message: dict[str, Any]) -> None:
    assert read([msg(message)]) == []


@pytest.mark.parametrize("data", [None, "text", [], [1, 2, 3], [None, {}], ["a", "b"]])
def test_malformed_events_mean_nothing(data: Any) -> None:
    assert read([("messages", data)]) == []


def test_hidden_messages_stay_hidden() -> None:
    assert read([msg(chunk("secret"), {**META, "tags": ["langsmith:hidden"]})]) == []


def test_usage_is_summed_over_messages_and_never_twice() -> None:
    usage = {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}
    events = read(
        [
            msg(chunk("a")),
            msg(chunk("", usage_metadata=usage, chunk_position="last")),
            msg(ai("a", mid="lc_run--1", usage_metadata=usage)),  # the same message, whole
            msg(
                ai(
                    "b",
                    mid="m2",
                    usage_metadata={
                        "input_tokens": 20,
                        "output_tokens": 6,
                        "total_tokens": 26,
                        "output_token_details": {"reasoning": 2},
                    },
                )
            ),
        ]
    )
    reports = [e.data for e in events if e.kind is Kind.USAGE]
    assert reports == [
        {"prompt_tokens": 10, "completion_tokens": 4, "reasoning_tokens": 0},
        {"prompt_tokens": 20, "completion_tokens": 6, "reasoning_tokens": 2},
    ]


def test_custom_tokens_naming_their_message_claim_it() -> None:
    """The chat graph: custom token pairs carry the message id; its final message is not new."""
    pair = [{"role": "assistant", "content": "Hi", "id": "run-7"}, {"model": "m"}]
    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    events = read(
        [
            ("custom", pair),
            ("custom", [{"role": "assistant", "content": " there", "id": "run-7"}, {}]),
            ("custom", {"type": "usage", "prompt_tokens": 1, "completion_tokens": 1}),
            msg(ai("Hi there", mid="run-7", usage_metadata=usage)),
        ]
    )
    assert texts(events, Kind.ANSWER) == "Hi there"
    assert len([e for e in events if e.kind is Kind.USAGE]) == 1


def test_langchain_chunks_written_to_custom_too_are_sent_once() -> None:
    """A node that writes the model's own chunks to the stream writer, as messages streams them."""
    first, second = chunk("A", mid="lc_run--9"), chunk("B", mid="lc_run--9")
    events = read(
        [msg(first), ("custom", first), msg(second), ("custom", [second, {}])],
    )
    assert texts(events, Kind.ANSWER) == "AB"


def test_a_whole_message_repeating_the_custom_text_is_that_text() -> None:
    """A graph that streams through custom without ids, then returns the same text."""
    events = read(
        [
            ("custom", "Hello"),
            ("custom", {"type": "answer", "text": ", world"}),
            msg(ai("Hello, world", mid="fresh-id")),
            ("custom", {"type": "progress", "text": "step\n"}),
            msg(ai("A second answer.", mid="other")),
        ]
    )
    assert texts(events, Kind.ANSWER) == "Hello, worldA second answer."


def test_answer_nodes_turn_other_nodes_text_into_progress() -> None:
    router = {**META, "langgraph_node": "router", "langgraph_checkpoint_ns": "router:1"}
    inner = {**META, "langgraph_node": "model", "langgraph_checkpoint_ns": "answer:2|model:3"}
    events = read(
        [msg(ai("route: search", mid="r1"), router), msg(chunk("Final.", mid="a1"), inner)],
        answer_nodes=frozenset({"answer"}),
    )
    assert texts(events, Kind.ANSWER) == "Final."
    assert texts(events, Kind.PROGRESS) == "route: search"


def test_subgraph_events_go_to_the_same_readers() -> None:
    readers = Readers(MODES, RunState())
    got = [
        *readers("messages|agent:1")([chunk("x"), META]),
        *readers("custom|tools:2")({"type": "progress", "text": "p"}),
    ]
    assert [(e.kind, e.text) for e in got] == [(Kind.ANSWER, "x"), (Kind.PROGRESS, "p")]
