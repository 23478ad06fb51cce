"""The Responses API (``/v1/responses``) through both proxies, with the ``openai`` SDK.

Every event and body is validated against the official schemas (responses.schema.json).
Stored responses continue on their LangGraph threads (``previous_response_id``); those are read
back through ``langgraph-sdk``.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from harness.servers import Server, start_proxy
from tests.fake_openai import FakeOpenAI, ToolCall
from tests.integration_tests.conftest import model_context

GAME = {"pace": 0, "seed": 11, "locale": "en"}
THREAD = "x-langgraph-thread-id"


def client(proxy_url: str, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy_url, api_key=key, max_retries=0, timeout=60)


def check(schemas, name: str, payload: Any) -> None:
    schemas.check(
        name, payload.model_dump(exclude_unset=True) if hasattr(payload, "model_dump") else payload
    )


async def test_create_not_streamed(proxy_url: str, responses_schemas) -> None:
    reply = await client(proxy_url).responses.create(
        model="up-down-game", input="-9", extra_body={"context": GAME}
    )
    check(responses_schemas, "Response", reply)
    assert (
        reply.status == "completed" and reply.output_text == "You entered -9, which is less than 0."
    )
    reasoning, message = reply.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "User input: -9\n"
    assert message.type == "message" and message.content[0].annotations == []
    assert reply.usage is not None and reply.usage.output_tokens == 8
    assert reply.usage.output_tokens_details.reasoning_tokens == 1


async def test_stream_is_the_official_sequence(proxy_url: str, responses_schemas) -> None:
    stream = await client(proxy_url).responses.create(
        model="up-down-game", input="10", stream=True, extra_body={"context": GAME}
    )
    events = [event async for event in stream]
    for event in events:
        check(responses_schemas, "ResponseStreamEvent", event)
    numbers = [event.sequence_number for event in events]
    assert numbers == sorted(set(numbers)) and numbers[0] == 0
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert (
        kinds[2:6]
        == [
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
        ][: len(kinds[2:6])]
    )
    for done, added in (
        ("response.output_text.done", "response.content_part.added"),
        ("response.reasoning_summary_part.done", "response.reasoning_summary_part.added"),
    ):
        assert kinds.count(done) == kinds.count(added) == 1
    completed = events[-1].response
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert completed.output_text == text and text.startswith("Finished after ")
    created = events[0].response
    assert (
        created.created_at and created.model == "up-down-game" and created.status == "in_progress"
    )


async def test_the_stream_helper_and_retrieve(proxy_url: str) -> None:
    api = client(proxy_url)
    async with api.responses.stream(
        model="up-down-game", input="-2", extra_body={"context": GAME}
    ) as stream:
        final = await stream.get_final_response()
    assert final.output_text == "You entered -2, which is less than 0."
    stored = await api.responses.retrieve(final.id)
    assert stored.id == final.id and stored.output_text == final.output_text


@pytest.mark.parametrize("stream", [False, True], ids=["not-streamed", "streamed"])
async def test_previous_response_id_continues_and_forks_the_thread(
    proxy_url: str, sdk, stream: bool
) -> None:
    api = client(proxy_url)

    async def ask(text: str, previous: str | None = None) -> tuple[str, str, str]:
        raw = await api.responses.with_raw_response.create(
            model="counter", input=text, previous_response_id=previous, stream=stream
        )
        if stream:
            events = [event async for event in raw.parse()]
            response = events[-1].response
        else:
            response = raw.parse()
        return response.id, response.output_text, raw.headers[THREAD]

    first, text1, thread = await ask("one")
    second, text2, same = await ask("two", first)
    assert (text1, text2, same) == ("Turn 1: one", "Turn 2: two", thread)
    third, text3, _ = await ask("three", second)
    assert text3 == "Turn 3: three"
    # an older response continued: a fork from where it ended, as ChatGPT edits do
    _, forked, _ = await ask("TWO", first)
    assert forked == "Turn 2: TWO"
    state = await sdk.threads.get_state(thread)
    assert [m["content"] for m in state["values"]["messages"]] == [
        "one",
        "Turn 1: one",
        "TWO",
        "Turn 2: TWO",
    ]
    # and the later response still continues its own branch
    _, later, _ = await ask("four", third)
    assert later == "Turn 4: four"


async def test_an_interrupt_is_the_message_and_the_next_response_resumes(proxy_url: str) -> None:
    api = client(proxy_url)
    asked = await api.responses.create(model="ask", input="Who am I?")
    assert asked.output_text == "What is your name?"
    answered = await api.responses.create(model="ask", input="Ann", previous_response_id=asked.id)
    assert answered.output_text == "Hello, Ann! You asked: Who am I?"


async def test_the_agent_s_tool_steps_are_reasoning_items(
    proxy_url: str, fake_model: FakeOpenAI, responses_schemas
) -> None:
    fake_model.turns = [[ToolCall("calculator", '{"expression": "6 * 7"}')], ["It ", "is ", "42."]]
    reply = await client(proxy_url).responses.create(
        model="assistant", input="6 * 7?", extra_body={"context": model_context(fake_model)}
    )
    check(responses_schemas, "Response", reply)
    assert [item.type for item in reply.output] == ["reasoning", "message"]
    summary = reply.output[0].summary[0].text
    assert (
        summary == 'Calling calculator with {"expression": "6 * 7"}\nTool calculator returned: 42\n'
    )
    assert reply.output_text == "It is 42."
    assert not any(item.type == "function_call" for item in reply.output)


async def test_store_false_is_stateless_and_cannot_be_continued(proxy_url: str) -> None:
    api = client(proxy_url)
    raw = await api.responses.with_raw_response.create(model="counter", input="one", store=False)
    reply = raw.parse()
    assert reply.output_text == "Turn 1: one" and THREAD not in raw.headers
    with pytest.raises(openai.BadRequestError) as raised:
        await api.responses.create(model="counter", input="two", previous_response_id=reply.id)
    assert raised.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        await api.responses.retrieve(reply.id)


async def test_a_failed_run_ends_with_response_failed(proxy_url: str, responses_schemas) -> None:
    stream = await client(proxy_url).responses.create(
        model="bench", input="20", stream=True, extra_body={"context": {"fail_after": 3}}
    )
    events = [event async for event in stream]
    for event in events:
        check(responses_schemas, "ResponseStreamEvent", event)
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.code == "server_error"
    assert "failed on purpose after 3 chunks" in failed.response.error.message
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "0 1 2 "


def raw_post(proxy_url: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(proxy_url + "/responses", json=body, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "counter", "input": 5}, "input"),
        ({"model": "counter", "input": []}, "input"),
        (
            {"model": "counter", "input": [{"type": "function_call_output", "call_id": "x"}]},
            "input.0.type",
        ),
        ({"model": "counter", "input": [{"role": "robot", "content": "hi"}]}, "input.0.role"),
        (
            {"model": "counter", "input": [{"type": "item_reference", "id": "msg_nope"}]},
            "input.0.id",
        ),
        (
            {"model": "counter", "input": [{"type": "item_reference", "id": f"msg_{'0' * 32}_1"}]},
            "input",
        ),
        (
            {"model": "counter", "input": "x", "previous_response_id": "resp_nope"},
            "previous_response_id",
        ),
        ({"model": "counter", "input": "x", "stream": "yes"}, "stream"),
        ({"model": "no-such-graph", "input": "x"}, "model"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_param(
    proxy_url: str, body: dict[str, Any], param: str, responses_schemas
) -> None:
    response = raw_post(proxy_url, body)
    assert 400 <= response.status_code < 500, response.text
    responses_schemas.check("ErrorResponse", response.json())
    assert response.json()["error"]["param"] == param


def test_previous_response_id_and_a_conversation_id_together_are_refused(proxy_url: str) -> None:
    first = raw_post(proxy_url, {"model": "counter", "input": "one"}).json()
    both = raw_post(
        proxy_url,
        {"model": "counter", "input": "two", "previous_response_id": first["id"]},
        **{"X-Conversation-Id": "c1"},
    )
    assert both.status_code == 400 and both.json()["error"]["param"] == "previous_response_id"


async def test_everything_else_clients_send_is_ignored(proxy_url: str) -> None:
    reply = await client(proxy_url).responses.create(
        model="counter",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "one"}]}],
        instructions="Be brief.",
        tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        temperature=0.2,
        reasoning={"effort": "low"},
        text={"format": {"type": "text"}},
        truncation="auto",
        include=["reasoning.encrypted_content"],
        parallel_tool_calls=False,
        user="someone",
        metadata={"k": "v"},
    )
    assert reply.output_text == "Turn 1: one" and reply.metadata == {"k": "v"}
    assert reply.instructions == "Be brief."


@pytest.fixture(scope="module")
def keyed_proxy(langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory):
    """A standalone proxy asking for one of two keys."""
    log = tmp_path_factory.mktemp("keyed-responses") / "proxy.log"
    server = start_proxy(log, langgraph_server.url, env={"PROXY_API_KEYS": "key-a,key-b"})
    yield server
    server.stop()


async def test_a_key_cannot_read_or_continue_another_key_s_response(keyed_proxy: Server) -> None:
    url = keyed_proxy.url + "/v1"
    mine = await client(url, "key-a").responses.create(model="counter", input="one")
    theirs = client(url, "key-b")
    with pytest.raises(openai.NotFoundError):
        await theirs.responses.retrieve(mine.id)
    with pytest.raises(openai.BadRequestError) as raised:
        await theirs.responses.create(model="counter", input="two", previous_response_id=mine.id)
    assert raised.value.body["param"] == "previous_response_id"


async def test_a_response_survives_a_proxy_restart(
    langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Everything lives in the LangGraph deployment: another proxy process continues it."""
    logs = tmp_path_factory.mktemp("restart")
    first_proxy = start_proxy(logs / "first.log", langgraph_server.url)
    try:
        first = await client(first_proxy.url + "/v1").responses.create(model="counter", input="one")
    finally:
        first_proxy.stop()
    second_proxy = start_proxy(logs / "second.log", langgraph_server.url)
    try:
        api = client(second_proxy.url + "/v1")
        second = await api.responses.create(
            model="counter", input="two", previous_response_id=first.id
        )
        assert second.output_text == "Turn 2: two"
        assert (await api.responses.retrieve(first.id)).output_text == "Turn 1: one"
    finally:
        second_proxy.stop()
