"""The consumer side of the custom-chunk contract and the SSE bytes it becomes."""

from __future__ import annotations

import json

import pytest

from proxy.chat.render import DONE, ChunkEncoder, error_event
from proxy.runs.custom import custom_reader
from proxy.runs.events import Event, Kind
from proxy.runs.state import RunState
from proxy.runs.usage import Usage


def read_custom(data):
    """One chunk through the custom reader of a fresh run."""
    return custom_reader(RunState())(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("plain text", Event(Kind.ANSWER, "plain text")),
        ({"type": "answer", "text": "piece"}, Event(Kind.ANSWER, "piece")),
        ({"type": "progress", "text": "step 1\n"}, Event(Kind.PROGRESS, "step 1\n")),
        (
            [{"role": "assistant", "content": "tok"}, {"langgraph_node": "llm"}],
            Event(Kind.ANSWER, "tok"),
        ),
        (
            [
                {
                    "type": "AIMessageChunk",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image_url"},
                        {"type": "text", "text": "b"},
                    ],
                },
                {},
            ],
            Event(Kind.ANSWER, "ab"),
        ),
        (
            [{"role": "assistant", "content": "", "reasoning_content": "hmm"}, {}],
            Event(Kind.PROGRESS, "hmm"),
        ),
        (
            [
                {
                    "type": "AIMessageChunk",
                    "content": "",
                    "additional_kwargs": {"reasoning_content": "r"},
                },
                {},
            ],
            Event(Kind.PROGRESS, "r"),
        ),
        ({"role": "assistant", "content": "direct"}, Event(Kind.ANSWER, "direct")),
        (
            {"type": "usage", "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
            Event(Kind.USAGE, data={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
        ),
    ],
)
def test_contract_kinds(data, expected) -> None:
    assert read_custom(data) == (expected,)


@pytest.mark.parametrize(
    "data",
    [
        "",
        None,
        42,
        {"type": "progress"},
        {"type": "answer", "text": 5},
        {"foo": "bar"},
        [1, 2],
        [{"role": "assistant", "content": ""}, {}],
        {"type": "usage", "prompt_tokens": "3"},
        {"type": "usage", "prompt_tokens": True},
        {"type": "usage", "prompt_tokens": -1},
        {"type": "usage", "prompt_tokens": 2**64},
    ],
)
def test_unknown_or_empty_shapes_are_ignored(data) -> None:
    assert read_custom(data) == ()


def test_encoder_bytes_are_one_line_json_with_unescaped_text() -> None:
    enc = ChunkEncoder("chatcmpl-x", 1700000000, "up-down-game")
    for raw in (
        enc.role(),
        enc.content('작습니다.\n"q"'),
        enc.reasoning("생각"),
        enc.finish(),
        enc.usage(Usage(1, 0, 0)),
    ):
        assert raw.startswith(b"data: {") and raw.endswith(b"}\n\n")
        assert raw.count(b"\n") == 2
        body = json.loads(raw[6:])
        assert body["id"] == "chatcmpl-x" and body["created"] == 1700000000
        assert body["object"] == "chat.completion.chunk" and body["model"] == "up-down-game"
    assert "작습니다." in enc.content("작습니다.").decode()
    assert json.loads(enc.content('a"\nb')[6:])["choices"][0]["delta"] == {"content": 'a"\nb'}
    assert json.loads(enc.reasoning("r")[6:])["choices"][0]["delta"] == {"reasoning_content": "r"}
    first = json.loads(enc.role()[6:])["choices"][0]
    assert first == {
        "index": 0,
        "delta": {"role": "assistant", "content": ""},
        "logprobs": None,
        "finish_reason": None,
    }
    last = json.loads(enc.finish()[6:])["choices"][0]
    assert last["delta"] == {} and last["finish_reason"] == "stop"
    assert json.loads(enc.usage(Usage(1, 0, 0))[6:])["choices"] == []
    assert DONE == b"data: [DONE]\n\n"
    assert json.loads(error_event({"error": {"message": "m"}})[6:]) == {"error": {"message": "m"}}


def test_encoder_matches_the_schema(openai_schemas) -> None:
    enc = ChunkEncoder("chatcmpl-x", 1, "m")
    for raw in (enc.role(), enc.content("x"), enc.reasoning("y"), enc.finish()):
        openai_schemas.check("CreateChatCompletionStreamResponse", json.loads(raw[6:]))
    usage = enc.usage(Usage(1, 2, 0))
    openai_schemas.check("CreateChatCompletionStreamResponse", json.loads(usage[6:]))
