"""What the proxy protects (README, "Security"): client keys, the upstream key, its internals,
cross-origin access and its memory.

All in process over ASGI: a fake LangGraph client, or the real HTTP client with a mock
transport where what goes over the wire matters.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from langgraph_sdk.schema import StreamPart

import proxy.upstream.client
import proxy.web.auth
from proxy.app import create_app
from proxy.settings import Settings
from proxy.upstream import Upstream
from tests.fakes import FakeClient, assistant

KEYS = ["sk-first-1111aaaa", "sk-second-2222bbbb", "sk-third-3333cccc"]
UPSTREAM_KEY = "lsv2_sk_upstream_9f8e7d6c5b4a"
INTERNALS = ("Traceback", 'File "', ".py", "/work/", "/site-packages/", "/srv/")
GAME = {"model": "up-down-game", "messages": [{"role": "user", "content": "5"}]}


def client_for(
    fake: FakeClient | None = None, *, raise_errors: bool = True, **settings: Any
) -> httpx.AsyncClient:
    config = Settings(langgraph_url="http://fake", **settings)
    upstream = Upstream(config, client=fake or FakeClient())  # type: ignore[arg-type]
    app = create_app(config, upstream)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_errors)
    return httpx.AsyncClient(transport=transport, base_url="http://proxy")


def assert_no_internals(text: str) -> None:
    for leak in INTERNALS:
        assert leak not in text, f"{leak!r} in {text[:400]!r}"


# --- client API keys ----------------------------------------------------------------------


async def test_every_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """``hmac.compare_digest`` against every configured key, whether one matched or not."""
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(proxy.web.auth.hmac, "compare_digest", compare_digest)
    sent = {"first": KEYS[0], "last": KEYS[2], "wrong": "sk-nope", "empty": ""}
    async with client_for(api_keys=KEYS) as client:
        for name, key in sent.items():
            compared.clear()
            response = await client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == (200 if name in ("first", "last") else 401)
            assert sorted(b for _, b in compared) == sorted(k.encode() for k in KEYS), name
            assert all(a == key.encode() for a, _ in compared)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer sk-nope",
        f"Bearer {KEYS[0]}x",
        f"Bearer {KEYS[0][:-1]}",
        f"Basic {KEYS[0]}",
        KEYS[0],
        f"Token {KEYS[0]}",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/models"), ("GET", "/v1/models/up-down-game"), ("POST", "/v1/chat/completions")],
)
async def test_missing_or_wrong_key_is_a_401_envelope(
    authorization: str | None, method: str, path: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    fake = FakeClient()
    async with client_for(fake, api_keys=KEYS) as client:
        response = await client.request(method, path, headers=headers, json=GAME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_api_key"
    assert KEYS[0] not in response.text
    assert not fake.runs_started, "a run started without a valid key"


@pytest.mark.parametrize("authorization", [f"Bearer {KEYS[1]}", f"bearer {KEYS[1]}"])
async def test_a_valid_key_is_accepted(authorization: str) -> None:
    async with client_for(FakeClient([("custom", "ok")]), api_keys=KEYS) as client:
        response = await client.post(
            "/v1/chat/completions", json=GAME, headers={"Authorization": authorization}
        )
    assert response.status_code == 200, response.text


async def test_probes_need_no_key() -> None:
    async with client_for(api_keys=KEYS) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200


# --- the upstream key ---------------------------------------------------------------------


SCHEMA = {"type": "object", "properties": {"input": {"type": "integer"}}, "required": ["input"]}


def sse(*events: tuple[str, Any]) -> bytes:
    return b"".join(
        b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
        for event, data in events
    )


class LangGraphDouble:
    """The LangGraph HTTP API as a mock transport; ``runs`` says how runs behave."""

    def __init__(self) -> None:
        self.runs = "ok"
        self.keys_seen: set[str | None] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.keys_seen.add(request.headers.get("x-api-key"))
        echo = {"detail": "internal error", "headers": dict(request.headers)}  # a careless server
        path = request.url.path
        if path == "/assistants/search":
            return httpx.Response(200, json=[assistant("up-down-game", 1)])
        if path.endswith("/schemas"):
            return httpx.Response(200, json={"input_schema": SCHEMA})
        if path == "/ok":
            return httpx.Response(500, json=echo)
        assert path == "/runs/stream", path
        if self.runs == "ok":
            events = sse(("metadata", {"run_id": "r1"}), ("custom", "fine"))
            return httpx.Response(
                200, content=events, headers={"content-type": "text/event-stream"}
            )
        if self.runs == "run-error":
            events = sse(("metadata", {"run_id": "r1"}), ("error", {"error": "E", "message": "m"}))
            return httpx.Response(
                200, content=events, headers={"content-type": "text/event-stream"}
            )
        if self.runs == "refused":
            raise httpx.ConnectError(f"refused, headers were {dict(request.headers)}")
        return httpx.Response(int(self.runs), json=echo)


@pytest.mark.parametrize("runs", ["ok", "run-error", "refused", "500", "401", "403", "429", "503"])
async def test_upstream_key_is_sent_but_never_logged_or_returned(
    runs: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    double = LangGraphDouble()
    double.runs = runs
    monkeypatch.setattr(
        proxy.upstream.client.httpx, "AsyncHTTPTransport", lambda **_: httpx.MockTransport(double)
    )
    config = Settings(
        langgraph_url="http://langgraph.test",
        langgraph_api_key=UPSTREAM_KEY,
        upstream_transport="httpx",  # the headers are httpx.AsyncClient's under either transport
    )
    app = create_app(config, Upstream(config))
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://proxy"
    ) as client:
        answers = [
            await client.post("/v1/chat/completions", json=GAME),
            await client.post("/v1/chat/completions", json={**GAME, "stream": True}),
            await client.get("/readyz"),
            await client.get("/v1/models"),
        ]
    assert double.keys_seen == {UPSTREAM_KEY}, "the upstream key was not sent"
    for response in answers:
        assert response.status_code < 500 or response.status_code in (502, 503, 504)
        assert UPSTREAM_KEY not in response.text
        assert UPSTREAM_KEY not in str(response.headers)
        assert_no_internals(response.text)
    assert UPSTREAM_KEY not in caplog.text
    assert UPSTREAM_KEY not in repr(config) and UPSTREAM_KEY not in config.model_dump_json()


# --- no internals in errors ---------------------------------------------------------------


async def test_an_unexpected_upstream_failure_shows_no_trace_or_path() -> None:
    fake = FakeClient()

    async def broken(**_: Any) -> list[dict[str, Any]]:
        raise RuntimeError(f"boom in {__file__}")

    fake.assistants.search = broken  # type: ignore[method-assign]
    async with client_for(fake) as client:
        response = await client.post("/v1/chat/completions", json=GAME)
    assert response.status_code == 502
    assert_no_internals(response.text)
    assert "boom" not in response.text


async def test_a_bug_is_a_500_envelope_without_trace_or_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception nobody translated (here: a schema the proxy cannot read)."""
    fake = FakeClient()
    fake.schemas["up-down-game"] = {"type": "object", "properties": {"input": {"anyOf": [1]}}}
    async with client_for(fake, raise_errors=False) as client:
        response = await client.post("/v1/chat/completions", json=GAME)
        assert (await client.get("/healthz")).status_code == 200
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": "The proxy failed to handle the request.",
            "type": "server_error",
            "param": None,
            "code": "internal_error",
        }
    }
    assert_no_internals(response.text)
    assert "AttributeError" not in response.text
    # the details are in the server's log, for the operator
    assert any(r.exc_info and r.exc_info[0] is AttributeError for r in caplog.records)


