"""The proxy app end to end over ASGI, with a fake SDK client (no server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import InternalServerError
from langgraph_sdk.schema import StreamPart

from proxy.app import create_app
from proxy.settings import Settings
from proxy.upstream import Upstream
from tests.fakes import FakeClient

pytestmark = pytest.mark.asyncio


def make(fake: FakeClient, **settings: Any) -> httpx.AsyncClient:
    config = Settings(langgraph_url="http://fake", **settings)
    app = create_app(config, Upstream(config, client=fake))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy")


def body(content: str = "5", model: str = "up-down-game", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def events(raw: str) -> list[Any]:
    out = []
    for block in raw.split("\n\n"):
        if block.startswith("data: "):
            data = block[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


EVERY_KIND = [
    ("custom", {"type": "progress", "text": "p1\n"}),
    ("custom", "plain "),
    ("custom|sub:1", {"type": "answer", "text": "from-subgraph "}),
    ("custom", [{"role": "assistant", "content": "tok"}, {"langgraph_node": "llm"}]),
    ("custom", {"unknown": True}),
    ("values", {"ignored": "other modes"}),
    ("custom", {"type": "usage", "prompt_tokens": 7, "completion_tokens": 3}),
]


ONE_DELTA_EACH = [
    {"reasoning_content": "p1\n"},
    {"content": "plain "},
    {"content": "from-subgraph "},
    {"content": "tok"},
]
MERGED = [{"reasoning_content": "p1\n"}, {"content": "plain from-subgraph tok"}]


@pytest.mark.parametrize(("merge", "expected"), [(False, ONE_DELTA_EACH), (True, MERGED)])
async def test_stream_translates_every_chunk_kind(
    openai_schemas, merge: bool, expected: list[dict[str, str]]
) -> None:
    """The fake's events arrive together: merged per kind, or one delta per chunk."""
    fake = FakeClient(EVERY_KIND)
    async with make(fake, merge_deltas=merge) as client:
        response = await client.post(
            "/v1/chat/completions", json=body(stream=True, stream_options={"include_usage": True})
        )
    assert response.status_code == 200
    chunks = events(response.text)
    assert chunks[-1] == "[DONE]"
    for chunk in chunks[:-1]:
        openai_schemas.check("CreateChatCompletionStreamResponse", chunk)
    deltas = [c["choices"][0]["delta"] for c in chunks[:-2]]
    assert deltas == [{"role": "assistant", "content": ""}, *expected, {}]
    assert chunks[-2]["usage"] == {
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "total_tokens": 10,
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    (run,) = fake.runs_started
    assert run["input"] == {"input": 5}
    assert (
        run["stream_mode"] == ["custom", "messages-tuple", "updates"]
        and run["stream_subgraphs"] is True
    )
    assert run["on_disconnect"] == "cancel"
    assert fake.closed_streams == 1


async def test_non_streaming_aggregates_the_same_chunks(openai_schemas) -> None:
    fake = FakeClient(EVERY_KIND)
    async with make(fake) as client:
        response = await client.post("/v1/chat/completions", json=body())
    data = response.json()
    openai_schemas.check("CreateChatCompletionResponse", data)
    message = data["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "plain from-subgraph tok",
        "refusal": None,
        "reasoning_content": "p1\n",
    }
    assert data["usage"]["total_tokens"] == 10


async def test_estimated_usage_without_a_report() -> None:
    fake = FakeClient(
        [("custom", {"type": "progress", "text": "a"}), ("custom", "b"), ("custom", "c")]
    )
    async with make(fake) as client:
        data = (await client.post("/v1/chat/completions", json=body("12345678"))).json()
    assert data["usage"] == {
        "prompt_tokens": 2,
        "completion_tokens": 3,
        "total_tokens": 5,
        "completion_tokens_details": {"reasoning_tokens": 1},
    }


async def test_merged_stream_estimates_usage_per_graph_chunk() -> None:
    """Merging changes the number of deltas, not the estimate: one token per graph chunk."""
    progress = ("custom", {"type": "progress", "text": "a"})
    fake = FakeClient([progress, ("custom", "b"), ("custom", "c"), ("custom", "d")])
    request = body("12345678", stream=True, stream_options={"include_usage": True})
    async with make(fake) as client:
        chunks = events((await client.post("/v1/chat/completions", json=request)).text)
    deltas = [c["choices"][0]["delta"] for c in chunks[1:-3]]
    assert deltas == [{"reasoning_content": "a"}, {"content": "bcd"}]
    assert chunks[-2]["usage"] == {
        "prompt_tokens": 2,
        "completion_tokens": 4,
        "total_tokens": 6,
        "completion_tokens_details": {"reasoning_tokens": 1},
    }


@pytest.mark.parametrize(("mode", "delta"), [("content", {"content": "p"}), ("drop", None)])
async def test_server_wide_progress_mode(mode: str, delta: Any) -> None:
    fake = FakeClient([("custom", {"type": "progress", "text": "p"}), ("custom", "a")])
    async with make(fake, progress_mode=mode) as client:
        chunks = events((await client.post("/v1/chat/completions", json=body(stream=True))).text)
    deltas = [c["choices"][0]["delta"] for c in chunks[1:-2]]
    assert deltas == ([delta] if delta else []) + [{"content": "a"}]


async def test_run_error_mid_stream_becomes_an_error_event(openai_schemas) -> None:
    fake = FakeClient(
        [("custom", "partial"), ("error", {"error": "ValueError", "message": "bad thing"})]
    )
    async with make(fake) as client:
        chunks = events((await client.post("/v1/chat/completions", json=body(stream=True))).text)
        assert chunks[-1] == "[DONE]"
        openai_schemas.check("ErrorResponse", chunks[-2])
        assert chunks[-2]["error"]["message"] == "bad thing"
        assert chunks[-2]["error"]["code"] == "ValueError"
        response = await client.post("/v1/chat/completions", json=body())
    assert response.status_code == 502
    assert response.json()["error"]["message"] == "bad thing"
    # the graph ran and failed: the openai SDKs must not run it twice more on their own
    assert response.headers["x-should-retry"] == "false"


async def test_a_run_timeout_is_not_retried_but_an_unreachable_server_is() -> None:
    async def silent(_: dict[str, Any]):
        yield StreamPart("metadata", {"run_id": "r"})
        await asyncio.sleep(30)

    async with make(FakeClient(script=silent), run_timeout=0.2) as client:
        response = await client.post("/v1/chat/completions", json=body())
    assert response.status_code == 504
    assert response.headers["x-should-retry"] == "false"

    async def refused(_: dict[str, Any]):
        raise httpx.ConnectError("refused")
        yield  # pragma: no cover

    async with make(FakeClient(script=refused)) as client:
        response = await client.post("/v1/chat/completions", json=body())
    assert response.status_code == 503
    assert "x-should-retry" not in response.headers


async def test_the_run_id_comes_from_run_creation_before_the_first_event() -> None:
    """The SDK's ``on_run_created`` (response headers) names the run; the stream follows."""

    async def script(kwargs: dict[str, Any]):
        kwargs["on_run_created"]({"run_id": "created-early", "thread_id": None})
        yield StreamPart("metadata", {"run_id": "created-early"})
        yield StreamPart("custom", "a")

    async with make(FakeClient(script=script)) as client:
        for stream in (True, False):
            response = await client.post("/v1/chat/completions", json=body(stream=stream))
            assert response.status_code == 200
            assert response.headers["x-langgraph-run-id"] == "created-early"


async def test_a_stream_that_ends_before_any_event_is_a_502() -> None:
    async def empty(_: dict[str, Any]):
        return
        yield  # pragma: no cover

    async with make(FakeClient(script=empty)) as client:
        for stream in (True, False):
            response = await client.post("/v1/chat/completions", json=body(stream=stream))
            assert response.status_code == 502


async def test_odd_content_parts_never_give_a_500() -> None:
    parts = [{"type": "text", "text": 5}, {"type": "text"}, {"type": "text", "text": "3"}]
    fake = FakeClient([("custom", "ok")])
    async with make(fake) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": parts}]},
        )
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == 1


