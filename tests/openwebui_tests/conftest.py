"""Open WebUI in a real browser against the proxy, every request it sends recorded.

What runs, per test session (all on 127.0.0.1, free ports, offline):

    Chromium (driver.py) -> Open WebUI -> recorder.py -> standalone proxy -> langgraph dev

* Open WebUI lives in its own venv, ``.tools/openwebui-venv``, installed from the pins in
  ``openwebui-requirements.txt`` (how to regenerate them: the header of the ``.in`` file) with
  the project's uv, and made again when the pins change (a hash stamp in the venv, as for the
  LiteLLM venv). torch is the CPU wheel on this machine's disk (``OWUI_FIND_LINKS``, default
  ``/opt/wheels``).
* Open WebUI starts offline (``OPENWEBUI_ENV``: no model downloads, no update check, no
  telemetry, no Ollama, single-user without login) with one OpenAI connection: the recorder,
  in front of the standalone proxy. ``guard/sitecustomize.py`` refuses and logs every
  connection Open WebUI tries to make outside loopback; the driver refuses the browser's.
* The connection carries extra headers templated by Open WebUI (``TEMPLATE_HEADERS``,
  ``X-Template-*``): they show which message ids and which task Open WebUI knows for each
  request. They are configuration, not Open WebUI's defaults (its own are
  ``X-OpenWebUI-User-*`` and ``X-OpenWebUI-Chat-Id`` with ``ENABLE_FORWARD_USER_INFO_HEADERS``).
* Two workspace models are added through Open WebUI's API, each a graph with a per-run
  context set as a custom parameter (how a user can pass ``context`` from Open WebUI):
  ``up-down-game-fast`` (``pace`` 0) and ``bench-fails`` (fails after 3 chunks).

These tests take minutes and need Chromium (``apt-get install -y chromium``), so they run only
when asked for: ``pytest tests/openwebui_tests`` (or ``OPENWEBUI_TESTS=1`` with a wider run);
anywhere else they are skipped. ``OWUI_CAPTURE_DIR=<dir>`` keeps the recorded requests
(``records.jsonl``) and the servers' logs there after the session.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.apt import ensure_command
from harness.servers import (
    ROOT,
    Server,
    free_port,
    spawn,
    start,
    start_langgraph,
    start_proxy,
    wait_ready,
)
from harness.venvs import PinnedVenv
from tests.fake_openai import FakeOpenAI

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "openwebui-requirements.txt"
DRIVER = HERE / "driver.py"
GUARD = HERE / "guard"
FIND_LINKS = os.environ.get("OWUI_FIND_LINKS", "/opt/wheels")
CHROMIUM = os.environ.get("OWUI_CHROMIUM", "/usr/bin/chromium")
INSTALL_TIMEOUT = 900
# bytecode compiled once at install: Open WebUI imports hundreds of packages at every start
VENV = PinnedVenv(
    "openwebui-venv",
    REQUIREMENTS,
    ("--compile-bytecode", "--find-links", FIND_LINKS),
    INSTALL_TIMEOUT,
)
PYTHON = VENV.python
STARTUP_TIMEOUT = 300
COMMAND_TIMEOUT = 300

API_KEY = "sk-openwebui-test"
TEMPLATE_HEADERS = {
    "X-Template-Chat-Id": "{{CHAT_ID}}",
    "X-Template-Message-Id": "{{MESSAGE_ID}}",
    "X-Template-User-Message-Id": "{{USER_MESSAGE_ID}}",
    "X-Template-User-Message-Parent-Id": "{{USER_MESSAGE_PARENT_ID}}",
    "X-Template-Task": "{{TASK}}",
    "X-Template-Model-Id": "{{MODEL_ID}}",
}
"""Extra headers on the OpenAI connection; Open WebUI fills the ``{{...}}`` per request."""

OPENWEBUI_ENV = {
    # single user, no login page; a fixed key (else `serve` writes .webui_secret_key to cwd)
    "WEBUI_AUTH": "False",
    "WEBUI_SECRET_KEY": "openwebui-tests-secret",
    # offline: no Hugging Face downloads (also sets HF_HUB_OFFLINE), no version check
    "OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ENABLE_VERSION_UPDATE_CHECK": "false",
    "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false",
    "RAG_RERANKING_MODEL_AUTO_UPDATE": "false",
    "WHISPER_MODEL_AUTO_UPDATE": "false",
    # no local embedding model at start-up (the default loads sentence-transformers' MiniLM)
    "RAG_EMBEDDING_ENGINE": "openai",
    "BYPASS_EMBEDDING_AND_RETRIEVAL": "true",
    # telemetry switches of the libraries it bundles (chromadb's is off in Open WebUI already)
    "ANONYMIZED_TELEMETRY": "false",
    "DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
    # no Ollama (and no probe of :11434/:12434 at import)
    "ENABLE_OLLAMA_API": "false",
    "OLLAMA_BASE_URL": "http://127.0.0.1:9",
    # the OpenAI connection (OPENAI_API_BASE_URLS and _CONFIGS are set per session)
    "ENABLE_OPENAI_API": "true",
    "OPENAI_API_KEYS": API_KEY,
    "ENABLE_FORWARD_USER_INFO_HEADERS": "true",
}

FAST_MODEL = "up-down-game-fast"
FAILING_MODEL = "bench-fails"
AGENT_MODEL = "assistant-fake"
"""The tool-using assistant, its chat model the fake upstream (added once that is up)."""
WORKSPACE_MODELS = {
    FAST_MODEL: ("up-down-game", {"pace": 0}),
    FAILING_MODEL: ("bench", {"fail_after": 3}),
}
"""Open WebUI model id -> (the graph it is based on, the per-run context it sends)."""


TIMINGS: dict[str, float] = {}
"""Seconds the slow steps took in this session, shown in pytest's summary."""