@pytest.mark.parametrize("stream", [True, False])
async def test_a_failing_run_stream_shows_no_trace_or_path(stream: bool) -> None:
    async def script(_: dict[str, Any]) -> AsyncIterator[StreamPart]:
        yield StreamPart("metadata", {"run_id": "r1"})
        yield StreamPart("custom", "partial ")
        raise OSError(2, "No such file or directory", "/srv/app/secret/config.py")

    async with client_for(FakeClient(script=script)) as client:
        response = await client.post("/v1/chat/completions", json={**GAME, "stream": stream})
    assert_no_internals(response.text)
    assert "secret" not in response.text
    if stream:
        assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
        assert '"error"' in response.text
    else:
        assert response.status_code in (502, 503)


# --- CORS ---------------------------------------------------------------------------------

PREFLIGHT = {
    "Origin": "https://evil.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_cors_is_off_by_default() -> None:
    async with client_for() as client:
        preflight = await client.options("/v1/chat/completions", headers=PREFLIGHT)
        simple = await client.get("/v1/models", headers={"Origin": "https://evil.example"})
    for response in (preflight, simple):
        assert not any(h.startswith("access-control-") for h in response.headers), response.headers


async def test_cors_allows_only_the_configured_origins() -> None:
    allowed = "https://chat.example"
    async with client_for(cors_origins=[allowed]) as client:
        ok = await client.options("/v1/chat/completions", headers={**PREFLIGHT, "Origin": allowed})
        evil = await client.options("/v1/chat/completions", headers=PREFLIGHT)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-origin" not in evil.headers


# --- the request body limit ---------------------------------------------------------------


def test_body_limit_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROXY_MAX_BODY_BYTES", raising=False)
    assert Settings().max_body_bytes == 4 * 1024 * 1024


async def pieces(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_body_over_the_default_limit_is_413(declared: bool) -> None:
    limit = Settings().max_body_bytes
    fake = FakeClient()
    big = orjson.dumps({**GAME, "padding": "x" * limit})
    async with client_for(fake) as client:
        content: bytes | AsyncIterator[bytes] = big if declared else pieces(big)
        response = await client.post("/v1/chat/completions", content=content)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not fake.runs_started
