"""Real Responses API clients against ``/v1/responses``, through both proxies.

* The OpenAI Agents SDK (``OpenAIResponsesModel`` over ``AsyncOpenAI``): the graph's tools run
  on the server, so their steps reach the agent as ``ReasoningItem``s, never as tool calls; a
  next turn goes on with ``previous_response_id``, or with the earlier items sent back as input
  (``to_input_list()``), which the proxy reads as references to its own output.
* The Vercel AI SDK (``ai`` + ``@ai-sdk/openai``'s ``.responses()``) and the official ``openai``
  JS SDK, in node (``tests/js/responses.mjs``); the Vercel SDK's default ``store`` sends earlier
  output back as ``item_reference`` items.
* The ``openai`` Python SDK's own error paths.

Every event and body a client received is validated against the official schema
(``../shared/openai-spec/responses.schema.json``): Python clients through an httpx transport
that records the wire, the node script by printing what its ``fetch`` saw. The JS packages are
pinned in ``tests/js/package-lock.json`` and installed with ``npm ci`` when one is missing or
holds another version.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import pytest
from agents import (
    Agent,
    MessageOutputItem,
    ModelSettings,
    OpenAIResponsesModel,
    ReasoningItem,
    Runner,
    set_tracing_disabled,
)

from tests.clients import ANSWER, FAST_EN, PROGRESS
from tests.conftest import OpenAISchemas
from tests.fake_openai import FakeOpenAI, ToolCall
from tests.integration_tests.conftest import model_context

THREAD = "x-langgraph-thread-id"
CALCULATION = [[ToolCall("calculator", '{"expression": "6 * 7"}')], ["It ", "is ", "42."]]
CALCULATION_STEPS = (
    'Calling calculator with {"expression": "6 * 7"}\nTool calculator returned: 42\n'
)

set_tracing_disabled(True)  # the Agents SDK would send traces to OpenAI


# -- the wire --------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One HTTP exchange as it was on the wire."""

    method: str
    path: str
    request: Any
    status: int
    headers: dict[str, str]
    raw: bytearray = field(default_factory=bytearray)

    @property
    def streamed(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")

    @property
    def events(self) -> list[dict[str, Any]]:
        """The SSE events' data (the proxy sends one ``data:`` line per event)."""
        lines = self.raw.decode().splitlines()
        return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class _Tee(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, exchange: Exchange) -> None:
        self.stream = stream
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            self.exchange.raw += chunk
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class Wire(httpx.AsyncBaseTransport):
    """An httpx transport that records every exchange (the bytes as the client read them)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        response = await self.inner.handle_async_request(request)
        exchange = Exchange(
            request.method,
            request.url.path,
            json.loads(content) if content else None,
            response.status_code,
            dict(response.headers),
        )
        self.exchanges.append(exchange)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, exchange),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def api(proxy_url: str, wire: Wire) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=proxy_url,
        api_key="unused",
        max_retries=0,
        timeout=60,
        http_client=httpx.AsyncClient(transport=wire, timeout=60),
    )


def check_events(schemas: OpenAISchemas, events: list[dict[str, Any]]) -> None:
    """A whole Responses stream: each event valid, numbered in order, and adding up.

    What the deltas add up to is what the ``.done`` events say, and the items ``.done`` gave
    are the final response's output.
    """
    for event in events:
        schemas.check("ResponseStreamEvent", event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.failed")
    assert sum(kind in ("response.completed", "response.failed") for kind in kinds) == 1
    response_id = events[0]["response"]["id"]
    assert all(e["response"]["id"] == response_id for e in events if "response" in e)
    texts: dict[tuple[str, str], str] = {}
    for event in events:
        kind = event["type"]
        if kind.endswith(".delta"):
            key = (event["item_id"], kind.removesuffix(".delta"))
            texts[key] = texts.get(key, "") + event["delta"]
        elif kind.endswith("_text.done"):
            assert event["text"] == texts.get((event["item_id"], kind.removesuffix(".done")), "")
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    added = [e["item"]["id"] for e in events if e["type"] == "response.output_item.added"]
    last = events[-1]["response"]
    if kinds[-1] == "response.completed":
        assert [item["id"] for item in done] == added
        assert last["output"] == done
        assert last["status"] == "completed" and last["error"] is None
    else:
        assert last["status"] == "failed" and last["error"]["message"]
        assert [item["id"] for item in last["output"]] == added


def check_wire(schemas: OpenAISchemas, exchanges: list[Exchange]) -> None:
    """Every exchange valid: a Response, a stream of events, or an error body."""
    assert exchanges
    for exchange in exchanges:
        if exchange.streamed:
            check_events(schemas, exchange.events)
        elif exchange.status == 200:
            schemas.check("Response", exchange.body)
        else:
            schemas.check("ErrorResponse", exchange.body)


def content_text(content: Any) -> str:
    """A message's text, whether a string or text parts."""
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content if part.get("type") == "text")


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def summary_text(item: ReasoningItem) -> str:
    return "".join(part.text for part in item.raw_item.summary)