# -- only when asked for -------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skips these tests unless this folder (or a file in it) was named, or OPENWEBUI_TESTS=1."""
    if os.environ.get("OPENWEBUI_TESTS") == "1":
        return
    named = [Path(arg.split("::", 1)[0]).resolve() for arg in config.invocation_params.args]
    if any(path == HERE or HERE in path.parents for path in named):
        return
    skip = pytest.mark.skip(reason="Open WebUI tests: run `pytest tests/openwebui_tests`")
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The install and start-up times of this session, if it had any."""
    if TIMINGS:
        terminalreporter.section("Open WebUI timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f}s")


# -- the venv ------------------------------------------------------------------------------------


def torch_wheel() -> bool:
    """Whether the CPU build of torch that Open WebUI's pins name lies in ``FIND_LINKS``."""
    pinned = next(
        line.split("==", 1)[1].split()[0]
        for line in REQUIREMENTS.read_text().splitlines()
        if line.startswith("torch==")
    )
    return any(Path(FIND_LINKS).glob(f"torch-{pinned}-*.whl"))


@pytest.fixture(scope="session")
def openwebui_venv() -> Path:
    """`.tools/openwebui-venv`, made if it is missing or stale; its interpreter."""
    if not torch_wheel():
        pytest.skip(
            f"Open WebUI needs torch, whose CPU wheel is not in {FIND_LINKS} (OWUI_FIND_LINKS): "
            "from PyPI it would be a multi-GB CUDA build"
        )
    failure, seconds = VENV.ensure()
    if failure is not None:
        pytest.fail(failure[-20_000:], pytrace=False)
    if seconds is not None:
        TIMINGS["Open WebUI venv installed"] = seconds
    return PYTHON


# -- the servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the servers log and Open WebUI keeps its data; kept in OWUI_CAPTURE_DIR if set."""
    path = tmp_path_factory.mktemp("openwebui")
    yield path
    keep = os.environ.get("OWUI_CAPTURE_DIR")
    if keep:
        target = Path(keep)
        target.mkdir(parents=True, exist_ok=True)
        for item in path.iterdir():
            if item.is_file():
                shutil.copy2(item, target / item.name)


