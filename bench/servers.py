"""The processes under test: ``langgraph dev``, the fast-poll variant of it, the standalone proxy.

Each gets a free port on 127.0.0.1 and the offline environment, logs to a file, and is
stopped with its whole process group. ``pid`` is the process whose CPU and RSS are measured
(``langgraph dev`` serves in-process: no reloader, no worker processes).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.procstat import cpu_seconds
from tests import servers
from tests.servers import free_port, own_workdir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READY_TIMEOUT = 120.0
CPU_USED: list[float] = []
"""CPU seconds of every server stopped so far (to tell our load from other processes')."""


@dataclass(frozen=True)
class Layout:
    """Which CPUs the LangGraph server gets, and which the proxy and the clients share."""

    server: frozenset[int] | None = None
    others: frozenset[int] | None = None

    def describe(self) -> str:
        """One line for the report."""
        if self.server is None or self.others is None:
            return "not pinned: the OS places the server, the proxy and the clients"
        return (
            f"LangGraph server pinned to CPU {_cpus(self.server)}; standalone proxy and "
            f"clients to CPU {_cpus(self.others)}"
        )


LAYOUT = Layout()
"""Set once by :func:`pin`; the LangGraph servers started after it run on ``server``."""


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(map(str, sorted(cpus)))


def pin(enabled: bool) -> Layout:
    """Give the LangGraph server a CPU of its own, the rest to this process and its children.

    On a shared machine every party competes for the same cores and the figures swing with
    the scheduler: with a free core the server's threads contend for its GIL, and the
    clients' CPU lands on the server's. Pinned, the server (the bottleneck the proxy is
    judged against) gets the same CPU in every variant, as it would in its own container.
    """
    global LAYOUT
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if enabled and len(cpus) >= 2:
        LAYOUT = Layout(frozenset(cpus[:1]), frozenset(cpus[1:]))
        os.sched_setaffinity(0, LAYOUT.others)
    return LAYOUT


class Server(servers.Server):
    """A child process serving HTTP on ``url``, named, whose CPU is recorded when it stops."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        port: int,
        env: dict[str, str],
        log: Path,
        cwd: Path = ROOT,
        cpus: frozenset[int] | None = None,
    ):
        self.name = name
        process = servers.spawn(cmd, log, env, cwd, None if cpus is None else set(cpus))
        super().__init__(process, f"http://127.0.0.1:{port}", log)

    @property
    def pid(self) -> int:
        """The serving process."""
        return self.process.pid

    def wait_ready(self, path: str) -> None:
        """Poll ``path`` until it answers 200 (bounded)."""
        servers.wait_ready(self, path, READY_TIMEOUT)

    def stop(self) -> None:
        """Record the process's CPU, then stop it and its process group."""
        if self.process.poll() is None:
            try:
                CPU_USED.append(cpu_seconds(self.pid))
            except OSError:
                pass
        super().stop()


def langgraph_dev(log_dir: Path, jobs: int) -> Server:
    """``langgraph dev`` as ``make run`` starts it (proxy mounted at /v1)."""
    port = free_port()
    cmd = [str(BIN / "langgraph"), "dev", "--no-browser", "--no-reload"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n-jobs-per-worker", str(jobs)]
    log = log_dir / f"dev-{jobs}.log"
    name = f"langgraph dev (jobs={jobs})"
    server = Server(name, cmd, port, {}, log, own_workdir(log), LAYOUT.server)
    server.wait_ready("/ok")
    return server


def fast_poll_server(log_dir: Path, jobs: int, poll_ms: float) -> Server:
    """The same server with the run queue's 0.5 s poll shortened (bench/fast_poll_server.py)."""
    port = free_port()
    cmd = [str(BIN / "python"), "-m", "bench.fast_poll_server"]
    cmd += ["--port", str(port), "--jobs", str(jobs), "--poll-ms", str(poll_ms)]
    name = f"fast-poll server (jobs={jobs}, poll={poll_ms:g} ms)"
    log = log_dir / f"fast-{jobs}.log"
    server = Server(name, cmd, port, {}, log, own_workdir(log), LAYOUT.server)
    server.wait_ready("/ok")
    return server


def standalone_proxy(log_dir: Path, langgraph_url: str, max_connections: int) -> Server:
    """``python -m proxy`` in front of ``langgraph_url``."""
    port = free_port()
    env = {
        "LANGGRAPH_URL": langgraph_url,
        "PROXY_HOST": "127.0.0.1",
        "PROXY_PORT": str(port),
        "PROXY_MAX_CONNECTIONS": str(max_connections),
        "PROXY_LOG_LEVEL": "warning",
    }
    cmd = [str(BIN / "python"), "-m", "proxy"]
    log = log_dir / f"proxy-{port}.log"
    server = Server(f"proxy (max_connections={max_connections})", cmd, port, env, log)
    server.wait_ready("/healthz")
    return server