async def test_unknown_v1_paths_get_an_openai_404() -> None:
    async with make(FakeClient()) as client:
        for method, path in [("GET", "/v1/nothing"), ("GET", "/v1/chat/completions")]:
            response = await client.request(method, path)
            assert response.status_code == 404
            assert response.json()["error"]["message"] == f"Invalid URL ({method} {path})"


async def test_a_wrong_langgraph_url_is_not_a_missing_model() -> None:
    fake = FakeClient()
    fake.fail = httpx.HTTPStatusError(
        "not found",
        request=httpx.Request("POST", "http://x/assistants/search"),
        response=httpx.Response(404, request=httpx.Request("POST", "http://x")),
    )
    async with make(fake) as client:
        response = await client.get("/v1/models")
    assert response.status_code == 502
    assert "LANGGRAPH_URL" in response.json()["error"]["message"]


async def test_cors_lets_browser_sdks_through_when_configured() -> None:
    async with make(FakeClient(), cors_origins=["https://app.example"]) as client:
        response = await client.options(
            "/v1/chat/completions",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-stainless-os",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        streamed = await client.post(
            "/v1/chat/completions", json=body(), headers={"Origin": "https://app.example"}
        )
        assert "x-langgraph-run-id" in streamed.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (httpx.ConnectError("refused"), 503),
        (httpx.ConnectTimeout("slow"), 503),
        (httpx.ReadTimeout("slow"), 504),
        (
            InternalServerError(
                "boom",
                response=httpx.Response(500, request=httpx.Request("POST", "http://x")),
                body=None,
            ),
            502,
        ),
    ],
)
async def test_failures_before_the_stream_are_envelopes(
    failure: BaseException, status: int, openai_schemas
) -> None:
    async def script(_: dict[str, Any]):
        raise failure
        yield  # pragma: no cover

    fake = FakeClient(script=script)
    async with make(fake) as client:
        for stream in (False, True):
            response = await client.post("/v1/chat/completions", json=body(stream=stream))
            assert response.status_code == status
            openai_schemas.check("ErrorResponse", response.json())
            assert (
                "Traceback" not in response.text
                and "/" not in response.json()["error"]["message"][:1]
            )


