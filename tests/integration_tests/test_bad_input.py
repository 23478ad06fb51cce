"""Bad requests get a 4xx OpenAI error envelope, never a 5xx, and the proxy keeps serving
(README, "Reliability").

Every case goes to the proxy mounted in ``langgraph dev`` and to a standalone proxy that has
client keys and an upstream key configured (and logs at debug level): afterwards both must
still serve, and neither key may appear in any log line.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from harness.servers import Server, start_proxy

CLIENT_KEY = "sk-client-7f3a9c1e5b2d4f60"
UPSTREAM_KEY = "lsv2-upstream-c0ffee5ec2e7-91b4"
WRONG_KEY = "sk-wrong-0d9e8f7a6b5c4d3e"
MAX_BODY = 4 * 1024 * 1024
"""The default ``PROXY_MAX_BODY_BYTES``."""


@dataclass
class Target:
    """A proxy under test: where it is, what a client sends, and the logs to check."""

    name: str
    base: str
    headers: dict[str, str]
    servers: list[Server] = field(default_factory=list)


@pytest.fixture(scope="module")
def keyed_proxy(
    langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = start_proxy(
        tmp_path_factory.mktemp("keyed-proxy") / "proxy.log",
        langgraph_server.url,
        env={
            "PROXY_API_KEYS": f"{CLIENT_KEY},sk-second-key-a1b2c3",
            "LANGGRAPH_API_KEY": UPSTREAM_KEY,
            "PROXY_LOG_LEVEL": "debug",
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["mounted", "standalone"])
def target(request: pytest.FixtureRequest, langgraph_server: Server) -> Target:
    if request.param == "mounted":
        return Target("mounted", langgraph_server.url + "/v1", {}, [langgraph_server])
    proxy: Server = request.getfixturevalue("keyed_proxy")
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    return Target("standalone", proxy.url + "/v1", auth, [proxy, langgraph_server])


@pytest.fixture
async def client(target: Target) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=target.base, headers=target.headers, timeout=30) as c:
        yield c


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def body(**fields: Any) -> dict[str, Any]:
    """A valid request for the bench graph, with ``fields`` replaced (``...`` removes one)."""
    base: dict[str, Any] = {"model": "bench", "messages": [user("3")]}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


JSON = {"Content-Type": "application/json"}


def req(**fields: Any) -> bytes:
    """The bytes of :func:`body`."""
    return json.dumps(body(**fields)).encode()


def bad(
    case_id: str, content: bytes, status: int = 400, param: str | None = None, **headers: str
) -> Any:
    """One bad request: its body, its headers, and the status and ``param`` it must get."""
    return pytest.param(content, headers or JSON, status, param, id=case_id)


BIG_TEXT = "3" * (MAX_BODY + 1)
MANY = b",".join([b'{"role":"user","content":"1"}'] * 120_000)
DEEP = b"[" * 5000 + b"]" * 5000
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
GAME = "up-down-game"  # its input is one integer

CASES = [
    # the body is not a JSON object
    bad("invalid-json", b'{"model": "bench", "messages": ['),
    bad("empty-body", b""),
    bad("json-array", b'[{"model": "bench"}]'),
    bad("json-string", b'"hello"'),
    bad("json-null", b"null"),
    bad("json-number", b"42"),
    bad("nan-literal", b'{"model": "bench", "n": NaN, "messages": []}'),
    bad("number-overflow", b'{"model": "bench", "n": 1e999, "messages": []}'),
    bad("deep-nesting", b'{"model": "bench", "x": ' + DEEP + b"}"),
    bad("invalid-utf8", b'{"model": "bench", "messages": [{"role": "user", "content": "\xff"}]}'),
    bad(
        "lone-surrogate",
        b'{"model": "bench", "messages": [{"role": "user", "content": "\\ud800"}]}',
    ),
    # missing or empty messages
    bad("no-messages", req(messages=...), param="messages"),
    bad("empty-messages", req(messages=[]), param="messages"),
    bad("null-messages", req(messages=None), param="messages"),
    # wrong types for every field the proxy reads
    bad("no-model", req(model=...), param="model"),
    bad("model-number", req(model=42), param="model"),
    bad("model-null", req(model=None), param="model"),
    bad("model-list", req(model=["bench"]), param="model"),
    bad("model-empty", req(model=""), param="model"),
    bad("messages-string", req(messages="3"), param="messages"),
    bad("messages-object", req(messages=user("3")), param="messages"),
    bad("message-string", req(messages=["3"]), param="messages.0"),
    bad("message-number", req(messages=[3]), param="messages.0"),
    bad("message-null", req(messages=[None]), param="messages.0"),
    bad("content-number", req(messages=[user(3)]), param="messages.0.content"),
    bad("content-object", req(messages=[user({"text": "3"})]), param="messages.0.content"),
    bad("part-not-object", req(messages=[user(["3"])]), param="messages.0.content"),
    bad("stream-string", req(stream="true"), param="stream"),
    bad("stream-number", req(stream=1), param="stream"),
    bad("stream-options-string", req(stream=True, stream_options="x"), param="stream_options"),
    bad("stream-options-list", req(stream=True, stream_options=[True]), param="stream_options"),
    bad(
        "include-usage-string",
        req(stream=True, stream_options={"include_usage": "yes"}),
        param="stream_options.include_usage",
    ),
    bad("n-string", req(n="2"), param="n"),
    bad("context-string", req(context="fast"), param="context"),
    bad("progress-mode-unknown", req(progress_mode="loud"), param="progress_mode"),
    # roles
    bad(
        "role-unknown", req(messages=[{"role": "wizard", "content": "3"}]), param="messages.0.role"
    ),
    bad("role-missing", req(messages=[{"content": "3"}]), param="messages.0.role"),
    bad("role-number", req(messages=[{"role": 1, "content": "3"}]), param="messages.0.role"),
    # content parts: non-text parts do not fit a graph that takes one field
    bad("image-part", req(messages=[user([IMAGE])]), param="messages"),
    bad(
        "audio-part", req(messages=[user([{"type": "text", "text": "3"}, AUDIO])]), param="messages"
    ),
    bad("text-part-number", req(messages=[user([{"type": "text", "text": 3}])]), param="messages"),
    # a user message that does not fit the graph's integer input
    bad("input-abc", req(model=GAME, messages=[user("abc")]), param="messages"),
    bad("input-1e309", req(model=GAME, messages=[user("1e309")]), param="messages"),
    bad(
        "input-huge", req(model=GAME, messages=[user("99999999999999999999999")]), param="messages"
    ),
    bad("input-float", req(model=GAME, messages=[user("1.5")]), param="messages"),
    bad("input-empty", req(model=GAME, messages=[user("")]), param="messages"),
    bad("input-whitespace", req(model=GAME, messages=[user(" \t\n ")]), param="messages"),
    bad("input-null-content", req(model=GAME, messages=[user(None)]), param="messages"),
    bad("input-nul-byte", req(model=GAME, messages=[user("1\u00002")]), param="messages"),
    bad("input-streaming", req(model=GAME, stream=True, messages=[user("x")]), param="messages"),
    bad("no-user-message", req(messages=[{"role": "system", "content": "3"}]), param="messages"),
    # n > 1
    bad("n-2", req(n=2), param="n"),
    bad("n-0", req(n=0), param="n"),
    bad("n-huge", req(n=10**6), param="n"),
    # unknown model
    bad("model-unknown", req(model="gpt-4o"), 404, "model"),
    # too much
    bad("body-over-limit", req(messages=[user(BIG_TEXT)]), 413),
    bad("messages-over-limit", req(messages=[user("3")] * 5000), param="messages"),
    bad("messages-absurd", b'{"model":"bench","messages":[' + MANY + b"]}", param="messages"),
    # not JSON at all
    bad("text-plain", req(), 415, **{"Content-Type": "text/plain"}),
    bad("form", b"model=bench", 415, **{"Content-Type": "application/x-www-form-urlencoded"}),
    bad(
        "multipart", b"--x\r\n\r\n--x--", 415, **{"Content-Type": "multipart/form-data; boundary=x"}
    ),
]


def assert_envelope(response: httpx.Response, status: int, param: str | None) -> dict[str, Any]:
    """A 4xx OpenAI ``ErrorResponse`` with no internals in it."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"error"}, payload
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    if param is not None:
        assert error["param"] == param, error
    for leak in ("Traceback", 'File "', "/site-packages/", "/work/", ".py"):
        assert leak not in response.text, response.text[:500]
    return error


