"""Real servers for the tests and the benchmark: ``langgraph dev`` and the standalone proxy.

Every server gets a free port on 127.0.0.1 (2024 may be taken on these machines) and the
offline environment, and is stopped with its whole process group. A ``langgraph dev`` serves
the deployment's own graphs plus :data:`EXTRA_GRAPHS`, from a working directory of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROJECT = ("pyproject.toml", "agent", "proxy", "harness")
"""What a LangGraph server needs from the repository (linked into its own directory)."""
EXTRA_GRAPHS = {
    "bench": "./harness/graphs/bench.py:graph",
    "bench-messages": "./harness/graphs/bench.py:messages_graph",
    "counter": "./harness/graphs/conversation.py:counter",
    "ask": "./harness/graphs/conversation.py:asker",
    "ask-dict": "./harness/graphs/conversation.py:asker_dict",
    **{
        f"kinds-{name.replace('_', '-')}": f"./harness/graphs/kinds.py:{name}"
        for name in (
            "streaming",
            "not_streaming",
            "nostream_tag",
            "hand_built_message",
            "custom_and_message",
            "custom_chunks_too",
            "mixed",
            "subgraph",
            "router",
        )
    },
}
"""Served by test and benchmark servers only, beside ``langgraph.json``'s own graphs."""
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    # no periodic saving of the in-memory state (each server also has its own directory)
    "LANGGRAPH_DISABLE_FILE_PERSISTENCE": "true",
}


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A child process serving HTTP on ``url``; ``log`` holds what it printed."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL at once, as a crash would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def wait_ready(server: Server, path: str, timeout: float = 90.0) -> None:
    """Poll ``path`` until it answers 200; stop the server and fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.output()[-4000:]}")
        try:
            if httpx.get(server.url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server not ready in {timeout}s:\n{server.output()[-4000:]}")


def own_workdir(log: Path) -> Path:
    """A working directory of its own for one ``langgraph dev``: the project, linked.

    The in-memory server saves its state to ``.langgraph_api/`` in its working directory and
    reloads it on start, pending runs included, which it then executes: servers sharing the
    repository root would run each other's leftovers. (No ``.env`` either: a developer's own
    settings must not change what the tests see.)
    """
    workdir = Path(tempfile.mkdtemp(prefix="workdir-", dir=log.parent))
    for name in PROJECT:
        (workdir / name).symlink_to(ROOT / name)
    (workdir / "langgraph.json").write_text(json.dumps(deployment_config(), indent=2))
    return workdir


def deployment_config() -> dict[str, object]:
    """The repository's ``langgraph.json`` with :data:`EXTRA_GRAPHS` added."""
    config: dict[str, Any] = json.loads((ROOT / "langgraph.json").read_text())
    config["graphs"] = {**config["graphs"], **EXTRA_GRAPHS}
    return config


def spawn(
    cmd: list[str], log: Path, env: dict[str, str], cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Run ``cmd`` offline in its own process group, its output going to ``log``."""
    with log.open("wb") as handle:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, **OFFLINE_ENV, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start(
    cmd: list[str],
    url: str,
    ready_path: str,
    log: Path,
    env: dict[str, str],
    cwd: Path = ROOT,
) -> Server:
    """Spawn ``cmd`` and wait until ``ready_path`` answers on ``url``."""
    server = Server(spawn(cmd, log, env, cwd), url, log)
    wait_ready(server, ready_path)
    return server


def start_langgraph(
    log: Path, *, port: int | None = None, jobs: int = 256, env: dict[str, str] | None = None
) -> Server:
    """``langgraph dev`` as ``make run`` starts it (proxy mounted), on a free port."""
    port = port or free_port()
    cmd = [
        str(BIN / "langgraph"),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n-jobs-per-worker",
        str(jobs),
    ]
    return start(cmd, f"http://127.0.0.1:{port}", "/ok", log, env or {}, own_workdir(log))


def start_proxy(
    log: Path, langgraph_url: str, *, port: int | None = None, env: dict[str, str] | None = None
) -> Server:
    """The standalone proxy (``python -m proxy``) in front of ``langgraph_url``."""
    port = port or free_port()
    proxy_env = {
        "LANGGRAPH_URL": langgraph_url,
        "PROXY_HOST": "127.0.0.1",
        "PROXY_PORT": str(port),
        **(env or {}),
    }
    cmd = [str(BIN / "python"), "-m", "proxy"]
    return start(cmd, f"http://127.0.0.1:{port}", "/healthz", log, proxy_env)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Stop ``server`` when the block ends."""
    try:
        yield server
    finally:
        server.stop()