async def test_models_unreachable_is_503_and_readyz_not_ready() -> None:
    fake = FakeClient()
    fake.fail = httpx.ConnectError("refused")
    async with make(fake) as client:
        assert (await client.get("/v1/models")).status_code == 503
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "upstream_unavailable"
        assert (await client.get("/healthz")).status_code == 200
        fake.fail = None
        assert (await client.get("/readyz")).status_code == 200
        await asyncio.sleep(0)
        assert (await client.get("/v1/models")).status_code == 200


async def test_models_are_cached_and_unknown_names_refresh() -> None:
    fake = FakeClient()
    async with make(fake, models_cache_ttl=60) as client:
        ids = [m["id"] for m in (await client.get("/v1/models")).json()["data"]]
        assert ids == ["up-down-game", "chat"]
        await client.get("/v1/models")
        assert fake.calls.count("search") == 1
        fake.assistants_list.append(
            {
                **fake.assistants_list[0],
                "assistant_id": "00000000-0000-0000-0000-000000000009",
                "name": "new-graph",
                "graph_id": "new-graph",
            }
        )
        # an unknown name triggers one refresh (rate-limited), so new deployments appear
        await asyncio.sleep(1.05)
        found = await client.get("/v1/models/new-graph")
        assert found.status_code == 200 and found.json()["id"] == "new-graph"
        missing = await client.get("/v1/models/none")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


async def test_auth_is_a_bearer_key_on_v1_only() -> None:
    fake = FakeClient([("custom", "ok")])
    async with make(fake, api_keys="k1,k2") as client:
        for headers in (
            {},
            {"Authorization": "Bearer nope"},
            {"Authorization": "Basic k1"},
            {"Authorization": "Bearer "},
        ):
            response = await client.post("/v1/chat/completions", json=body(), headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "invalid_api_key"
        assert (await client.get("/v1/models")).status_code == 401
        ok = await client.post(
            "/v1/chat/completions", json=body(), headers={"Authorization": "Bearer k2"}
        )
        assert ok.status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_schema_lookups_are_cached_and_messages_graphs_get_messages() -> None:
    fake = FakeClient([("custom", "x")])
    async with make(fake) as client:
        for _ in range(3):
            await client.post("/v1/chat/completions", json=body("hello", model="chat"))
    assert len([c for c in fake.calls if c.startswith("schemas:")]) == 1
    assert fake.runs_started[0]["input"] == {"messages": [{"role": "user", "content": "hello"}]}


async def test_concurrent_requests_share_one_schema_fetch() -> None:
    fake = FakeClient([("custom", "x")])
    real = fake.assistants.get_schemas

    async def slow(assistant_id: str) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return await real(assistant_id)

    fake.assistants.get_schemas = slow  # type: ignore[method-assign]
    async with make(fake) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/chat/completions", json=body("3")) for _ in range(5))
        )
    assert [a.status_code for a in answers] == [200] * 5
    assert len([c for c in fake.calls if c.startswith("schemas:")]) == 1


async def test_context_is_passed_to_the_run() -> None:
    fake = FakeClient([("custom", "x")])
    async with make(fake) as client:
        await client.post("/v1/chat/completions", json=body(context={"locale": "en"}))
    assert fake.runs_started[0]["context"] == {"locale": "en"}


