"""One ``langgraph dev`` (proxy mounted) and one standalone proxy for the whole session."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client

from harness.servers import ROOT, Server, start_langgraph, start_proxy
from tests.fake_openai import FakeOpenAI


@pytest.fixture(scope="session")
def langgraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_langgraph(tmp_path_factory.mktemp("langgraph") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def standalone_proxy(
    langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = start_proxy(tmp_path_factory.mktemp("proxy") / "proxy.log", langgraph_server.url)
    yield server
    server.stop()


@pytest.fixture(params=["mounted", "standalone"])
def proxy_url(request: pytest.FixtureRequest, langgraph_server: Server) -> str:
    """The OpenAI base URL, for the proxy mounted in langgraph dev and for the standalone one."""
    if request.param == "mounted":
        return langgraph_server.url + "/v1"
    return request.getfixturevalue("standalone_proxy").url + "/v1"


@pytest.fixture
def sdk(langgraph_server: Server):
    return get_client(url=langgraph_server.url, api_key=None)


def model_context(fake: FakeOpenAI, **overrides: Any) -> dict[str, Any]:
    """A run's context pointing ``chat`` or ``assistant`` at the fake: no retries, short timeout."""
    return {
        "model": "fake-model",
        "base_url": fake.url,
        "max_retries": 0,
        "timeout": 10,
        **overrides,
    }


JS_DIR = ROOT / "tests" / "js"
NodeScript = Callable[..., list[dict[str, Any]]]


def _js_versions() -> tuple[dict[str, str], dict[str, str | None]]:
    """The packages tests/js/package.json pins, and the versions node_modules holds."""
    pins: dict[str, str] = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    found: dict[str, str | None] = {}
    for name in pins:
        manifest = JS_DIR / "node_modules" / name / "package.json"
        found[name] = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    return pins, found


@pytest.fixture(scope="session")
def node_script() -> Callable[[str], NodeScript]:
    """``tests/js/<script> <base_url> <scenario> [JSON]``, its JSON lines; ``npm ci`` first when
    node_modules does not hold the pinned versions (``tests/js/package-lock.json``)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not on PATH: the JS client tests need Node.js >= 20 and npm")
    pins, found = _js_versions()
    if found != pins:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        assert _js_versions()[1] == pins

    def script(name: str) -> NodeScript:
        def run(base_url: str, scenario: str, arguments: Any = None) -> list[dict[str, Any]]:
            extra = [json.dumps(arguments)] if arguments is not None else []
            done = subprocess.run(
                [node, name, base_url, scenario, *extra],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=90,
            )
            assert done.returncode == 0, f"{name} {scenario} failed:\n{done.stdout}\n{done.stderr}"
            return [json.loads(line) for line in done.stdout.splitlines()]

        return run

    return script
