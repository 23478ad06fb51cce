"""LiteLLM (Python) against the proxy, from its own venv (the JS SDK is `test_clients_js.py`).

Every test runs twice: against the proxy mounted in `langgraph dev` and the standalone one.

LiteLLM pins `openai<3` and the project needs openai 3.x, so LiteLLM is not a dependency of the
project: it lives in the git-ignored venv `.tools/litellm-venv`, installed from the pins in
`tests/clients/litellm-requirements.txt` (how to regenerate them: its header), made when it is
missing or was installed from other pins (a hash stamp in the venv). There,
`tests/clients/litellm_probe.py` sets LiteLLM's offline switches and a guard that refuses (and
records) every DNS lookup and connection that is not for loopback, imports LiteLLM, runs every
scenario against one base URL (importing LiteLLM takes seconds) and prints what LiteLLM handed
to the caller as JSON: the assertions are here.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from harness.servers import ROOT
from harness.venvs import PinnedVenv
from tests.clients import ANSWER, PIECES, PROGRESS, REASONING_TOKENS, USAGE

CLIENTS = ROOT / "tests" / "clients"
REQUIREMENTS = CLIENTS / "litellm-requirements.txt"
PROBE = CLIENTS / "litellm_probe.py"
# bytecode compiled once at install, not at every probe's import of LiteLLM
INSTALL_TIMEOUT = 600
VENV = PinnedVenv("litellm-venv", REQUIREMENTS, ("--compile-bytecode",), INSTALL_TIMEOUT)
PROBE_TIMEOUT = 180

# the switches the probe sets before importing LiteLLM: no cost map (nor Anthropic beta headers)
# from GitHub, no ./.env
LITELLM_OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_MODE": "PRODUCTION",
}

# the first test may install the venv (download + bytecode) before its probe runs
pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + 2 * PROBE_TIMEOUT)


# -- the venv and the probe ----------------------------------------------------------------------


class LiteLLMProbe:
    """``litellm_probe.py <base_url> all`` in LiteLLM's venv, once per base URL, as JSON."""

    def __init__(self) -> None:
        self.venv_failure, _ = VENV.ensure()
        self.results: dict[str, dict[str, Any] | str] = {}
        self.running: dict[str, subprocess.Popen[str]] = {}

    def start(self, base_url: str) -> None:
        """Starts the probe for ``base_url`` (several run at once: importing LiteLLM is slow)."""
        known = base_url in self.running or base_url in self.results
        if self.venv_failure is None and not known:
            self.running[base_url] = subprocess.Popen(
                [str(VENV.python), str(PROBE), base_url, "all"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

    def finish(self, base_url: str) -> dict[str, Any] | str:
        """The probe's JSON, or what went wrong."""
        self.start(base_url)
        process = self.running.pop(base_url)
        try:
            stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            return f"litellm_probe.py timed out after {PROBE_TIMEOUT}s:\n{stdout}\n{stderr}"
        if process.returncode != 0:
            return f"litellm_probe.py failed ({process.returncode}):\n{stdout}\n{stderr}"
        try:
            return json.loads(stdout)
        except json.JSONDecodeError:
            return f"litellm_probe.py printed no JSON:\n{stdout}\n{stderr}"

    def close(self) -> None:
        for process in self.running.values():
            process.kill()
            process.communicate()

    def __call__(self, base_url: str, scenario: str) -> dict[str, Any]:
        """One scenario's result; the test fails with the installer's or the probe's output."""
        if self.venv_failure is not None:
            pytest.fail(self.venv_failure[-20_000:], pytrace=False)
        if base_url not in self.results:
            self.results[base_url] = self.finish(base_url)
        results = self.results[base_url]
        if isinstance(results, str):
            pytest.fail(results[-20_000:], pytrace=False)
        result = results[scenario]
        if "crashed" in result:
            pytest.fail(f"litellm_probe.py {scenario} crashed:\n{result['crashed']}", pytrace=False)
        return result


@pytest.fixture(scope="session")
def litellm_probe(request: pytest.FixtureRequest) -> Iterator[LiteLLMProbe]:
    """Makes `.tools/litellm-venv` if it is missing or stale, and runs the probe in it.

    A failed install is not an error of this fixture: the tests fail with the installer's output
    (PyPI is reachable on CI machines, no skipping). The probes for the proxies the selected
    tests use (conftest's `proxy_url`) start at once, side by side.
    """
    probe = LiteLLMProbe()
    selected = {
        item.callspec.params.get("proxy_url")
        for item in request.session.items
        if "litellm_probe" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")
    }
    if probe.venv_failure is None:
        if "mounted" in selected:
            probe.start(request.getfixturevalue("langgraph_server").url + "/v1")
        if "standalone" in selected:
            probe.start(request.getfixturevalue("standalone_proxy").url + "/v1")
    yield probe
    probe.close()


# -- what LiteLLM exposed ------------------------------------------------------------------------


def check_usage(usage: dict[str, Any] | None) -> None:
    assert usage is not None
    assert {key: usage[key] for key in USAGE} == USAGE
    assert usage["reasoning_tokens"] == REASONING_TOKENS


def check_stream(result: dict[str, Any]) -> None:
    """What LiteLLM makes of the proxy's stream: the deltas as sent, usage last."""
    chunks = result["chunks"]
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    choices = [chunk["choice"] for chunk in chunks if chunk["choice"]]
    assert choices[0]["role"] == "assistant"
    pieces = [c["content"] for c in choices if c["content"]]
    # pieces that arrive together share a delta (PROXY_MERGE_DELTAS): pace 0 is one burst
    assert "".join(pieces) == ANSWER and 1 <= len(pieces) <= PIECES
    assert "".join(c["reasoning_content"] or "" for c in choices) == PROGRESS
    assert [c["finish_reason"] for c in choices if c["finish_reason"]] == ["stop"]
    # LiteLLM re-shapes the proxy's `"choices": []` usage chunk with an empty choice, last
    usages = [chunk["usage"] for chunk in chunks if chunk["usage"]]
    assert len(usages) == 1 and result["usage_is_last_chunks"]
    check_usage(usages[0])
    # and builds the whole response back from the chunks (stream_chunk_builder), reasoning too
    built = result["built"]
    assert built["content"] == ANSWER
    assert built["reasoning_content"] == PROGRESS
    assert built["finish_reason"] == "stop"
    check_usage(built["usage"])
    assert result["guard_attempts"] == []


def test_litellm_stays_offline(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    """Importing LiteLLM asked nothing of the internet, and the guard would have seen it."""
    result = litellm_probe(proxy_url, "offline")
    assert result["import_attempts"] == []
    assert result["env"] == LITELLM_OFFLINE
    assert result["model_cost_entries"] > 0  # the cost map bundled with the package
    refused = result["refused"]
    assert set(refused) == {"raw.githubusercontent.com", "192.0.2.1", "connect"}
    assert all(error and "no internet" in error for error in refused.values()), refused
    assert result["refused_attempts"] == [
        ["dns", "raw.githubusercontent.com"],
        ["dns", "192.0.2.1"],
        ["connect", ["192.0.2.1", 443]],
    ]
    assert result["guard_attempts"] == []


def test_litellm_completion(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    reply = litellm_probe(proxy_url, "completion")
    assert reply["object"] == "chat.completion" and reply["id"].startswith("chatcmpl-")
    assert reply["model"] == "up-down-game"
    assert reply["finish_reason"] == "stop"
    assert reply["role"] == "assistant"
    assert reply["content"] == ANSWER
    assert reply["reasoning_content"] == PROGRESS
    check_usage(reply["usage"])
    assert reply["guard_attempts"] == []


def test_litellm_stream(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    check_stream(litellm_probe(proxy_url, "stream"))


def test_litellm_async_stream(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    """`acompletion` goes through LiteLLM's async HTTP stack (its aiohttp transport)."""
    check_stream(litellm_probe(proxy_url, "async_stream"))


@pytest.mark.parametrize("stream", [False, True])
def test_litellm_errors(proxy_url: str, litellm_probe: LiteLLMProbe, stream: bool) -> None:
    """`completion` itself raises LiteLLM's NotFoundError / BadRequestError, streaming or not."""
    errors = litellm_probe(proxy_url, "errors_stream" if stream else "errors")
    unknown = errors["unknown_model"]
    assert unknown is not None, "no error raised for an unknown model"
    assert unknown["class"] == "NotFoundError" and unknown["not_found"]
    assert re.search("does not exist", unknown["message"])
    assert unknown["status_code"] == 404
    bad = errors["bad_input"]
    assert bad is not None, "no error raised for a bad input"
    assert bad["class"] == "BadRequestError" and bad["bad_request"]
    assert re.search("must be an integer", bad["message"])
    assert bad["status_code"] == 400
    assert errors["guard_attempts"] == []


def test_litellm_error_mid_stream(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    """The proxy's in-stream error event becomes LiteLLM's mid-stream error, after the text."""
    result = litellm_probe(proxy_url, "error_mid_stream")
    error = result["error"]
    assert error is not None, f"no error raised after {result['pieces']}"
    assert error["class"] == "MidStreamFallbackError" and error["mid_stream"]
    assert re.search("failed on purpose", error["message"])
    assert error["openai_api_error"]  # LiteLLM's own openai (2.x)
    assert "".join(result["pieces"]) == "".join(f"{i} " for i in range(10))
    assert result["guard_attempts"] == []


def test_litellm_venv_holds_the_pins(proxy_url: str, litellm_probe: LiteLLMProbe) -> None:
    """The probe ran the pinned LiteLLM, with its own openai (2.x), not the project's (3.x)."""
    versions = litellm_probe(proxy_url, "offline")["versions"]
    pins = dict(
        line.split(" ", 1)[0].split("==")
        for line in REQUIREMENTS.read_text().splitlines()
        if "==" in line
    )
    assert versions == {"litellm": pins["litellm"], "openai": pins["openai"]}
    assert pins["litellm"] == "1.106.2"