async def test_run_timeout_ends_the_stream_with_an_error_and_closes_the_run() -> None:
    async def script(_: dict[str, Any]):
        try:
            yield StreamPart("metadata", {"run_id": "r"})
            yield StreamPart("custom", "first")
            await asyncio.sleep(30)
        finally:
            fake.closed_streams += 1

    fake = FakeClient(script=script)
    async with make(fake, run_timeout=0.3) as client:
        chunks = events((await client.post("/v1/chat/completions", json=body(stream=True))).text)
        assert chunks[1]["choices"][0]["delta"] == {"content": "first"}
        assert chunks[-2]["error"]["code"] == "upstream_timeout" and chunks[-1] == "[DONE]"
        response = await client.post("/v1/chat/completions", json=body())
        assert response.status_code == 504
    assert fake.closed_streams == 2


async def test_unknown_v1_paths_get_the_envelope_and_never_shadow_a_later_router() -> None:
    from fastapi import APIRouter

    fake = FakeClient([("custom", "x")])
    config = Settings(langgraph_url="http://fake")
    app = create_app(config, Upstream(config, client=fake))  # type: ignore[arg-type]
    extra = APIRouter(prefix="/v1")

    @extra.get("/extra")
    async def extra_route() -> dict[str, str]:
        return {"reached": "yes"}

    app.include_router(extra)  # after the app (and its /v1 fallback) was built
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        assert (await client.get("/v1/extra")).json() == {"reached": "yes"}
        unknown = await client.get("/v1/nowhere")
        wrong_method = await client.get("/v1/chat/completions")
        models = await client.get("/v1/models")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "message": "Invalid URL (GET /v1/nowhere)",
        "type": "invalid_request_error",
        "param": None,
        "code": "unknown_url",
    }
    assert wrong_method.status_code == 404
    assert wrong_method.json()["error"]["code"] == "unknown_url"
    assert models.status_code == 200


def restarted_run(first: list[tuple[str, Any]], second: list[tuple[str, Any]]):
    """A run the platform ran twice: a second ``metadata`` event names attempt 2."""

    async def script(_: dict[str, Any]):
        yield StreamPart("metadata", {"run_id": "r", "attempt": 1})
        for event, data in first:
            yield StreamPart(event, data)
        yield StreamPart("metadata", {"run_id": "r", "attempt": 2})
        for event, data in second:
            yield StreamPart(event, data)

    return FakeClient(script=script)


ATTEMPT_1 = [("custom", {"type": "progress", "text": "step\n"}), ("custom", "0 "), ("custom", "1 ")]
ATTEMPT_2 = [
    ("custom", {"type": "progress", "text": "step\n"}),
    ("custom", "0 "),
    ("custom", "1 "),
    ("custom", "2 "),
    ("custom", {"type": "usage", "prompt_tokens": 5, "completion_tokens": 3}),
]


async def test_a_restarted_run_streams_a_marker_then_the_new_attempt(openai_schemas) -> None:
    fake = restarted_run(ATTEMPT_1, ATTEMPT_2)
    async with make(fake, merge_deltas=False) as client:
        response = await client.post(
            "/v1/chat/completions", json=body(stream=True, stream_options={"include_usage": True})
        )
    chunks = events(response.text)
    for chunk in chunks[:-1]:
        openai_schemas.check("CreateChatCompletionStreamResponse", chunk)
    content = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in chunks
        if c != "[DONE]" and c["choices"]
    )
    said, note, again = content.split("\n\n")
    assert said == "0 1 " and again == "0 1 2 "
    assert note.startswith("[The LangGraph server restarted this run (attempt 2)")
    assert chunks[-2]["usage"]["completion_tokens"] == 3  # the finishing attempt's report


async def test_a_restart_before_any_answer_is_a_thinking_line() -> None:
    fake = restarted_run([("custom", {"type": "progress", "text": "step\n"})], ATTEMPT_2)
    async with make(fake) as client:
        response = await client.post("/v1/chat/completions", json=body(stream=True))
    deltas = [c["choices"][0]["delta"] for c in events(response.text)[:-1] if c["choices"]]
    content = "".join(d.get("content") or "" for d in deltas)
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    assert content == "0 1 2 "
    assert "restarted this run (attempt 2)" in reasoning


async def test_not_streamed_a_restarted_run_answers_with_the_last_attempt_only() -> None:
    fake = restarted_run(ATTEMPT_1, ATTEMPT_2)
    async with make(fake) as client:
        data = (await client.post("/v1/chat/completions", json=body())).json()
    message = data["choices"][0]["message"]
    assert message["content"] == "0 1 2 "
    assert message["reasoning_content"] == "step\n"
    assert data["usage"]["completion_tokens"] == 3
