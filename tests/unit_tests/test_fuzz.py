"""Property-based fuzzing of ``POST /v1/chat/completions``: no body gets a 5xx (README,
"Reliability").

Hypothesis generates at least 1,000 bodies per run: OpenAI-shaped requests with any field of
any type, bare JSON values, truncated JSON and random bytes, under several content types.
They go to the real app over ASGI, in process, with a fake LangGraph behind it whose graphs
take messages, an integer, a number, a boolean, text or an object, so that bodies which pass
validation reach input coercion and a run. Every answer must be a 2xx completion or a 4xx
OpenAI error envelope.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph_sdk.schema import StreamPart

from proxy.app import create_app
from proxy.settings import Settings
from proxy.upstream import Upstream
from tests.fakes import FakeClient, assistant

EXAMPLES = 1000


def one_field(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"value": {"type": kind, **extra}},
        "required": ["value"],
    }


EXTRA_GRAPHS = {
    "integer": one_field("integer", minimum=0, maximum=1000),
    "number": one_field("number"),
    "boolean": one_field("boolean"),
    "text": one_field("string"),
    "object": one_field("object"),
    "list": {"type": "object", "properties": {"value": {"type": "array"}, "other": {}}},
    "two-fields": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": ["a", "b"],
    },
}
MODELS = ["up-down-game", "chat", *EXTRA_GRAPHS]


async def run_script(_: dict[str, Any]) -> AsyncIterator[StreamPart]:
    """A run that writes a little of everything the proxy translates."""
    yield StreamPart("metadata", {"run_id": "fuzz"})
    yield StreamPart("custom", {"type": "progress", "text": "thinking\n"})
    yield StreamPart("custom", "answer ")
    yield StreamPart("custom", {"type": "usage", "prompt_tokens": 1, "completion_tokens": 2})


def make_client() -> FakeClient:
    fake = FakeClient(script=run_script)
    for index, (name, schema) in enumerate(EXTRA_GRAPHS.items(), start=10):
        fake.assistants_list.append(assistant(name, index))
        fake.schemas[name] = schema
    return fake


# --- strategies ---------------------------------------------------------------------------

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: json.dumps writes them, the proxy must refuse them
    | st.text(max_size=16)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
numberish = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats().map(repr),
    st.sampled_from(["", " ", "\t\n", "1e309", "-0", "0x10", "1_000", "٣", "true", "{}", "[1]"]),
)
part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=12) | numberish}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal"])},
        optional={"text": json_values, "image_url": json_values},
    ),
    json_values,
)
content = st.one_of(
    st.none(), numberish, st.text(max_size=24), st.lists(part, max_size=3), json_values
)
role = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]) | (
    st.sampled_from(["wizard", "", "USER"]) | json_values
)
message = st.one_of(
    st.fixed_dictionaries(
        {"role": role, "content": content},
        optional={"name": json_values, "tool_calls": json_values, "tool_call_id": json_values},
    ),
    st.fixed_dictionaries({}, optional={"role": role, "content": content}),
    json_values,
)
request_fields: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from([*MODELS, "no-such-model", ""]) | json_values,
    "messages": st.lists(message, min_size=1, max_size=4) | json_values,
    "stream": st.booleans() | json_values,
    "stream_options": st.fixed_dictionaries(
        {}, optional={"include_usage": st.booleans() | json_values}
    )
    | json_values,
    "n": st.integers(min_value=-2, max_value=3) | json_values,
    "context": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values,
    "progress_mode": st.sampled_from(["reasoning", "content", "drop", "loud"]) | json_values,
    "temperature": json_values,
    "tools": json_values,
    "user": json_values,
}
request = st.fixed_dictionaries({}, optional=request_fields)


valid_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "user", "assistant"]),
        "content": st.one_of(
            numberish,
            st.text(max_size=24),
            st.lists(
                st.fixed_dictionaries({"type": st.just("text"), "text": numberish}), max_size=2
            ),
        ),
    }
)
valid_request = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "messages": st.lists(valid_message, min_size=1, max_size=3).map(
            lambda messages: [*messages, {"role": "user", "content": "7"}][-3:]
        ),
    },
    optional={
        "stream": st.booleans(),
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
        "n": st.just(1),
        "context": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "progress_mode": st.sampled_from(["reasoning", "content", "drop"]),
    },
)


@st.composite
def mutated_request(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with one field (or one message) replaced by anything at all."""
    body = draw(valid_request)
    key = draw(st.sampled_from([*request_fields, "message"]))
    if key == "message":
        messages = body["messages"]
        messages[draw(st.integers(0, len(messages) - 1))] = draw(message)
    else:
        body[key] = draw(json_values | request_fields[key])
    return body


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    valid_request.map(encode),
    mutated_request().map(encode),
    mutated_request().map(encode),
    request.map(encode),
    json_values.map(encode),
    valid_request.map(encode).flatmap(
        lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut])
    ),
    st.binary(max_size=64),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.openai+json",
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
    ]
)


# --- the property -------------------------------------------------------------------------


class Target:
    """The app over ASGI on an event loop of its own (hypothesis calls a sync function)."""

    def __init__(self) -> None:
        config = Settings(langgraph_url="http://fake", keepalive_interval=60)
        app = create_app(config, Upstream(config, client=make_client()))  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://proxy", timeout=10
        )
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def post(self, body: bytes, content_type: str) -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        response = self.loop.run_until_complete(
            self.client.post("/v1/chat/completions", content=body, headers=headers)
        )
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def target() -> Iterator[Target]:
    target = Target()
    yield target
    target.close()


def check(response: httpx.Response, body: bytes) -> None:
    """A 2xx completion or a 4xx error envelope; never a 5xx."""
    status = response.status_code
    assert status < 500, f"{status} for {body[:300]!r}: {response.text[:300]}"
    if status >= 400:
        error = orjson.loads(response.content)["error"]
        assert isinstance(error["message"], str) and error["message"], response.text
        assert set(error) == {"message", "type", "param", "code"}
        return
    assert status == 200, status
    if response.headers["content-type"].startswith("text/event-stream"):
        assert response.text.endswith("data: [DONE]\n\n"), response.text[-300:]
    else:
        assert orjson.loads(response.content)["object"] == "chat.completion"


def test_no_generated_body_gets_a_5xx(target: Target) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # time is not the property; a slow CI machine must not fail it
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(body=bodies, content_type=content_types)
    def property_(body: bytes, content_type: str) -> None:
        check(target.post(body, content_type), body)

    property_()
    assert target.sent >= EXAMPLES
    # the fuzz reached every path: successes, validation errors, unfit input, bad media types
    assert {200, 400, 415} <= set(target.statuses), target.statuses
    assert target.statuses[200] >= EXAMPLES // 20, target.statuses
