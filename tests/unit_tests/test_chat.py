"""The chat graph in-process, against the fake OpenAI-compatible upstream (offline)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.chat import PLACEHOLDER_KEY, Context, graph, resolve
from harness.servers import free_port
from proxy.runs.custom import custom_reader
from proxy.runs.events import Kind
from proxy.runs.state import RunState
from tests.fake_openai import PROMPT_TOKENS, REPLY, FakeOpenAI

ENV = (
    "CHAT_MODEL",
    "CHAT_BASE_URL",
    "CHAT_API_KEY",
    "CHAT_TIMEOUT",
    "CHAT_MAX_RETRIES",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
)
HELLO = [{"role": "user", "content": "Hello?"}]


def read_custom(data):
    """One chunk through the custom reader of a fresh run."""
    return custom_reader(RunState())(data)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own model settings must not leak into these tests."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake(fake_model: FakeOpenAI) -> FakeOpenAI:
    """The session's fake model, with default knobs and empty records."""
    return fake_model


def context(fake: FakeOpenAI, **overrides: Any) -> Context:
    return Context(**{"model": "fake-model", "base_url": fake.url, **overrides})


async def run(
    messages: list[Any], ctx: Context | None, sink: list[Any] | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """Stream one run; return the custom chunks (also appended to ``sink`` as they come)."""
    chunks: list[Any] = [] if sink is None else sink
    final: dict[str, Any] = {}
    async for mode, data in graph.astream(
        {"messages": messages}, context=ctx, stream_mode=["custom", "values"]
    ):
        if mode == "custom":
            chunks.append(data)
        else:
            final = data
    return chunks, final


def on_the_wire(chunks: list[Any]) -> list[Any]:
    """The chunks as a LangGraph server sends them (JSON: the pair becomes a list)."""
    return [orjson.loads(orjson.dumps(chunk)) for chunk in chunks]


def answers(chunks: list[Any]) -> list[str]:
    return [c[0]["content"] for c in chunks if isinstance(c, tuple) and c[0]["content"]]


async def test_tokens_stream_in_order_then_usage_and_the_reply_is_stored(
    fake: FakeOpenAI,
) -> None:
    chunks, state = await run(HELLO, context(fake))
    reply = state["messages"][-1]
    assert isinstance(reply, AIMessage)
    # every token names the message the node stores, so a messages-mode reader skips it
    assert reply.id and reply.id.startswith("run--")
    token = {"role": "assistant", "id": reply.id}
    pairs = [({**token, "content": text}, {"model": "fake-model"}) for text in REPLY]
    total = PROMPT_TOKENS + len(REPLY)
    usage = {"type": "usage", "prompt_tokens": PROMPT_TOKENS, "completion_tokens": len(REPLY)}
    assert chunks == [*pairs, {**usage, "total_tokens": total}]
    assert reply.content == "".join(REPLY)
    assert reply.usage_metadata == {
        "input_tokens": PROMPT_TOKENS,
        "output_tokens": len(REPLY),
        "total_tokens": total,
    }
    assert reply.response_metadata == {"model_name": "fake-model", "finish_reason": "stop"}
    (request,) = fake.requests
    assert request["body"]["stream"] is True
    assert request["body"]["stream_options"] == {"include_usage": True}
    assert request["body"]["model"] == "fake-model"
    assert request["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


async def test_chunks_are_what_the_proxy_reads_as_answer_and_usage(fake: FakeOpenAI) -> None:
    chunks, _ = await run(HELLO, context(fake))
    classified = [e for chunk in on_the_wire(chunks) for e in read_custom(chunk)]
    assert [c.text for c in classified if c.kind is Kind.ANSWER] == REPLY
    (report,) = [c.data for c in classified if c.kind is Kind.USAGE]
    assert report is not None
    assert report["prompt_tokens"] == PROMPT_TOKENS
    assert report["completion_tokens"] == len(REPLY)


async def test_the_whole_conversation_goes_to_the_model(fake: FakeOpenAI) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    conversation = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "assistant", "content": "It is 42."},
        {"role": "user", "content": "And now?"},
    ]
    _, state = await run(conversation, context(fake))
    sent = fake.requests[0]["body"]["messages"]
    assert [m["role"] for m in sent] == [
        "developer",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert sent[0]["content"] == "Be brief."
    assert sent[1]["content"] == [{"type": "text", "text": "What is this?"}, image]
    assert sent[2]["tool_calls"] == [call]
    assert sent[3] == {"role": "tool", "tool_call_id": "c1", "content": "42"}
    assert [m["content"] for m in sent[4:]] == ["It is 42.", "And now?"]
    assert len(state["messages"]) == len(conversation) + 1
    assert isinstance(state["messages"][0], SystemMessage)
    assert isinstance(state["messages"][-2], HumanMessage)
    assert state["messages"][-1].content == "".join(REPLY)


async def test_tokens_arrive_before_the_model_has_finished(fake: FakeOpenAI) -> None:
    fake.hold_after = 3
    chunks: list[Any] = []
    task = asyncio.create_task(run(HELLO, context(fake), chunks))
    try:
        await fake.wait_until(lambda: len(answers(chunks)) == 3)
        assert fake.sent == REPLY[:3]
        assert not task.done()
        fake.release()
        await asyncio.wait_for(task, 15)
    finally:
        task.cancel()
    assert answers(chunks) == REPLY


async def test_reasoning_streams_as_progress_and_is_kept(fake: FakeOpenAI) -> None:
    fake.reasoning = ["Thinking", " hard."]
    chunks, state = await run(HELLO, context(fake))
    classified = [e for chunk in on_the_wire(chunks) for e in read_custom(chunk)]
    assert [c.text for c in classified if c.kind is Kind.PROGRESS] == ["Thinking", " hard."]
    assert [c.text for c in classified if c.kind is Kind.ANSWER] == REPLY
    reply = state["messages"][-1]
    assert reply.additional_kwargs == {"reasoning_content": "Thinking hard."}
    assert reply.usage_metadata["output_tokens"] == len(REPLY) + 2


async def test_no_usage_from_the_model_means_no_usage_chunk(fake: FakeOpenAI) -> None:
    fake.usage = False
    chunks, state = await run(HELLO, context(fake))
    assert all(isinstance(chunk, tuple) for chunk in chunks)
    assert state["messages"][-1].usage_metadata is None
    assert state["messages"][-1].content == "".join(REPLY)


async def test_no_model_configured_fails_at_once_naming_the_variable(fake: FakeOpenAI) -> None:
    with pytest.raises(ValueError, match="set the CHAT_MODEL environment variable"):
        await run(HELLO, Context(base_url=fake.url))
    with pytest.raises(ValueError, match="CHAT_MODEL"):
        await run(HELLO, None)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("url_var", "key_var"),
    [("CHAT_BASE_URL", "CHAT_API_KEY"), ("OPENAI_BASE_URL", "OPENAI_API_KEY")],
)
async def test_environment_defaults_and_key(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, url_var: str, key_var: str
) -> None:
    monkeypatch.setenv("CHAT_MODEL", "env-model")
    monkeypatch.setenv(url_var, fake.url)
    monkeypatch.setenv(key_var, "sk-env-secret")
    _, state = await run(HELLO, None)
    assert state["messages"][-1].content == "".join(REPLY)
    (request,) = fake.requests
    assert request["body"]["model"] == "env-model"
    assert request["authorization"] == "Bearer sk-env-secret"