@pytest.mark.parametrize(("content", "headers", "status", "param"), CASES)
async def test_bad_request_gets_a_4xx_envelope(
    client: httpx.AsyncClient,
    content: bytes,
    headers: dict[str, str],
    status: int,
    param: str | None,
) -> None:
    response = await client.post("/chat/completions", content=content, headers=headers)
    assert_envelope(response, status, param)


async def chunked(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    """No Content-Length to trust: the proxy counts while it reads."""
    data = req(messages=[user(BIG_TEXT)])
    response = await client.post("/chat/completions", content=chunked(data), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, None)


async def test_missing_content_type_is_read_as_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", content=req())
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "0 1 2 "


@pytest.mark.parametrize(
    "content",
    [
        [{"type": "text", "text": "3"}],
        [{"type": "text", "text": "1"}, {"type": "text", "text": "2"}],
    ],
    ids=["one-part", "parts-joined"],
)
async def test_text_parts_work(client: httpx.AsyncClient, content: list[dict[str, str]]) -> None:
    text = "".join(part["text"] for part in content)
    response = await client.post("/chat/completions", json=body(messages=[user(content)]))
    assert response.status_code == 200, response.text
    expected = "".join(f"{i} " for i in range(int(text)))
    assert response.json()["choices"][0]["message"]["content"] == expected


async def test_accepted_and_ignored_fields(client: httpx.AsyncClient) -> None:
    """What OpenAI clients send besides: roles the proxy does not use, n=1, unknown fields."""
    response = await client.post(
        "/chat/completions",
        json=body(
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "developer", "content": "x"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "content": "t", "tool_call_id": "1"},
                user("2"),
            ],
            n=1,
            temperature=0.3,
            tools=[],
            user="u-1",
            metadata={"a": "b"},
            stream=False,
            stream_options=None,
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "0 1 "


async def test_still_serving_and_no_key_in_any_log(target: Target) -> None:
    """After every bad request above (this runs last for each target): healthy, and no secret
    in the logs of the proxy or the LangGraph server."""
    async with httpx.AsyncClient(base_url=target.base, headers=target.headers, timeout=30) as c:
        wrong = await c.post(
            "/chat/completions", json=body(), headers={"Authorization": f"Bearer {WRONG_KEY}"}
        )
        if target.name == "standalone":
            assert_envelope(wrong, 401, None)
            assert wrong.headers["www-authenticate"].startswith("Bearer")
        streamed = await c.post("/chat/completions", json=body(stream=True))
        assert streamed.status_code == 200
        assert streamed.text.endswith("data: [DONE]\n\n")
        assert (await c.get("/models")).status_code == 200
    for server in target.servers:
        assert server.process.poll() is None, f"{server.url} exited"
        log = server.output()
        for secret in (CLIENT_KEY, UPSTREAM_KEY, WRONG_KEY):
            assert secret not in log, f"a key leaked into {server.log}"
    if target.name == "standalone":
        log = target.servers[0].output()
        assert '" 5' not in log and "Traceback" not in log, "the proxy logged a server error"


def test_cases_are_distinct() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 60
