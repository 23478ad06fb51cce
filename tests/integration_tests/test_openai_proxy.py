"""The proxy through real clients (openai SDK, ChatOpenAI, raw HTTP) against a real server.

Every test runs twice: against the proxy mounted in `langgraph dev` and the standalone one.
Every body and every SSE chunk is validated against the official OpenAI schemas.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from agent.up_down_game import WORDING

FAST = {"pace": 0, "seed": 11}
FAST_EN = {**FAST, "locale": "en"}


def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)


def sse_events(base_url: str, body: dict[str, Any]) -> tuple[httpx.Response, list[str]]:
    """POST a streaming request; return the response and each raw SSE event block."""
    with httpx.stream("POST", base_url + "/chat/completions", json=body, timeout=60) as response:
        raw = b"".join(response.iter_raw()).decode()
    return response, [block for block in raw.split("\n\n") if block]


def test_models_list_and_get(proxy_url: str, openai_schemas) -> None:
    raw = httpx.get(proxy_url + "/models", timeout=30)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    openai_schemas.check("ListModelsResponse", raw.json())
    ids = [m.id for m in client(proxy_url).models.list()]
    assert "up-down-game" in ids and "bench" in ids
    model = client(proxy_url).models.retrieve("up-down-game")
    assert model.id == "up-down-game" and isinstance(model.created, int)
    openai_schemas.check("Model", httpx.get(proxy_url + "/models/up-down-game", timeout=30).json())


def test_model_by_assistant_uuid(proxy_url: str, langgraph_server) -> None:
    found = httpx.post(
        langgraph_server.url + "/assistants/search", json={"graph_id": "up-down-game"}, timeout=30
    ).json()
    uuid = found[0]["assistant_id"]
    assert client(proxy_url).models.retrieve(uuid).id == "up-down-game"
    reply = client(proxy_url).chat.completions.create(
        model=uuid, messages=[{"role": "user", "content": "-1"}], extra_body={"context": FAST_EN}
    )
    assert reply.choices[0].message.content == "You entered -1, which is less than 0."


def test_stream_with_the_openai_sdk(proxy_url: str) -> None:
    stream = client(proxy_url).chat.completions.create(
        model="up-down-game",
        messages=[{"role": "user", "content": "10"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"context": FAST},
    )
    chunks = list(stream)
    ids = {c.id for c in chunks}
    created = {c.created for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert len(created) == 1 and isinstance(created.pop(), int)
    first, *middle, finish, usage = chunks
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    reasoning = "".join(c.choices[0].delta.model_extra.get("reasoning_content", "") for c in middle)
    content = "".join(c.choices[0].delta.content or "" for c in middle)
    assert reasoning.startswith("사용자의 입력 : 10\n임의의 숫자 생성 (1회차) : ")
    draws = reasoning.count("회차")
    assert content == f"{draws} 번 반복 실행됐습니다."
    assert all(c.choices[0].finish_reason is None for c in [first, *middle])
    assert finish.choices[0].finish_reason == "stop" and finish.choices[0].delta.content is None
    assert usage.choices == [] and usage.usage is not None
    # one token per chunk the graph wrote (the input line, a line per draw, the answer's
    # pieces), however many deltas they shared (PROXY_MERGE_DELTAS: pace 0 is one burst)
    progress_chunks = draws + 1
    assert usage.usage.completion_tokens == progress_chunks + len(WORDING["ko"]["done"])
    assert usage.usage.completion_tokens_details.reasoning_tokens == progress_chunks
    assert len(middle) <= usage.usage.completion_tokens
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + usage.usage.completion_tokens


def test_non_streaming_with_the_openai_sdk(proxy_url: str, openai_schemas) -> None:
    body = {
        "model": "up-down-game",
        "messages": [{"role": "user", "content": "10"}],
        "context": FAST,
    }
    raw = httpx.post(proxy_url + "/chat/completions", json=body, timeout=60)
    assert raw.status_code == 200
    data = raw.json()
    openai_schemas.check("CreateChatCompletionResponse", data)
    assert "messages" not in data["choices"][0]
    reply = client(proxy_url).chat.completions.create(
        model="up-down-game", messages=body["messages"], extra_body={"context": FAST}
    )
    message = reply.choices[0].message
    assert message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    draws = message.model_extra["reasoning_content"].count("회차")
    assert message.content == f"{draws} 번 반복 실행됐습니다."
    assert isinstance(reply.usage.prompt_tokens, int) and reply.usage.completion_tokens > 0
    # the same seed gives the same run, so streamed and non-streamed answers agree
    assert data["choices"][0]["message"]["content"] == message.content


def test_every_sse_chunk_matches_the_schema(proxy_url: str, openai_schemas) -> None:
    response, events = sse_events(
        proxy_url,
        {
            "model": "up-down-game",
            "messages": [{"role": "user", "content": "60"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "context": FAST_EN,
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert events[-1] == "data: [DONE]"
    for event in events[:-1]:
        assert event.startswith("data: {") and "\n" not in event, event
        chunk = json.loads(event.removeprefix("data: "))
        openai_schemas.check("CreateChatCompletionStreamResponse", chunk)
        assert chunk["object"] == "chat.completion.chunk"
    assert not any(e.startswith("event:") for e in events)


def test_non_ascii_is_sent_unescaped(proxy_url: str) -> None:
    _, events = sse_events(
        proxy_url,
        {
            "model": "up-down-game",
            "messages": [{"role": "user", "content": "-3"}],
            "stream": True,
            "context": FAST,
        },
    )
    assert any("작습니다." in e for e in events)
    assert not any("\\u" in e for e in events)


@pytest.mark.parametrize("mode", ["reasoning", "content", "drop"])
def test_progress_modes_per_request(proxy_url: str, mode: str) -> None:
    sdk = client(proxy_url)
    kwargs: dict[str, Any] = {
        "model": "up-down-game",
        "messages": [{"role": "user", "content": "-4"}],
        "extra_body": {"context": FAST_EN, "progress_mode": mode},
    }
    chunks = list(sdk.chat.completions.create(stream=True, **kwargs))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(
        c.choices[0].delta.model_extra.get("reasoning_content", "") for c in chunks if c.choices
    )
    message = sdk.chat.completions.create(**kwargs).choices[0].message
    answer = "You entered -4, which is less than 0."
    if mode == "reasoning":
        assert (content, reasoning) == (answer, "User input: -4\n")
        assert (
            message.content == answer
            and message.model_extra["reasoning_content"] == "User input: -4\n"
        )
    elif mode == "content":
        assert (content, reasoning) == ("User input: -4\n" + answer, "")
        assert message.content == "User input: -4\n" + answer
    else:
        assert (content, reasoning) == (answer, "")
        assert message.content == answer and "reasoning_content" not in message.model_extra


def test_chat_openai_invoke_and_stream(proxy_url: str) -> None:
    llm = ChatOpenAI(
        base_url=proxy_url,
        api_key="unused",
        model="up-down-game",
        max_retries=0,
        extra_body={"context": FAST_EN},
    )
    assert llm.invoke("-9").content == "You entered -9, which is less than 0."
    pieces = [chunk.content for chunk in llm.stream("-9")]
    assert "".join(pieces) == "You entered -9, which is less than 0."
    # seven pieces, fewer deltas when they arrive together (PROXY_MERGE_DELTAS)
    assert 1 <= len([p for p in pieces if p]) <= len(WORDING["en"]["negative"]) == 7


def test_ignored_openai_fields_are_accepted(proxy_url: str) -> None:
    """What Open WebUI, LibreChat and LiteLLM add: never a 422 or 400."""
    body = {
        "model": "up-down-game",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": "-2"}]},
        ],
        "stream": True,
        "stream_options": {"include_usage": False, "continuous_usage_stats": True},
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 100,
        "user": {"id": "u1", "name": "someone"},
        "metadata": {"chat_id": "x"},
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
        "tool_choice": "auto",
        "seed": 3,
        "n": 1,
        "context": FAST_EN,
    }
    response, events = sse_events(proxy_url, body)
    assert response.status_code == 200
    assert events[-1] == "data: [DONE]"
    body["user"] = "a-user-string"
    assert sse_events(proxy_url, body)[0].status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "exc", "param"),
    [
        (
            {"model": "nope", "messages": [{"role": "user", "content": "1"}]},
            404,
            openai.NotFoundError,
            "model",
        ),
        (
            {"model": "up-down-game", "messages": [{"role": "user", "content": "abc"}]},
            400,
            openai.BadRequestError,
            "messages",
        ),
        (
            {"model": "up-down-game", "messages": [{"role": "user", "content": "1"}], "n": 2},
            400,
            openai.BadRequestError,
            "n",
        ),
        ({"model": "up-down-game", "messages": []}, 400, openai.BadRequestError, "messages"),
        (
            {"model": "up-down-game", "messages": [{"role": "assistant", "content": "1"}]},
            400,
            openai.BadRequestError,
            "messages",
        ),
    ],
)
def test_errors_are_openai_envelopes(proxy_url, openai_schemas, body, status, exc, param) -> None:
    raw = httpx.post(proxy_url + "/chat/completions", json=body, timeout=30)
    assert raw.status_code == status
    openai_schemas.check("ErrorResponse", raw.json())
    assert raw.json()["error"]["param"] == param
    for stream in (False, True):
        with pytest.raises(exc) as caught:
            client(proxy_url).chat.completions.create(stream=stream, **body)
        assert caught.value.status_code == status


def test_graph_error_mid_run(proxy_url: str, openai_schemas) -> None:
    """A run that fails after streaming: an error event then [DONE]; non-streaming: 502."""
    body = {
        "model": "bench",
        "messages": [{"role": "user", "content": "50"}],
        "stream": True,
        "context": {"fail_after": 10},
    }
    response, events = sse_events(proxy_url, body)
    assert response.status_code == 200
    assert events[-1] == "data: [DONE]"
    error = json.loads(events[-2].removeprefix("data: "))
    openai_schemas.check("ErrorResponse", error)
    content = "".join(
        json.loads(e[6:])["choices"][0]["delta"].get("content", "") for e in events[1:-2]
    )
    assert content == "".join(f"{i} " for i in range(10))
    with pytest.raises(openai.APIError, match=r"failed on purpose|internal error"):
        list(
            client(proxy_url).chat.completions.create(
                model="bench",
                messages=body["messages"],
                stream=True,
                extra_body={"context": body["context"]},
            )
        )
    raw = httpx.post(proxy_url + "/chat/completions", json={**body, "stream": False}, timeout=60)
    assert raw.status_code == 502
    openai_schemas.check("ErrorResponse", raw.json())


def test_the_openai_sdk_does_not_rerun_a_failed_graph(proxy_url: str) -> None:
    """A failed run is a 502 with ``x-should-retry: false``: the SDK, though allowed two
    retries (its default), sends the request once, so the graph ran once."""
    sent: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url.path)]})
    sdk = openai.OpenAI(base_url=proxy_url, api_key="unused", max_retries=2, http_client=http)
    with pytest.raises(openai.InternalServerError) as caught:
        sdk.chat.completions.create(
            model="bench",
            messages=[{"role": "user", "content": "5"}],
            extra_body={"context": {"fail_after": 0}},
        )
    assert caught.value.status_code == 502
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert sent == [httpx.URL(proxy_url).path + "/chat/completions"]


def test_value_error_message_reaches_the_client(proxy_url: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client(proxy_url).chat.completions.create(
            model="up-down-game",
            messages=[{"role": "user", "content": "5"}],
            extra_body={"context": {"pace": 0, "locale": "fr"}},
        )
    assert caught.value.status_code in (400, 502)
    assert "locale" in str(caught.value.message)


def test_health_and_readiness(proxy_url: str) -> None:
    root = proxy_url.removesuffix("/v1")
    assert httpx.get(root + "/healthz", timeout=10).json() == {"status": "ok"}
    assert httpx.get(root + "/readyz", timeout=10).json() == {"status": "ready"}


def open_webui_tools(count: int = 36) -> list[dict[str, Any]]:
    """Built-in tools as Open WebUI attaches them to every chat request by default."""
    return [
        {
            "type": "function",
            "function": {
                "name": f"builtin_tool_{i}",
                "description": "Open WebUI built-in tool",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
        for i in range(count)
    ]


def test_open_webui_as_it_comes(langgraph_server, standalone_proxy) -> None:
    """The chat request streams; the title/tags/follow-up side requests fail cleanly."""
    for server, base in (
        (langgraph_server, langgraph_server.url),
        (standalone_proxy, standalone_proxy.url),
    ):
        log_start = len(server.output())
        chat = {
            "model": "up-down-game",
            "messages": [{"role": "user", "content": "10"}],
            "stream": True,
            "tools": open_webui_tools(),
            "metadata": {"chat_id": "c", "message_id": "m", "session_id": "s"},
            "user": {"name": "User", "id": "u", "email": "u@example.com", "role": "user"},
            "context": FAST,
        }
        response, events = sse_events(base + "/v1", chat)
        assert response.status_code == 200 and events[-1] == "data: [DONE]"
        content = "".join(
            json.loads(e[6:])["choices"][0]["delta"].get("content", "")
            for e in events[:-1]
            if json.loads(e[6:])["choices"]
        )
        assert content.endswith("번 반복 실행됐습니다.")
        for task in (
            "### Task:\nGenerate a concise, 3-5 word title ...",
            "### Task:\nGenerate 1-3 broad tags ...",
        ):
            side = httpx.post(
                base + "/v1/chat/completions",
                json={
                    "model": "up-down-game",
                    "messages": [{"role": "user", "content": task}],
                    "stream": False,
                },
                timeout=30,
            )
            assert side.status_code == 400
            assert side.json()["error"]["type"] == "invalid_request_error"
        # the side requests' 400s leave no traceback (earlier tests' failed runs may have)
        assert "Traceback" not in server.output()[log_start:]
