"""The chat graph served by a real `langgraph dev`, against the fake OpenAI-compatible upstream.

Runs reach the fake through the run's context (``base_url``, ``model``), so the shared server
needs no model configured. Through the proxy, every test runs for the mounted and the
standalone proxy, with the real ``openai`` SDK.
"""

from __future__ import annotations

import os
from contextlib import aclosing
from typing import Any

import openai
import pytest

from tests.fake_openai import PROMPT_TOKENS, REPLY, FakeOpenAI
from tests.integration_tests.conftest import model_context

HELLO = [{"role": "user", "content": "Hello?"}]
no_model_in_env = pytest.mark.skipif(
    bool(os.environ.get("CHAT_MODEL", "").strip()),
    reason="CHAT_MODEL is set for the test server, so a model is configured",
)


@pytest.fixture
def fake(fake_model: FakeOpenAI) -> FakeOpenAI:
    """The session's fake model, with default knobs and empty records."""
    return fake_model


def client(proxy_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy_url, api_key="unused", max_retries=0, timeout=30)


def token(data: Any) -> str | None:
    """The text of a ``(message_chunk, metadata)`` pair as the server sends it (a list)."""
    if isinstance(data, list) and len(data) == 2 and isinstance(data[0], dict):
        return data[0].get("content") or None
    return None


# --- langgraph dev, through the LangGraph SDK (what Studio sees) -----------------------------


async def test_the_graph_is_served_with_its_schemas(sdk) -> None:
    (assistant,) = [a for a in await sdk.assistants.search(graph_id="chat") if a["name"] == "chat"]
    schemas = await sdk.assistants.get_schemas(assistant["assistant_id"])
    assert schemas["input_schema"]["properties"]["messages"]["type"] == "array"
    assert {"model", "base_url", "timeout", "max_retries"} <= set(
        schemas["context_schema"]["properties"]
    )


async def test_tokens_stream_incrementally_then_usage(sdk, fake: FakeOpenAI) -> None:
    """The first tokens reach the client while the fake still holds back the rest."""
    fake.hold_after = 3
    tokens: list[str] = []
    others: list[Any] = []
    async for part in sdk.runs.stream(
        None, "chat", input={"messages": HELLO}, stream_mode="custom", context=model_context(fake)
    ):
        if part.event != "custom":
            assert part.event != "error", part.data
            continue
        if (text := token(part.data)) is not None:
            tokens.append(text)
            if len(tokens) == 3:
                assert fake.sent == REPLY[:3]
                fake.release()
        else:
            others.append(part.data)
    assert tokens == REPLY
    assert others == [
        {
            "type": "usage",
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": len(REPLY),
            "total_tokens": PROMPT_TOKENS + len(REPLY),
        }
    ]


async def test_runs_wait_returns_the_conversation_with_the_reply(sdk, fake: FakeOpenAI) -> None:
    state = await sdk.runs.wait(
        None, "chat", input={"messages": HELLO}, context=model_context(fake, model="other-model")
    )
    question, reply = state["messages"]
    assert (question["type"], question["content"]) == ("human", "Hello?")
    assert (reply["type"], reply["content"]) == ("ai", "".join(REPLY))
    assert reply["usage_metadata"]["input_tokens"] == PROMPT_TOKENS
    assert fake.requests[0]["body"]["model"] == "other-model"


@no_model_in_env
async def test_no_model_configured_fails_the_run_naming_the_variable(sdk) -> None:
    events = [
        part
        async for part in sdk.runs.stream(
            None, "chat", input={"messages": HELLO}, stream_mode="custom"
        )
    ]
    errors = [part.data for part in events if part.event == "error"]
    assert errors and errors[0]["error"] == "ValueError"
    assert "set the CHAT_MODEL environment variable" in errors[0]["message"]


async def test_leaving_the_run_stream_stops_the_upstream_request(sdk, fake: FakeOpenAI) -> None:
    fake.hold_after = 2
    tokens: list[str] = []
    stream = sdk.runs.stream(
        None,
        "chat",
        input={"messages": HELLO},
        stream_mode="custom",
        context=model_context(fake),
        on_disconnect="cancel",
    )
    async with aclosing(stream):
        async for part in stream:
            if part.event == "custom" and (text := token(part.data)) is not None:
                tokens.append(text)
                if len(tokens) == 2:
                    break
    await fake.wait_until(lambda: fake.disconnects == 1)
    assert fake.completed == 0 and tokens == REPLY[:2]


# --- through the proxy, with the openai SDK ---------------------------------------------------


