"""The official `openai` JS SDK against the proxy (LiteLLM is in `test_clients_litellm.py`).

Every test runs twice: against the proxy mounted in `langgraph dev` and the standalone one.
The line-based SSE consumer (LibreChat/Continue style) is `test_openai_proxy.py`'s
`sse_events` + `test_every_sse_chunk_matches_the_schema`; keepalive comments are in
`test_upstream_faults.py`.

The JS SDK is pinned in `tests/js/package-lock.json` and installed with `npm ci` into the
git-ignored `tests/js/node_modules` when that is missing or holds another version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from harness.servers import ROOT
from tests.clients import ANSWER, PIECES, PROGRESS, REASONING_TOKENS, USAGE
from tests.fake_openai import ToolCall
from tests.integration_tests.conftest import model_context

JS_DIR = ROOT / "tests" / "js"


def pinned_js_sdk() -> str:
    return json.loads((JS_DIR / "package.json").read_text())["dependencies"]["openai"]


def installed_js_sdk() -> str | None:
    manifest = JS_DIR / "node_modules" / "openai" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="module")
def node_client() -> Callable[..., list[dict[str, Any]]]:
    """Runs ``tests/js/stream.mjs <base_url> <scenario>``; returns its JSON lines."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not on PATH: the openai JS SDK tests need Node.js >= 20 and npm")
    if installed_js_sdk() != pinned_js_sdk():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    assert installed_js_sdk() == pinned_js_sdk()

    def run(
        base_url: str, scenario: str, request: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        extra = [json.dumps(request)] if request is not None else []
        done = subprocess.run(
            [node, "stream.mjs", base_url, scenario, *extra],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"stream.mjs {scenario} failed:\n{done.stdout}\n{done.stderr}"
        return [json.loads(line) for line in done.stdout.splitlines()]

    return run


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
