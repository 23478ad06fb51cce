"""Messages -> graph input, guided by the input schema."""

from __future__ import annotations

import pytest

from proxy.runs.inputs import build_input
from proxy.web.errors import ProxyError

INT_SCHEMA = {"type": "object", "properties": {"input": {"type": "integer"}}, "required": ["input"]}


def user(content) -> list[dict]:
    return [{"role": "system", "content": "sys"}, {"role": "user", "content": content}]


def test_messages_graph_gets_the_conversation_intact() -> None:
    messages = [
        {"role": "system", "content": "s"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:"}},
            ],
        },
        {"role": "assistant", "content": "hello"},
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]
    schema = {"type": "object", "properties": {"messages": {"type": "array"}}}
    assert build_input(messages, schema) == {"messages": messages}
    assert build_input(messages, None) == {"messages": messages}


@pytest.mark.parametrize(
    ("text", "value"), [("10", 10), (" -3 \n", -3), ("0", 0), ("9223372036854775807", 2**63 - 1)]
)
def test_integer_coercion(text: str, value: int) -> None:
    assert build_input(user(text), INT_SCHEMA) == {"input": value}


@pytest.mark.parametrize(
    "text", ["abc", "1e309", "1.5", "99999999999999999999999", "", "   ", "\u0661\u0660x"]
)
def test_text_that_does_not_fit_is_a_400(text: str) -> None:
    with pytest.raises(ProxyError) as caught:
        build_input(user(text), INT_SCHEMA)
    assert caught.value.status == 400 and caught.value.param == "messages"


def test_content_parts_text_only() -> None:
    assert build_input(
        user([{"type": "text", "text": "1"}, {"type": "text", "text": "2"}]), INT_SCHEMA
    ) == {"input": 12}
    with pytest.raises(ProxyError):
        build_input(user([{"type": "image_url", "image_url": {"url": "x"}}]), INT_SCHEMA)


def test_last_user_message_wins_and_one_is_needed() -> None:
    messages = [
        {"role": "user", "content": "1"},
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": "2"},
    ]
    assert build_input(messages, INT_SCHEMA) == {"input": 2}
    with pytest.raises(ProxyError, match="user message"):
        build_input([{"role": "system", "content": "1"}], INT_SCHEMA)


@pytest.mark.parametrize(
    ("spec", "text", "value"),
    [
        ({"type": "number"}, "2.5", 2.5),
        ({"type": "boolean"}, "Yes", True),
        ({"type": "string"}, " keep spaces ", " keep spaces "),
        ({"type": "object"}, '{"a": 1}', {"a": 1}),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "7", 7),
        ({"$ref": "#/$defs/N"}, "8", 8),
        ({"type": "integer", "minimum": 0, "maximum": 10}, "10", 10),
    ],
)
def test_other_types(spec: dict, text: str, value) -> None:
    schema = {
        "type": "object",
        "properties": {"f": spec},
        "required": ["f"],
        "$defs": {"N": {"type": "integer"}},
    }
    assert build_input(user(text), schema) == {"f": value}


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"type": "number"}, "nan"),
        ({"type": "number"}, "inf"),
        ({"type": "boolean"}, "maybe"),
        ({"type": "object"}, "[1]"),
        ({"type": "integer", "maximum": 10}, "11"),
    ],
)
def test_other_types_reject(spec: dict, text: str) -> None:
    schema = {"type": "object", "properties": {"f": spec}, "required": ["f"]}
    with pytest.raises(ProxyError):
        build_input(user(text), schema)


def test_several_required_fields_need_a_configured_field() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": ["a", "b"],
    }
    with pytest.raises(ProxyError, match="PROXY_INPUT_FIELDS"):
        build_input(user("x"), schema)
    assert build_input(user("x"), schema, field="b") == {"b": "x"}