async def test_models_lists_the_chat_graph(proxy_url: str) -> None:
    ids = [model.id async for model in client(proxy_url).models.list()]
    assert "chat" in ids


async def test_proxy_streams_tokens_as_content_with_the_providers_usage(
    proxy_url: str, fake: FakeOpenAI
) -> None:
    fake.hold_after = 3
    stream = await client(proxy_url).chat.completions.create(
        model="chat",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"context": model_context(fake)},
    )
    content: list[str] = []
    usage = None
    released = False
    async with stream:
        async for chunk in stream:
            usage = chunk.usage or usage
            if chunk.choices and chunk.choices[0].delta.content:
                content.append(chunk.choices[0].delta.content)
                # tokens that arrive together share a delta (PROXY_MERGE_DELTAS): the first
                # three reach the client while the model still holds the rest
                if "".join(content) == "".join(REPLY[:3]):
                    assert fake.sent == REPLY[:3]
                    fake.release()
                    released = True
    assert "".join(content) == "".join(REPLY)
    assert released
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (PROMPT_TOKENS, len(REPLY))
    assert usage.total_tokens == PROMPT_TOKENS + len(REPLY)


async def test_proxy_passes_the_whole_conversation_and_answers_in_one_body(
    proxy_url: str, fake: FakeOpenAI
) -> None:
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "How are you?"}]},
    ]
    reply = await client(proxy_url).chat.completions.create(
        model="chat", messages=conversation, extra_body={"context": model_context(fake)}
    )
    assert reply.choices[0].message.content == "".join(REPLY)
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (
        PROMPT_TOKENS,
        len(REPLY),
    )
    sent = fake.requests[0]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "How are you?"),
    ]


@no_model_in_env
async def test_proxy_reports_a_missing_model_clearly(proxy_url: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        await client(proxy_url).chat.completions.create(model="chat", messages=HELLO)
    assert caught.value.status_code == 502
    assert "set the CHAT_MODEL environment variable" in caught.value.message


async def test_upstream_error_is_a_clean_error_streaming_or_not(
    proxy_url: str, fake: FakeOpenAI
) -> None:
    fake.fail_status = 503
    expected = f"The chat model 'fake-model' at {fake.url} answered HTTP 503: " + (
        "The fake model is overloaded."
    )
    with pytest.raises(openai.APIStatusError) as caught:
        await client(proxy_url).chat.completions.create(
            model="chat", messages=HELLO, extra_body={"context": model_context(fake)}
        )
    assert caught.value.status_code == 502
    assert expected in caught.value.message
    stream = await client(proxy_url).chat.completions.create(
        model="chat", messages=HELLO, stream=True, extra_body={"context": model_context(fake)}
    )
    with pytest.raises(openai.APIError) as streamed:
        async with stream:
            async for _ in stream:
                pass
    assert expected in streamed.value.message
    assert len(fake.requests) == 2


async def test_upstream_failure_mid_answer_ends_the_stream_with_an_error(
    proxy_url: str, fake: FakeOpenAI
) -> None:
    fake.fail_after = 3
    content: list[str] = []
    stream = await client(proxy_url).chat.completions.create(
        model="chat", messages=HELLO, stream=True, extra_body={"context": model_context(fake)}
    )
    with pytest.raises(openai.APIError, match="failed mid-answer: The fake model is overloaded"):
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    content.append(chunk.choices[0].delta.content)
    assert "".join(content) == "".join(REPLY[:3])


async def test_a_stalled_upstream_times_out_cleanly(proxy_url: str, fake: FakeOpenAI) -> None:
    fake.hold_after = 2
    content: list[str] = []
    stream = await client(proxy_url).chat.completions.create(
        model="chat",
        messages=HELLO,
        stream=True,
        extra_body={"context": model_context(fake, timeout=0.5)},
    )
    with pytest.raises(openai.APIError, match=r"sent nothing for 0\.5 s"):
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    content.append(chunk.choices[0].delta.content)
    assert content == REPLY[:2]
    await fake.wait_until(lambda: fake.disconnects == 1)


async def test_a_client_disconnect_stops_the_upstream_request(
    proxy_url: str, fake: FakeOpenAI
) -> None:
    fake.hold_after = 2
    content: list[str] = []
    stream = await client(proxy_url).chat.completions.create(
        model="chat", messages=HELLO, stream=True, extra_body={"context": model_context(fake)}
    )
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                content.append(chunk.choices[0].delta.content)
                if len(content) == 2:
                    break
    await fake.wait_until(lambda: fake.disconnects == 1)
    assert fake.completed == 0 and content == REPLY[:2]