@pytest.fixture(scope="session")
def langgraph_server(session_dir: Path) -> Iterator[Server]:
    server = start_langgraph(session_dir / "langgraph.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def standalone_proxy(langgraph_server: Server, session_dir: Path) -> Iterator[Server]:
    server = start_proxy(session_dir / "proxy.log", langgraph_server.url)
    yield server
    server.stop()


class Recording:
    """What went through the recorder: one dict per exchange (see recorder.py)."""

    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        self.url = url

    def all(self) -> list[dict[str, Any]]:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        return sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["seq"])

    def mark(self, settle: float = 1.0, timeout: float = 30.0) -> int:
        """The last request's number once nothing is in flight: `since(mark)` is what follows.

        Side requests (title, tags, follow-ups) go out after the answer is shown: waiting for
        them to end (and ``settle`` seconds without a new one) keeps them out of the next step.
        """
        deadline = time.monotonic() + timeout
        last = None
        quiet_since = time.monotonic()
        while True:
            status = httpx.get(self.url + "/__recorder/status", timeout=5).json()
            if status != last:
                last, quiet_since = status, time.monotonic()
            elif status["in_flight"] == 0 and time.monotonic() - quiet_since >= settle:
                return int(status["seq"])
            if time.monotonic() > deadline:  # something hangs: go on, the waits will tell
                return int(status["seq"])
            time.sleep(0.1)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return [record for record in self.all() if record["seq"] > mark]

    def completions(self, mark: int) -> list[dict[str, Any]]:
        """The chat completions after ``mark``, in the order they arrived."""
        return [r for r in self.since(mark) if r["path"].endswith("/chat/completions")]

    def wait(
        self,
        mark: int,
        done: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 60.0,
    ) -> list[dict[str, Any]]:
        """The completions after ``mark`` once ``done`` holds for them (side requests lag)."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.completions(mark)
            if done(records):
                return records
            if time.monotonic() > deadline:
                summary = [(r["seq"], task_of(r), r.get("status")) for r in records]
                raise AssertionError(f"recorded requests never matched: {summary}")
            time.sleep(0.2)


def header(record: dict[str, Any], name: str) -> str | None:
    """A request header of a record, by name in any case (the last one sent)."""
    found = None
    for key, value in record["headers"]:
        if key.lower() == name.lower():
            found = value
    return found


def task_of(record: dict[str, Any]) -> str:
    """Open WebUI's task for a request, from the templated header ("" for a chat turn)."""
    return header(record, "X-Template-Task") or ""


@pytest.fixture(scope="session")
def recorder(standalone_proxy: Server, session_dir: Path) -> Iterator[tuple[Server, Recording]]:
    """The recording pass-through in front of the standalone proxy."""
    port = free_port()
    records = session_dir / "records.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "tests.openwebui_tests.recorder",
        standalone_proxy.url,
        str(port),
        str(records),
    ]
    server = start(
        cmd, f"http://127.0.0.1:{port}", "/__recorder/ok", session_dir / "recorder.log", {}
    )
    yield server, Recording(records, server.url)
    server.stop()


@pytest.fixture(scope="session")
def recording(recorder: tuple[Server, Recording]) -> Recording:
    return recorder[1]


class OpenWebUI:
    """A running Open WebUI, its admin token, and what its guard refused."""

    def __init__(self, server: Server, token: str, network_log: Path, startup: float) -> None:
        self.server = server
        self.url = server.url
        self.token = token
        self.network_log = network_log
        self.startup_seconds = startup

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def refused(self) -> list[dict[str, Any]]:
        """The connections Open WebUI tried to make outside loopback (refused by the guard)."""
        if not self.network_log.exists():
            return []
        return [json.loads(line) for line in self.network_log.read_text().splitlines() if line]

    def chat(self, chat_id: str) -> dict[str, Any]:
        """A saved chat as Open WebUI stores it (its message tree under ``history``)."""
        return self.api("GET", f"/api/v1/chats/{chat_id}")["chat"]