def agent_on(proxy_url: str, model: str, wire: Wire, **settings: Any) -> Agent[Any]:
    """An Agents SDK agent without tools of its own: the graph's run on the server."""
    return Agent(
        name=model,
        model=OpenAIResponsesModel(model=model, openai_client=api(proxy_url, wire)),
        model_settings=ModelSettings(**settings),
    )


async def thread_messages(sdk: Any, thread: str) -> list[tuple[str, Any]]:
    state = await sdk.threads.get_state(thread)
    return [(m["type"], m["content"]) for m in state["values"]["messages"]]


# -- the OpenAI Agents SDK -------------------------------------------------------------------


async def test_agents_sdk_gets_the_tool_steps_as_reasoning(
    proxy_url: str, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    fake_model.turns = CALCULATION
    wire = Wire()
    agent = agent_on(
        proxy_url, "assistant", wire, extra_body={"context": model_context(fake_model)}
    )
    result = await Runner.run(agent, "What is 6 * 7?")
    assert result.final_output == "It is 42."
    assert [type(item) for item in result.new_items] == [ReasoningItem, MessageOutputItem]
    assert summary_text(result.new_items[0]) == CALCULATION_STEPS
    assert result.last_response_id and result.last_response_id.startswith("resp_")
    assert len(result.raw_responses) == 1  # one model call: no tool call for the SDK to run
    usage = result.context_wrapper.usage
    assert usage.requests == 1 and usage.output_tokens > 0
    # streamed: the same items, the text as deltas
    streamed = Runner.run_streamed(agent, "What is 6 * 7?")
    names, deltas = [], []
    async for event in streamed.stream_events():
        if event.type == "run_item_stream_event":
            names.append(event.name)
        elif event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas.append(event.data.delta)
    assert streamed.final_output == "It is 42."
    assert names == ["reasoning_item_created", "message_output_created"]
    assert "".join(deltas) == "It is 42."
    assert [type(item) for item in streamed.new_items] == [ReasoningItem, MessageOutputItem]
    check_wire(responses_schemas, wire.exchanges)
    assert [e.streamed for e in wire.exchanges] == [False, True]


async def test_agents_sdk_goes_on_with_previous_response_id(
    proxy_url: str, sdk, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    """The assistant remembers a fact (its ``remember`` tool) on the first response's thread."""
    wire = Wire()
    agent = agent_on(
        proxy_url, "assistant", wire, extra_body={"context": model_context(fake_model)}
    )
    fake_model.turns = [[ToolCall("remember", '{"fact": "The user is Ann"}')], ["Noted."]]
    first = await Runner.run(agent, "I am Ann.")
    assert first.final_output == "Noted."
    assert "Calling remember with" in summary_text(first.new_items[0])
    fake_model.turns = [["You ", "are ", "Ann."]]
    second = await Runner.run(agent, "Who am I?", previous_response_id=first.last_response_id)
    assert second.final_output == "You are Ann."
    assert [type(item) for item in second.new_items] == [MessageOutputItem]
    assert wire.exchanges[1].request["previous_response_id"] == first.last_response_id
    # the model saw the fact, and the whole conversation once, from the thread
    sent = fake_model.requests[-1]["body"]["messages"]
    assert sent[0]["role"] == "system" and "- The user is Ann" in sent[0]["content"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["I am Ann.", "Who am I?"]
    threads = {e.headers[THREAD] for e in wire.exchanges}
    assert len(threads) == 1
    state = await sdk.threads.get_state(threads.pop())
    assert state["values"]["facts"] == ["The user is Ann"]
    check_wire(responses_schemas, wire.exchanges)


async def test_agents_sdk_sends_its_items_back_and_the_thread_goes_on(
    proxy_url: str, sdk, responses_schemas: OpenAISchemas
) -> None:
    """No previous_response_id: the proxy's own items in the input say where to go on."""
    wire = Wire()
    agent = agent_on(proxy_url, "counter", wire)
    first = await Runner.run(agent, "one")
    assert first.final_output == "Turn 1: one"
    second = await Runner.run(agent, [*first.to_input_list(), {"role": "user", "content": "two"}])
    assert second.final_output == "Turn 2: two"
    sent = wire.exchanges[1].request
    assert "previous_response_id" not in sent
    assert [item.get("role") for item in sent["input"]] == ["user", "assistant", "user"]
    assert sent["input"][1]["id"] == first.new_items[0].raw_item.id
    third = await Runner.run(agent, [*second.to_input_list(), {"role": "user", "content": "3"}])
    assert third.final_output == "Turn 3: 3"
    threads = {e.headers[THREAD] for e in wire.exchanges}
    assert len(threads) == 1
    thread = threads.pop()
    assert (await sdk.threads.get_state(thread))["values"]["turns"] == 3
    assert await thread_messages(sdk, thread) == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "two"),
        ("ai", "Turn 2: two"),
        ("human", "3"),
        ("ai", "Turn 3: 3"),
    ]
    check_wire(responses_schemas, wire.exchanges)


async def test_agents_sdk_sends_reasoning_items_back(
    proxy_url: str, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    """The tool steps (reasoning items) go back as input too: the thread has the rest."""
    fake_model.turns = CALCULATION
    wire = Wire()
    agent = agent_on(
        proxy_url, "assistant", wire, extra_body={"context": model_context(fake_model)}
    )
    first = await Runner.run(agent, "What is 6 * 7?")
    fake_model.turns = [["Still ", "42."]]
    follow_up = {"role": "user", "content": "Are you sure?"}
    second = await Runner.run(agent, [*first.to_input_list(), follow_up])
    assert second.final_output == "Still 42."
    sent = wire.exchanges[1].request["input"]
    assert [item.get("type") for item in sent[1:3]] == ["reasoning", "message"]
    # the model got the conversation from the thread, once, with the tool's real result
    messages = fake_model.requests[-1]["body"]["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == [
        "What is 6 * 7?",
        "Are you sure?",
    ]
    assert [m["content"] for m in messages if m["role"] == "tool"] == ["42"]
    assert wire.exchanges[0].headers[THREAD] == wire.exchanges[1].headers[THREAD]
    check_wire(responses_schemas, wire.exchanges)


async def test_agents_sdk_without_store_sends_everything_back(
    proxy_url: str, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    """``store: false``: nothing is kept, so the items sent back are the history, once."""
    wire = Wire()
    context = {"context": model_context(fake_model)}
    agent = agent_on(proxy_url, "chat", wire, store=False, extra_body=context)
    first = await Runner.run(agent, "Hello?")
    assert first.final_output == fake_model.reply
    follow_up = {"role": "user", "content": "And now?"}
    second = await Runner.run(agent, [*first.to_input_list(), follow_up])
    assert second.final_output == fake_model.reply
    assert wire.exchanges[1].request["store"] is False
    sent = [(m["role"], m["content"]) for m in fake_model.requests[-1]["body"]["messages"]]
    assert sent == [("user", "Hello?"), ("assistant", fake_model.reply), ("user", "And now?")]
    assert all(THREAD not in e.headers for e in wire.exchanges)  # stateless runs
    check_wire(responses_schemas, wire.exchanges)


async def test_agents_sdk_answers_an_interrupt_with_the_next_turn(
    proxy_url: str, sdk, responses_schemas: OpenAISchemas
) -> None:
    wire = Wire()
    agent = agent_on(proxy_url, "ask", wire)
    question = await Runner.run(agent, "Who am I?")
    assert question.final_output == "What is your name?"
    thread = wire.exchanges[0].headers[THREAD]
    assert (await sdk.threads.get(thread))["status"] == "interrupted"
    answer = await Runner.run(agent, "Ann", previous_response_id=question.last_response_id)
    assert answer.final_output == "Hello, Ann! You asked: Who am I?"
    assert (await sdk.threads.get(thread))["status"] == "idle"
    # the same question answered again, differently: a branch from the question
    again = await Runner.run(agent, "Bob", previous_response_id=question.last_response_id)
    assert again.final_output == "Hello, Bob! You asked: Who am I?"
    check_wire(responses_schemas, wire.exchanges)


# -- the openai Python SDK's error paths -----------------------------------------------------


async def test_openai_sdk_sees_errors_as_the_api_sends_them(
    proxy_url: str, responses_schemas: OpenAISchemas
) -> None:
    wire = Wire()
    client = api(proxy_url, wire)
    with pytest.raises(openai.NotFoundError) as unknown:
        await client.responses.create(model="no-such-model", input="hi")
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve("resp_" + "0" * 32)
    with pytest.raises(openai.BadRequestError) as dangling:
        await client.responses.create(
            model="counter", input="hi", previous_response_id="resp_" + "0" * 32
        )
    assert dangling.value.param == "previous_response_id"
    with pytest.raises(openai.BadRequestError) as unknown_item:
        reference = {"type": "item_reference", "id": f"msg_{'0' * 32}_0"}
        await client.responses.create(model="counter", input=[reference, user("hi")])
    assert unknown_item.value.code == "invalid_item_reference"
    events = [
        event
        async for event in await client.responses.create(
            model="bench", input="50", stream=True, extra_body={"context": {"fail_after": 10}}
        )
    ]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.error is not None
    assert "failed on purpose" in failed.response.error.message
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "".join(f"{i} " for i in range(10))
    # the failed response holds what was said before it failed
    [partial] = failed.response.output
    assert partial.type == "message" and partial.status == "incomplete"
    assert partial.content[0].text == text
    check_wire(responses_schemas, wire.exchanges)


async def test_a_response_of_another_model_is_history_on_a_new_thread(
    proxy_url: str, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    """A client that switches models mid-conversation: the references become messages."""
    wire = Wire()
    client = api(proxy_url, wire)
    first = await client.responses.create(model="counter", input="one")
    reference = {"type": "item_reference", "id": first.output[0].id}
    second = await client.responses.create(
        model="chat",
        input=[user("one"), reference, user("two")],
        extra_body={"context": model_context(fake_model)},
    )
    assert second.output_text == fake_model.reply
    sent = [(m["role"], m["content"]) for m in fake_model.requests[-1]["body"]["messages"]]
    assert sent == [("user", "one"), ("assistant", "Turn 1: one"), ("user", "two")]
    first_thread, second_thread = (e.headers[THREAD] for e in wire.exchanges)
    assert first_thread != second_thread
    check_wire(responses_schemas, wire.exchanges)


async def test_two_responses_branching_from_one_both_finish_or_say_why(proxy_url: str) -> None:
    client = api(proxy_url, Wire())
    root = await client.responses.create(model="bench", input="3")
    slow = asyncio.create_task(
        client.responses.create(
            model="bench",
            input="3",
            previous_response_id=root.id,
            extra_body={"context": {"silence": 3, "silence_after": 1}},
        )
    )
    await asyncio.sleep(1.5)  # the slow branch is under way
    fast = await client.responses.create(model="bench", input="2", previous_response_id=root.id)
    assert fast.output_text == "0 1 "
    try:
        first = await slow
    except openai.APIError:
        return  # replaced, and the client was told
    assert (first.status, first.output_text) == ("completed", "0 1 2 ")


# -- node: the Vercel AI SDK and the openai JS SDK -------------------------------------------


Lines = list[dict[str, Any]]


@pytest.fixture(scope="module")
def node_responses(node_script) -> Callable[..., Lines]:
    """Runs ``tests/js/responses.mjs <base_url> <scenario> [options]``; its JSON lines."""
    script = node_script("responses.mjs")

    def run(base_url: str, scenario: str, **options: Any) -> Lines:
        return script(base_url, scenario, options or None)

    return run


def split(lines: Lines) -> tuple[Lines, list[Exchange]]:
    """The SDK's lines, and the exchanges the script saw on the wire."""
    wire = [
        Exchange(
            line["method"],
            line["path"],
            line["request"],
            line["status"],
            {"content-type": line["content_type"] or "", THREAD: line["thread"] or ""},
            bytearray(
                "".join(f"data: {json.dumps(e)}\n\n" for e in line["events"]).encode()
                if "events" in line
                else json.dumps(line["body"]).encode()
            ),
        )
        for line in lines
        if line["kind"] == "wire"
    ]
    return [line for line in lines if line["kind"] != "wire"], wire


def test_vercel_ai_sdk_streams_progress_as_reasoning(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "vercel-stream"))
    check_wire(responses_schemas, wire)
    *parts, result = lines
    kinds = [part["type"] for part in parts]
    assert kinds[:2] == ["start", "start-step"] and kinds[-2:] == ["finish-step", "finish"]
    reasoning = [p for p in parts if p["type"].startswith("reasoning-")]
    text = [p for p in parts if p["type"].startswith("text-")]
    assert [p["type"] for p in reasoning] == ["reasoning-start", "reasoning-delta", "reasoning-end"]
    assert "".join(p.get("text", "") for p in reasoning) == PROGRESS
    assert reasoning[0]["item_id"].startswith("rs_")
    assert text[0]["type"] == "text-start" and text[-1]["type"] == "text-end"
    assert text[0]["item_id"].startswith("msg_")
    assert "".join(p.get("text", "") for p in text) == ANSWER
    assert kinds.index("reasoning-end") < kinds.index("text-start")  # progress, then answer
    assert (result["text"], result["reasoning"], result["finish_reason"]) == (
        ANSWER,
        PROGRESS,
        "stop",
    )
    assert result["usage"]["outputTokenDetails"]["reasoningTokens"] == 1
    assert result["warnings"] == []
    assert wire[0].request["stream"] is True and wire[0].request["context"] == FAST_EN


def test_vercel_ai_sdk_generates_reasoning_and_text(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "vercel-generate"))
    check_wire(responses_schemas, wire)
    [result] = lines
    assert (result["text"], result["reasoning"], result["finish_reason"]) == (
        ANSWER,
        PROGRESS,
        "stop",
    )
    assert [(p["type"], p["text"]) for p in result["content"]] == [
        ("reasoning", PROGRESS),
        ("text", ANSWER),
    ]
    assert result["response_id"] == wire[0].body["id"]
    assert result["warnings"] == []


async def test_vercel_ai_sdk_turns_go_on_through_item_references(
    proxy_url: str, sdk, node_responses, responses_schemas: OpenAISchemas
) -> None:
    prompts = ["one", "two", "three"]
    lines, wire = split(
        node_responses(proxy_url, "vercel-turns", model="counter", prompts=prompts, body={})
    )
    check_wire(responses_schemas, wire)
    assert [line["turn"] for line in lines] == [0, 1, 2]
    for number, (line, prompt) in enumerate(zip(lines, prompts, strict=True), start=1):
        assert (line["text"], line["finish_reason"]) == (f"Turn {number}: {prompt}", "stop")
    # turn 2 and 3 sent the earlier answers as references to the proxy's own items
    first_answer = lines[0]["content"][0]["item_id"]
    second = wire[1].request["input"]
    assert second[1] == {"type": "item_reference", "id": first_answer}
    assert [item.get("type", item.get("role")) for item in wire[2].request["input"]] == [
        "user",
        "item_reference",
        "user",
        "item_reference",
        "user",
    ]
    threads = {exchange.headers[THREAD] for exchange in wire}
    assert len(threads) == 1
    thread = threads.pop()
    assert (await sdk.threads.get_state(thread))["values"]["turns"] == 3
    assert [kind for kind, _ in await thread_messages(sdk, thread)] == ["human", "ai"] * 3


def test_vercel_ai_sdk_answers_an_interrupt_with_the_next_turn(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    prompts = ["Who am I?", "Ann"]
    lines, wire = split(
        node_responses(proxy_url, "vercel-turns", model="ask", prompts=prompts, body={})
    )
    check_wire(responses_schemas, wire)
    assert [line["text"] for line in lines] == [
        "What is your name?",
        "Hello, Ann! You asked: Who am I?",
    ]
    assert wire[1].request["input"][1]["type"] == "item_reference"
    assert wire[0].headers[THREAD] == wire[1].headers[THREAD]


def test_vercel_ai_sdk_with_the_tool_using_assistant(
    proxy_url: str, node_responses, fake_model: FakeOpenAI, responses_schemas: OpenAISchemas
) -> None:
    fake_model.turns = CALCULATION
    body = {"context": model_context(fake_model)}
    prompts = ["What is 6 * 7?", "Again, please."]
    lines, wire = split(
        node_responses(proxy_url, "vercel-turns", model="assistant", prompts=prompts, body=body)
    )
    check_wire(responses_schemas, wire)
    for line in lines:
        assert (line["text"], line["reasoning"]) == ("It is 42.", CALCULATION_STEPS)
        assert [part["type"] for part in line["content"]] == ["reasoning", "text"]
    # the second turn referred to the first's reasoning and message: the thread has them
    assert [item.get("type") for item in wire[1].request["input"][1:3]] == ["item_reference"] * 2
    assert wire[0].headers[THREAD] == wire[1].headers[THREAD]
    messages = fake_model.requests[-1]["body"]["messages"]
    assert [content_text(m["content"]) for m in messages if m["role"] == "user"] == prompts


def test_vercel_ai_sdk_sees_a_failed_run_as_an_error(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(
        node_responses(
            proxy_url,
            "vercel-error",
            model="bench",
            prompts=["50"],
            body={"context": {"fail_after": 10}},
        )
    )
    check_wire(responses_schemas, wire)
    assert wire[0].events[-1]["type"] == "response.failed"
    finish, error = lines
    assert finish == {"kind": "finish", "finish_reason": "error"}
    assert error["text"] == "".join(f"{i} " for i in range(10))
    assert any("failed on purpose" in message for message in error["errors"])


def test_openai_js_sdk_create_and_retrieve(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "openai-create"))
    check_wire(responses_schemas, wire)
    created, retrieved = lines
    assert created["object"] == "response" and created["status"] == "completed"
    assert created["output_text"] == ANSWER
    assert [item["type"] for item in created["output"]] == ["reasoning", "message"]
    assert created["output"][0]["summary"] == [{"type": "summary_text", "text": PROGRESS}]
    assert created["usage"]["output_tokens_details"] == {"reasoning_tokens": 1}
    assert {**retrieved, "kind": "response"} == created
    assert [(e.method, e.status) for e in wire] == [("POST", 200), ("GET", 200)]


def test_openai_js_sdk_streams_events(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "openai-stream"))
    check_wire(responses_schemas, wire)
    events = [line["event"] for line in lines]
    assert events == wire[0].events  # the SDK handed over every event as sent
    assert events[-1]["type"] == "response.completed"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == ANSWER
    summary = [e for e in events if e["type"] == "response.reasoning_summary_text.delta"]
    assert "".join(e["delta"] for e in summary) == PROGRESS


def test_openai_js_sdk_stream_helper(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "openai-helper"))
    check_wire(responses_schemas, wire)
    [final] = lines
    assert (final["status"], final["output_text"]) == ("completed", ANSWER)
    assert (final["deltas"], final["reasoning"]) == (ANSWER, PROGRESS)
    for item in final["output"]:  # the SDK adds `parsed` (of a text format) to text parts
        for part in item.get("content", []):
            assert part.pop("parsed") is None
    assert final["output"] == wire[0].events[-1]["response"]["output"]


def test_openai_js_sdk_errors(
    proxy_url: str, node_responses, responses_schemas: OpenAISchemas
) -> None:
    lines, wire = split(node_responses(proxy_url, "openai-errors"))
    check_wire(responses_schemas, wire)
    errors = {line["case"]: line for line in lines}
    for case in ("unknown-model", "unknown-model-stream"):
        error = errors[case]
        assert (error["name"], error["status"], error["code"]) == (
            "NotFoundError",
            404,
            "model_not_found",
        )
    failed = errors["fails-mid-stream"]
    assert failed["kind"] == "failed" and failed["response"]["status"] == "failed"
    assert "failed on purpose" in failed["response"]["error"]["message"]
    [partial] = failed["response"]["output"]
    assert partial["status"] == "incomplete"
    assert partial["content"][0]["text"] == "".join(f"{i} " for i in range(10))
