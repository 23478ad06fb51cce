"""Any LangGraph agent through the proxy: ``messages`` mode tokens, tool steps as thinking.

A real ``langgraph dev`` serves the tool-using ``assistant`` (``create_agent`` over
``ChatOpenAI``, pointed at the fake OpenAI upstream through the run's context) and the
``kinds-*`` graphs (harness/graphs/kinds.py: every way a graph can bring its answer). Every
test runs against the mounted and the standalone proxy, with real clients.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from harness.graphs.kinds import INTRO, REPLY, ROUTE
from tests.fake_openai import PROMPT_TOKENS, FakeOpenAI, ToolCall
from tests.integration_tests.conftest import model_context

QUESTION = [{"role": "user", "content": "What is 2 + 3 * 4?"}]
CALC = ToolCall("calculator", '{"expression": "2 + 3 * 4"}')
ANSWER = ["The ", "answer ", "is ", "14."]
STEPS = 'Calling calculator with {"expression": "2 + 3 * 4"}\nTool calculator returned: 14\n'


def client(proxy_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy_url, api_key="unused", max_retries=0, timeout=60)


def agent_request(fake: FakeOpenAI, **extra: Any) -> dict[str, Any]:
    return {
        "model": "assistant",
        "messages": QUESTION,
        "extra_body": {"context": model_context(fake)},
        **extra,
    }


async def collect(stream: Any) -> tuple[str, str, list[Any]]:
    """Content, reasoning, and every chunk of a streamed completion."""
    chunks = [chunk async for chunk in stream]
    content = reasoning = ""
    for chunk in chunks:
        if chunk.choices:
            delta = chunk.choices[0].delta
            assert not delta.tool_calls, "a server-side tool call reached the client as tool_calls"
            content += delta.content or ""
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
    return content, reasoning, chunks


async def test_the_assistant_streams_tool_steps_as_thinking_then_its_answer(
    proxy_url: str, fake_model: FakeOpenAI, openai_schemas
) -> None:
    fake_model.turns = [[CALC], ANSWER]
    stream = await client(proxy_url).chat.completions.create(
        **agent_request(fake_model), stream=True, stream_options={"include_usage": True}
    )
    content, reasoning, chunks = await collect(stream)
    assert content == "".join(ANSWER)
    assert reasoning == STEPS
    assert chunks[-2].choices[0].finish_reason == "stop"
    # two model calls, each reporting its usage: the tool call (1 token) and the answer (4)
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (2 * PROMPT_TOKENS, 1 + len(ANSWER))
    for chunk in chunks:
        openai_schemas.check(
            "CreateChatCompletionStreamResponse", chunk.model_dump(exclude_unset=True)
        )


async def test_answer_tokens_arrive_while_the_model_is_still_answering(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [[CALC], ANSWER]
    fake_model.hold_after = 2  # the model sends "The answer " and then stalls
    stream = await client(proxy_url).chat.completions.create(
        **agent_request(fake_model), stream=True
    )
    content = ""
    async with asyncio.timeout(30):
        async for chunk in stream:
            content += (chunk.choices[0].delta.content or "") if chunk.choices else ""
            if content == "The answer ":
                assert fake_model.sent[-2:] == ["The ", "answer "]
                fake_model.release()
    assert content == "".join(ANSWER)


async def test_not_streaming_gives_the_same_text_once(
    proxy_url: str, fake_model: FakeOpenAI, openai_schemas
) -> None:
    fake_model.turns = [[CALC], ANSWER]
    reply = await client(proxy_url).chat.completions.create(**agent_request(fake_model))
    openai_schemas.check("CreateChatCompletionResponse", reply.model_dump(exclude_unset=True))
    message = reply.choices[0].message
    assert message.content == "".join(ANSWER) and not message.tool_calls
    assert message.model_extra["reasoning_content"] == STEPS
    assert reply.usage.prompt_tokens == 2 * PROMPT_TOKENS


async def test_langchain_chat_openai_streams_and_invokes_the_agent(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [[CALC], ANSWER]
    llm = ChatOpenAI(
        base_url=proxy_url,
        api_key="unused",  # type: ignore[arg-type]
        model="assistant",
        max_retries=0,
        extra_body={"context": model_context(fake_model)},
    )
    streamed = "".join([str(chunk.content) async for chunk in llm.astream(QUESTION)])
    assert streamed == "".join(ANSWER)
    assert (await llm.ainvoke(QUESTION)).content == "".join(ANSWER)


async def test_the_metadata_of_messages_events_never_reaches_the_client(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [[CALC], ANSWER]
    body = {
        "model": "assistant",
        "messages": QUESTION,
        "stream": True,
        "context": model_context(fake_model),
    }
    async with httpx.AsyncClient(timeout=60) as http:
        raw = (await http.post(proxy_url + "/chat/completions", json=body)).text
    for leak in ("langgraph_node", "checkpoint_ns", "run_attempt", "x-forwarded", "user-agent"):
        assert leak not in raw.lower()


# --- every kind of graph: each message's text exactly once ------------------------------------

KINDS = {
    "kinds-streaming": (REPLY, ""),
    "kinds-not-streaming": (REPLY, ""),
    "kinds-nostream-tag": (REPLY, ""),
    "kinds-hand-built-message": (REPLY, ""),
    "kinds-custom-and-message": (REPLY, ""),
    "kinds-custom-chunks-too": (REPLY, ""),
    "kinds-mixed": (INTRO + REPLY, "Looking things up.\n"),
    "kinds-subgraph": (REPLY, ""),
    "kinds-router": (ROUTE + REPLY, ""),
}


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not-streamed"])
@pytest.mark.parametrize("model", list(KINDS))
async def test_every_kind_of_graph_answers_once(proxy_url: str, model: str, stream: bool) -> None:
    content, reasoning = KINDS[model]
    messages = [{"role": "user", "content": "hi"}]
    if stream:
        got, thought, _ = await collect(
            await client(proxy_url).chat.completions.create(
                model=model, messages=messages, stream=True
            )
        )
    else:
        reply = await client(proxy_url).chat.completions.create(model=model, messages=messages)
        got = reply.choices[0].message.content
        thought = reply.choices[0].message.model_extra.get("reasoning_content") or ""
    assert (got, thought) == (content, reasoning)


@pytest.fixture(scope="module")
async def answer_only_router(langgraph_server) -> str:
    """An assistant of the router graph that names its answer node (assistant metadata)."""
    async with httpx.AsyncClient(base_url=langgraph_server.url, timeout=30) as http:
        created = await http.post(
            "/assistants",
            json={
                "graph_id": "kinds-router",
                "name": "router-answer-only",
                "metadata": {"answer_nodes": ["answer"]},
            },
        )
    assert created.status_code == 200, created.text
    return "router-answer-only"


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not-streamed"])
async def test_a_router_s_internal_model_call_is_thinking_when_answer_nodes_are_named(
    proxy_url: str, answer_only_router: str, stream: bool
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    api = client(proxy_url).chat.completions
    if stream:
        content, reasoning, _ = await collect(
            await api.create(model=answer_only_router, messages=messages, stream=True)
        )
    else:
        reply = await api.create(model=answer_only_router, messages=messages)
        content = reply.choices[0].message.content or ""
        reasoning = reply.choices[0].message.model_extra.get("reasoning_content") or ""
    assert (content, reasoning) == (REPLY, ROUTE)


# --- faults: a progress line or the usual error, never a 5xx or a traceback -------------------


async def test_a_failing_tool_is_a_progress_line_and_the_agent_goes_on(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [
        [ToolCall("calculator", '{"expression": "1 / 0"}'), ToolCall("no_such_tool", "{}")],
        ["Cannot divide by zero."],
    ]
    content, reasoning, _ = await collect(
        await client(proxy_url).chat.completions.create(**agent_request(fake_model), stream=True)
    )
    assert content == "Cannot divide by zero."
    assert "Tool calculator failed: Cannot compute it: division by zero." in reasoning
    assert "Tool no_such_tool failed:" in reasoning and "not a valid tool" in reasoning


async def test_malformed_tool_arguments_are_shown_and_do_not_break_the_stream(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [[ToolCall("calculator", '{"expression": "2 +')], ["Sorry."]]
    content, reasoning, _ = await collect(
        await client(proxy_url).chat.completions.create(**agent_request(fake_model), stream=True)
    )
    assert content == "Sorry."
    assert 'Calling calculator with {"expression": "2 +' in reasoning


async def test_a_model_failing_mid_answer_ends_the_stream_with_an_error(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [ANSWER]
    fake_model.fail_after = 2
    stream = await client(proxy_url).chat.completions.create(
        **agent_request(fake_model), stream=True
    )
    content = ""
    with pytest.raises(openai.APIError) as raised:
        async for chunk in stream:
            content += (chunk.choices[0].delta.content or "") if chunk.choices else ""
    assert content == "The answer "
    assert "Traceback" not in str(raised.value)
    with pytest.raises(openai.APIStatusError) as failed:
        await client(proxy_url).chat.completions.create(**agent_request(fake_model))
    assert failed.value.status_code == 502
    assert failed.value.response.headers.get("x-should-retry") == "false"


async def test_client_tools_are_ignored_and_never_called(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    """Open WebUI and the Agents SDK send tools of their own: the graph's tools run, not theirs."""
    fake_model.turns = [[CALC], ANSWER]
    tools = [
        {"type": "function", "function": {"name": "web_search", "parameters": {"type": "object"}}}
    ]
    reply = await client(proxy_url).chat.completions.create(
        **agent_request(fake_model), tools=tools
    )
    assert reply.choices[0].message.content == "".join(ANSWER)
    assert reply.choices[0].finish_reason == "stop"
    sent_tools = [t["function"]["name"] for t in fake_model.requests[0]["body"]["tools"]]
    assert "web_search" not in sent_tools and json.dumps(sent_tools)