@pytest.fixture(scope="session")
def openwebui(
    openwebui_venv: Path,
    recorder: tuple[Server, Recording],
    session_dir: Path,
    fake_upstream: FakeOpenAI,
) -> Iterator[OpenWebUI]:
    """Open WebUI, offline, its one OpenAI connection the recorder; the workspace models added."""
    port = free_port()
    data = session_dir / "openwebui-data"
    workdir = session_dir / "openwebui-cwd"
    data.mkdir()
    workdir.mkdir()
    network_log = session_dir / "openwebui-network.jsonl"
    env = {
        **OPENWEBUI_ENV,
        "DATA_DIR": str(data),
        "OPENAI_API_BASE_URLS": recorder[0].url + "/v1",
        "OPENAI_API_CONFIGS": json.dumps({"0": {"headers": TEMPLATE_HEADERS}}),
        "PYTHONPATH": str(GUARD),
        "OWUI_NETWORK_LOG": str(network_log),
    }
    cmd = [
        str(VENV.path / "bin" / "open-webui"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    started = time.monotonic()
    log = session_dir / "openwebui.log"
    server = Server(spawn(cmd, log, env, workdir), f"http://127.0.0.1:{port}", log)
    wait_ready(server, "/health", timeout=STARTUP_TIMEOUT)
    startup = time.monotonic() - started
    TIMINGS["Open WebUI started (to /health)"] = startup
    try:
        # WEBUI_AUTH=False: the first sign-in makes (then is) the admin, as the page does
        signin = httpx.post(
            server.url + "/api/v1/auths/signin", json={"email": "", "password": ""}, timeout=30
        )
        signin.raise_for_status()
        instance = OpenWebUI(server, signin.json()["token"], network_log, startup)
        models = {model["id"] for model in instance.api("GET", "/api/models")["data"]}
        assert {"up-down-game", "bench"} <= models, models
        agent = {"model": "fake-model", "base_url": fake_upstream.url, "max_retries": 0}
        workspace = {**WORKSPACE_MODELS, AGENT_MODEL: ("assistant", {**agent, "timeout": 20})}
        for model_id, (base, context) in workspace.items():
            instance.api(
                "POST",
                "/api/v1/models/create",
                json={
                    "id": model_id,
                    "base_model_id": base,
                    "name": model_id,
                    "meta": {"description": f"{base} with context {context}"},
                    "params": {"custom_params": {"context": json.dumps(context)}},
                },
            )
    except BaseException:
        server.stop()
        raise
    yield instance
    server.stop()


# -- the browser ---------------------------------------------------------------------------------


def ensure_chromium() -> None:
    """Debian's Chromium, installed with apt when it is missing (and this runs as root)."""
    started = time.monotonic()
    found, what = ensure_command(CHROMIUM, "chromium")
    if found is None:
        pytest.fail(what, pytrace=False)
    if what:
        TIMINGS["Chromium installed (apt)"] = time.monotonic() - started


class Browser:
    """driver.py in Open WebUI's venv: one command at a time, its JSON answer."""

    def __init__(self, python: Path, log: Path) -> None:
        ensure_chromium()
        self.log_handle = log.open("w")
        self.process = subprocess.Popen(
            [str(python), str(DRIVER)],
            cwd=ROOT,
            env={**os.environ, "OWUI_CHROMIUM": CHROMIUM},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_handle,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._answer(60)
        assert ready == {"ok": True, "result": "ready"}, ready
        self.log = log

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _answer(self, timeout: float) -> dict[str, Any]:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(
                f"driver.py said nothing in {timeout}s:\n{self.log.read_text()[-5000:]}"
            ) from None

    def __call__(self, cmd: str, timeout: float = COMMAND_TIMEOUT, **args: Any) -> Any:
        """Runs one driver command; its result, or the test fails with the driver's traceback."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        answer = self._answer(timeout)
        if not answer["ok"]:
            pytest.fail(f"driver.py {cmd} failed:\n{answer['error']}", pytrace=False)
        return answer["result"]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps({"cmd": "close"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self.log_handle.close()


@pytest.fixture(scope="session")
def browser(openwebui: OpenWebUI, openwebui_venv: Path, session_dir: Path) -> Iterator[Browser]:
    """One Chromium for the session (each test opens its own chat)."""
    browser = Browser(openwebui_venv, session_dir / "driver.log")
    yield browser
    browser.close()


@pytest.fixture
def screenshot_on_failure(
    request: pytest.FixtureRequest, browser: Browser, session_dir: Path
) -> Iterator[None]:
    """A screenshot of the page when the test fails (kept with OWUI_CAPTURE_DIR)."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
        try:
            browser("screenshot", path=str(session_dir / f"{name}.png"))
        except BaseException:  # the screenshot must not hide the failure
            pass


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