async def test_chat_variables_win_over_openai_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_MODEL", "m")
    monkeypatch.setenv("CHAT_BASE_URL", "http://chat.example/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.example/v1")
    monkeypatch.setenv("CHAT_API_KEY", "sk-chat")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("CHAT_TIMEOUT", "2.5")
    monkeypatch.setenv("CHAT_MAX_RETRIES", "0")
    settings = resolve(None)
    assert (settings.base_url, settings.api_key) == ("http://chat.example/v1", "sk-chat")
    assert (settings.timeout, settings.max_retries) == (2.5, 0)


async def test_context_overrides_the_environment_but_never_gets_the_key(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key goes only to the environment's base URL, not to one a caller names."""
    monkeypatch.setenv("CHAT_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret")
    await run(HELLO, Context(model="ctx-model", base_url=fake.url))
    (request,) = fake.requests
    assert request["body"]["model"] == "ctx-model"
    assert request["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timeout": 0}, "'timeout' must be a number above 0"),
        ({"timeout": "soon"}, "'timeout' must be a number above 0"),
        ({"timeout": float("nan")}, "'timeout' must be"),
        ({"max_retries": -1}, "'max_retries' must be a number from 0"),
        ({"max_retries": 11}, "'max_retries' must be"),
        ({"max_retries": True}, "'max_retries' must be"),
        ({"base_url": "ftp://files.example"}, "base_url must be an http"),
        ({"base_url": "not a url"}, "base_url must be an http"),
    ],
)
async def test_invalid_settings_fail_the_run_clearly(
    fake: FakeOpenAI, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await run(HELLO, context(fake, **overrides))
    assert fake.requests == []


async def test_invalid_environment_value_names_the_variable(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="CHAT_TIMEOUT must be a number"):
        await run(HELLO, context(fake))


async def test_empty_conversation_is_refused(fake: FakeOpenAI) -> None:
    with pytest.raises(ValueError, match="at least one message"):
        await run([], context(fake))


@pytest.mark.parametrize("retries", [0, 1])
async def test_upstream_status_error_is_a_clean_runtime_error(
    fake: FakeOpenAI, retries: int
) -> None:
    fake.fail_status = 503
    with pytest.raises(RuntimeError) as caught:
        await run(HELLO, context(fake, max_retries=retries))
    assert str(caught.value) == (
        f"The chat model 'fake-model' at {fake.url} answered HTTP 503: "
        "The fake model is overloaded."
    )
    assert len(fake.requests) == 1 + retries


async def test_client_errors_are_not_retried(fake: FakeOpenAI) -> None:
    fake.fail_status = 404
    fake.fail_message = "The model `nope` does not exist."
    with pytest.raises(RuntimeError, match="answered HTTP 404: The model `nope` does not exist"):
        await run(HELLO, context(fake, model="nope"))
    assert len(fake.requests) == 1


async def test_upstream_failure_mid_answer_keeps_what_streamed(fake: FakeOpenAI) -> None:
    fake.fail_after = 3
    chunks: list[Any] = []
    with pytest.raises(RuntimeError, match="failed mid-answer: The fake model is overloaded"):
        await run(HELLO, context(fake), chunks)
    assert answers(chunks) == REPLY[:3]


async def test_a_dropped_connection_mid_answer_is_a_clean_error(fake: FakeOpenAI) -> None:
    fake.drop_after = 3
    chunks: list[Any] = []
    with pytest.raises(RuntimeError, match=f"at {fake.url}: connection failed \\("):
        await run(HELLO, context(fake), chunks)
    assert answers(chunks) == REPLY[:3]


async def test_a_stalled_stream_times_out_and_is_closed(fake: FakeOpenAI) -> None:
    fake.hold_after = 2
    chunks: list[Any] = []
    with pytest.raises(TimeoutError, match=r"sent nothing for 0\.3 s"):
        await run(HELLO, context(fake, timeout=0.3), chunks)
    assert answers(chunks) == REPLY[:2]
    await fake.wait_until(lambda: fake.disconnects == 1)


async def test_a_model_that_never_answers_times_out(fake: FakeOpenAI) -> None:
    fake.hold_headers = True
    with pytest.raises(TimeoutError, match="CHAT_TIMEOUT"):
        await run(HELLO, context(fake, timeout=0.2, max_retries=0))
    await fake.wait_until(lambda: fake.disconnects == 1)


async def test_an_unreachable_model_is_a_clean_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(RuntimeError, match=f"at {url}: connection failed \\(ConnectError: "):
        await run(HELLO, Context(model="m", base_url=url, max_retries=0))


async def test_cancelling_the_run_closes_the_upstream_request(fake: FakeOpenAI) -> None:
    fake.hold_after = 2
    chunks: list[Any] = []
    task = asyncio.create_task(run(HELLO, context(fake), chunks))
    await fake.wait_until(lambda: len(answers(chunks)) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake.wait_until(lambda: fake.disconnects == 1)
    assert fake.completed == 0


async def test_error_messages_never_show_the_key_or_url_credentials(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_url = fake.url.replace("http://", "http://user:pa55@")
    monkeypatch.setenv("CHAT_BASE_URL", secret_url)
    monkeypatch.setenv("CHAT_API_KEY", "sk-very-secret")
    fake.fail_status = 401
    fake.fail_message = "Incorrect API key provided: sk-very-secret."
    with pytest.raises(RuntimeError) as caught:
        await run(HELLO, Context(model="m", max_retries=0))
    message = str(caught.value)
    assert "answered HTTP 401: Incorrect API key provided: ***." in message
    assert "sk-very-secret" not in message and "pa55" not in message
    assert fake.url in message


def test_studio_sees_a_messages_input_and_the_settings_form() -> None:
    schema = graph.get_input_jsonschema()
    assert "messages" in schema["properties"]
    assert schema["properties"]["messages"]["type"] == "array"
    fields = graph.get_context_jsonschema()["properties"]
    assert set(fields) == {"model", "base_url", "timeout", "max_retries"}
