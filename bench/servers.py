"""The processes under test: ``langgraph dev``, the fast-poll variant of it, the standalone proxy.

Each gets a free port on 127.0.0.1 and the offline environment, logs to a file, and is
stopped with its whole process group. ``pid`` is the process whose CPU and RSS are measured
(``langgraph dev`` serves in-process: no reloader, no worker processes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.procstat import cpu_seconds
from harness import servers
from harness.servers import BIN, ROOT, free_port, own_workdir

READY_TIMEOUT = 120.0
CPU_USED: list[float] = []
"""CPU seconds of every server stopped so far (to tell our load from other processes')."""


def _set_cpus(pid: int, cpus: set[int]) -> None:
    """Move every thread of ``pid`` (threads it starts later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:  # the thread ended meanwhile
            pass


@contextmanager
def pinned(enabled: bool, server_pid: int, others: list[int]) -> Iterator[str]:
    """Give the LangGraph server a CPU of its own, the rest to ``others`` and this process.

    For the throughput rows only: they ask whether the proxy slows a stream whose bottleneck
    is the server. Unpinned on 2 cores the answer swung with the scheduler: the server spent
    550-620 µs per chunk while a light client left the other core mostly idle, 440 while a
    busy client kept it busy, so the ratio measured the OS as much as the proxy. Pinned, the
    server gets one whole CPU in every variant, as on a host of its own. Yields the layout,
    for the report.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not enabled or len(cpus) < 2:
        yield "not pinned (1 CPU)" if enabled and len(cpus) == 1 else "not pinned"
        return
    rest = set(cpus[1:])
    _set_cpus(server_pid, {cpus[0]})
    for pid in (os.getpid(), *others):
        _set_cpus(pid, rest)
    try:
        yield (
            f"LangGraph server pinned to CPU {cpus[0]}, standalone proxy and clients to CPU "
            + ",".join(map(str, sorted(rest)))
        )
    finally:
        for pid in (os.getpid(), server_pid, *others):
            _set_cpus(pid, set(cpus))


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
    ):
        self.name = name
        super().__init__(servers.spawn(cmd, log, env, cwd), f"http://127.0.0.1:{port}", log)

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
    server = Server(f"langgraph dev (jobs={jobs})", cmd, port, {}, log, own_workdir(log))
    server.wait_ready("/ok")
    return server


def fast_poll_server(log_dir: Path, jobs: int, poll_ms: float) -> Server:
    """The same server with the run queue's 0.5 s poll shortened (bench/fast_poll_server.py)."""
    port = free_port()
    cmd = [str(BIN / "python"), "-m", "bench.fast_poll_server"]
    cmd += ["--port", str(port), "--jobs", str(jobs), "--poll-ms", str(poll_ms)]
    name = f"fast-poll server (jobs={jobs}, poll={poll_ms:g} ms)"
    log = log_dir / f"fast-{jobs}.log"
    server = Server(name, cmd, port, {}, log, own_workdir(log))
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
