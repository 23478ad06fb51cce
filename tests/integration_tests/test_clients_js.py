"""The official `openai` JS SDK against the proxy (LiteLLM is in `test_clients_litellm.py`).

Every test runs twice: against the proxy mounted in `langgraph dev` and the standalone one.
The line-based SSE consumer (LibreChat/Continue style) is `test_openai_proxy.py`'s
`sse_events` + `test_every_sse_chunk_matches_the_schema`; keepalive comments are in
`test_upstream_faults.py`.

The JS SDK is pinned in `tests/js/package-lock.json` and installed with `npm ci` into the
git-ignored `tests/js/node_modules` when that is missing or holds another version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.clients import ANSWER, PIECES, PROGRESS, REASONING_TOKENS, USAGE
from tests.fake_openai import ToolCall
from tests.integration_tests.conftest import model_context


@pytest.fixture(scope="module")
def node_client(node_script) -> Callable[..., list[dict[str, Any]]]:
    """Runs ``tests/js/stream.mjs <base_url> <scenario> [request]``; returns its JSON lines."""
    return node_script("stream.mjs")


def test_js_sdk_stream(proxy_url: str, node_client) -> None:
    chunks = node_client(proxy_url, "stream")
    assert {c["kind"] for c in chunks} == {"chunk"}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {"up-down-game"}
    first, *middle, finish, usage = chunks
    assert (first["role"], first["content"]) == ("assistant", "")
    pieces = [c["content"] for c in middle if c["content"]]
    # pieces that arrive together share a delta (PROXY_MERGE_DELTAS): pace 0 is one burst
    assert "".join(pieces) == ANSWER and 1 <= len(pieces) <= PIECES
    assert "".join(c["reasoning_content"] or "" for c in middle) == PROGRESS
    assert all(c["finish_reason"] is None for c in [first, *middle])
    assert finish["finish_reason"] == "stop" and finish["content"] is None
    assert usage["choices"] == 0
    assert usage["usage"] == {
        **USAGE,
        "completion_tokens_details": {"reasoning_tokens": REASONING_TOKENS},
    }
    assert all(c["usage"] is None for c in [first, *middle, finish])


def test_js_sdk_stream_helper_and_create(proxy_url: str, node_client) -> None:
    final, message = node_client(proxy_url, "final")
    usage = {**USAGE, "completion_tokens_details": {"reasoning_tokens": REASONING_TOKENS}}
    # chat.completions.stream(): the SDK's accumulator, event per content delta
    assert final["kind"] == "final"
    assert (final["content"], final["reasoning_content"]) == (ANSWER, PROGRESS)
    assert final["finish_reason"] == "stop"
    assert 1 <= final["content_events"] <= PIECES
    assert final["usage"] == usage
    # chat.completions.create() without streaming
    assert message["kind"] == "message" and message["object"] == "chat.completion"
    assert message["id"].startswith("chatcmpl-") and message["role"] == "assistant"
    assert (message["content"], message["reasoning_content"]) == (ANSWER, PROGRESS)
    assert message["finish_reason"] == "stop"
    assert message["usage"] == usage


def test_js_sdk_errors(proxy_url: str, node_client) -> None:
    errors = {e["case"]: e for e in node_client(proxy_url, "errors")}
    assert set(errors) == {"unknown-model", "unknown-model-stream", "fails-mid-stream"}
    for case in ("unknown-model", "unknown-model-stream"):
        error = errors[case]
        assert (error["name"], error["not_found"], error["status"]) == ("NotFoundError", True, 404)
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            "model_not_found",
            "model",
        )
        assert "no-such-model" in error["message"] and error["chunks"] == 0
    # the proxy's `data: {"error": ...}` event: the SDK's APIError, after the text streamed
    failed = errors["fails-mid-stream"]
    assert (failed["name"], failed["status"]) == ("APIError", None)
    assert failed["type"] == "api_error"
    assert "failed on purpose" in failed["message"]
    assert failed["content"] == "".join(f"{i} " for i in range(10))  # "0 " ... "9 ", then the error


def test_js_sdk_streams_the_tool_using_agent(proxy_url: str, node_client, fake_model) -> None:
    """A ``messages``-mode agent: tool steps as reasoning, the answer as content, once each."""
    request = {
        "model": "assistant",
        "messages": [{"role": "user", "content": "What is 6 * 7?"}],
        "context": model_context(fake_model),
    }
    fake_model.turns = [[ToolCall("calculator", '{"expression": "6 * 7"}')], ["It ", "is ", "42."]]
    chunks = node_client(proxy_url, "stream", request)
    assert "".join(c["content"] or "" for c in chunks) == "It is 42."
    assert "".join(c["reasoning_content"] or "" for c in chunks) == (
        'Calling calculator with {"expression": "6 * 7"}\nTool calculator returned: 42\n'
    )
    assert chunks[-2]["finish_reason"] == "stop"
    final, message = node_client(proxy_url, "final", request)
    for result in (final, message):
        assert result["content"] == "It is 42."
        assert result["reasoning_content"].endswith("Tool calculator returned: 42\n")
