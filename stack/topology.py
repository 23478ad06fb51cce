"""A deployment on the open runtime: LangGraph server processes and standalone proxies.

A :class:`Deployment` owns a database and a Redis DB (never shared with another deployment:
a queue worker of one claims the runs of any other in its database) and runs, each a mirakuru
``HTTPExecutor`` in a process group of its own, logging to a file:

* ``server-N``: ``langhost serve``, the stock ``langgraph-api`` on ``langgraph-runtime-pg``,
  serving the API and executing runs (``jobs`` at once);
* ``api-N``: the same with ``N_JOBS_PER_WORKER=0``, an API that executes nothing;
* ``queue-N``: the same, executing runs, but no proxy points at it (its HTTP port is for
  health checks only, as the licensed queue worker's is);
* ``proxy-N``: ``python -m proxy`` from the project's own ``.venv``, in front of the API
  servers in turn (proxy 1 -> the first, proxy 2 -> the second, ...).

Every server runs from the stack's venv (``stack/venv.py``) in a working directory of its own
that links the project and holds ``langgraph.json`` with ``http.app`` pointed at
``stack/lifespan_shim.py`` (which mounts the repository's own app). The schema is created once
(``stack/migrate.py``) before any server starts: servers creating it together crash.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from mirakuru import HTTPExecutor
from mirakuru.exceptions import ProcessExitedWithError, TimeoutExpired

from harness.servers import EXTRA_GRAPHS, OFFLINE_ENV, PROJECT, ROOT
from stack import HTTP_APP_ENV
from stack.services import HOST, free_port
from stack.venv import VENV

STACK_BIN = VENV.path / "bin"
PROXY_PYTHON = ROOT / ".venv" / "bin" / "python"
SHIM_APP = "./stack/lifespan_shim.py:app"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
MIGRATE_TIMEOUT = 120.0

RUN_ID = re.compile(r"\brun_id=([0-9a-f-]{36})")
RUN_ATTEMPT = re.compile(r"\brun_attempt=(\d+)")
"""Fields of the line ``langgraph-api`` logs as a process begins a run (``LOG_COLOR=false``)."""

Role = Literal["server", "api", "queue", "proxy"]
ROLES: dict[Role, str] = {
    "server": "API + runs",
    "api": "API only",
    "queue": "queue worker (runs only; HTTP for health)",
    "proxy": "OpenAI-compatible proxy",
}


@dataclass(frozen=True)
class Layout:
    """What a deployment runs.

    Attributes:
        servers: Processes serving the API and executing runs.
        api_only: Processes serving the API only (``N_JOBS_PER_WORKER=0``).
        queue_workers: Processes executing runs, with no proxy in front.
        proxies: Standalone proxies, in front of the API processes in turn.
        jobs: Runs each executing process executes at once (``N_JOBS_PER_WORKER``).
        workers: uvicorn worker processes per server (``langhost serve --workers``): each
            serves and executes (``jobs`` each); the server's pid is their supervisor's.
        heartbeat: ``LG_BG_JOB_HEARTBEAT`` in seconds: a run whose process died is retried
            within two to four times this (``None``: the runtime's default, 120).
        test_graphs: Also serve the test-only graphs (``harness.servers.EXTRA_GRAPHS``).
        env: More environment for the servers (the graphs' settings, e.g. ``CHAT_MODEL``).
        proxy_env: More environment for the proxies (e.g. ``PROXY_API_KEYS``).
        env_file: A ``.env`` linked into the servers' working directory (``langgraph.json``
            names ``.env``); ``None``: none, whatever the repository holds.

    """

    servers: int = 2
    api_only: int = 0
    queue_workers: int = 0
    proxies: int = 2
    jobs: int = 10
    workers: int = 1
    heartbeat: float | None = 2.0
    test_graphs: bool = False
    env: dict[str, str] = field(default_factory=dict)
    proxy_env: dict[str, str] = field(default_factory=dict)
    env_file: Path | None = None

    @property
    def job_slots(self) -> int:
        """Runs the deployment executes at once; more wait in the queue."""
        return (self.servers + self.queue_workers) * self.workers * self.jobs


def make_workdir(directory: Path, layout: Layout) -> Path:
    """The servers' working directory: the project linked, ``langgraph.json`` rewritten."""
    workdir = directory / "workdir"
    workdir.mkdir()
    for name in (*PROJECT, "stack"):
        (workdir / name).symlink_to(ROOT / name)
    config = json.loads((ROOT / "langgraph.json").read_text())
    if layout.test_graphs:
        config["graphs"] = {**config["graphs"], **EXTRA_GRAPHS}
    config["http"] = {**config["http"], "app": SHIM_APP}
    (workdir / "langgraph.json").write_text(json.dumps(config, indent=2) + "\n")
    if layout.env_file is not None:
        (workdir / ".env").symlink_to(layout.env_file.resolve())
    return workdir


def wrapped_http_app() -> str:
    """The repository's own ``http.app``, which the shim mounts."""
    return str(json.loads((ROOT / "langgraph.json").read_text())["http"]["app"])


class Process:
    """One process of the deployment, started and stopped by a mirakuru ``HTTPExecutor``."""

    def __init__(
        self,
        name: str,
        role: Role,
        cmd: list[str],
        port: int,
        ready_path: str,
        env: dict[str, str],
        cwd: Path,
        log: Path,
    ) -> None:
        """Describe the process; :meth:`start` starts it."""
        self.name = name
        self.role = role
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log = log
        self.cmd = cmd
        self.env = {**OFFLINE_ENV, **env}
        self.cwd = cwd
        self.ready_path = ready_path
        self.upstream: str | None = None
        self._handle: IO[str] | None = None
        self.executor = self._executor()

    def _executor(self) -> HTTPExecutor:
        return HTTPExecutor(
            self.cmd,
            url=self.url + self.ready_path,
            status=200,
            method="GET",
            envvars=self.env,
            cwd=str(self.cwd),
            timeout=START_TIMEOUT,
            sleep=0.1,
            stdin=subprocess.DEVNULL,
            stdout=self._open_log(),
            stderr=subprocess.STDOUT,
        )

    def _open_log(self) -> IO[str]:
        if self._handle is not None:
            self._handle.close()
        self._handle = self.log.open("a")
        return self._handle

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        process = self.executor.process
        return process.pid if process is not None and process.poll() is None else None

    def running(self) -> bool:
        """Whether the process is alive."""
        return bool(self.executor.running())

    def output(self) -> str:
        """Everything it printed (every start of it)."""
        return self.log.read_text(errors="replace")

    def start(self) -> Process:
        """Start it and wait until ``ready_path`` answers 200; fail with its log."""
        try:
            self.executor.start()
        except (ProcessExitedWithError, TimeoutExpired) as exc:
            tail = self.output()[-4000:]
            raise RuntimeError(f"{self.name} did not start ({exc}):\n{tail}") from exc
        return self

    def stop(self) -> None:
        """SIGTERM its process group and wait (then SIGKILL what is left)."""
        if self.executor.process is None:
            return
        try:
            self.executor.stop()
        except (ProcessExitedWithError, OSError):
            self.executor.kill()

    def kill(self) -> None:
        """SIGKILL its process group at once, as a crash would."""
        self.executor.kill()

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to its process group and return at once."""
        pid = self.pid
        if pid is not None:
            os.killpg(pid, sig)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Wait for the process to end; its exit code."""
        process = self.executor.process
        if process is None:
            return None
        code: int = process.wait(timeout=timeout)
        return code

    def restart(self) -> Process:
        """Clean up after the last run of it (if any) and start it again."""
        self.stop()
        self.executor = self._executor()
        return self.start()

    def describe(self) -> dict[str, Any]:
        """What to print and what scripts read."""
        return {
            "name": self.name,
            "role": self.role,
            "url": self.url,
            "pid": self.pid,
            "log": str(self.log),
            "upstream": self.upstream,
        }


class LangGraphServer(Process):
    """A ``langhost serve`` process."""

    def __init__(
        self,
        name: str,
        role: Role,
        jobs: int,
        env: dict[str, str],
        workdir: Path,
        log: Path,
        workers: int = 1,
    ) -> None:
        """A server on a free port; each of its ``workers`` executes ``jobs`` runs at once."""
        port = free_port()
        self.jobs = jobs
        self.workers = workers
        cmd = [
            str(STACK_BIN / "langhost"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--n-jobs-per-worker",
            str(jobs),
            *(["--workers", str(workers)] if workers > 1 else []),
        ]
        super().__init__(name, role, cmd, port, "/ok", env, workdir, log)

    def runs_started(self) -> list[tuple[str, int]]:
        """``(run id, attempt)`` of every run this process began executing (its log)."""
        started = []
        for line in self.output().splitlines():
            run_id, attempt = RUN_ID.search(line), RUN_ATTEMPT.search(line)
            if "Starting background run" in line and run_id and attempt:
                started.append((run_id[1], int(attempt[1])))
        return started

    def executed(self, run_id: str) -> bool:
        """Whether this process began executing run ``run_id``."""
        return any(started == run_id for started, _ in self.runs_started())

    def describe(self) -> dict[str, Any]:
        """Also the runs it executes at once."""
        return {**super().describe(), "jobs": self.jobs, "workers": self.workers}


def proxy_process(
    name: str, upstream: Process, directory: Path, env: dict[str, str] | None = None
) -> Process:
    """A standalone proxy (``python -m proxy`` from ``.venv``) in front of ``upstream``."""
    port = free_port()
    proxy_env = {
        "LANGGRAPH_URL": upstream.url,
        "PROXY_HOST": HOST,
        "PROXY_PORT": str(port),
        **(env or {}),
    }
    cmd = [str(PROXY_PYTHON), "-m", "proxy"]
    proxy = Process(
        name, "proxy", cmd, port, "/healthz", proxy_env, ROOT, directory / f"{name}.log"
    )
    proxy.upstream = upstream.name
    return proxy


def in_parallel(actions: Iterable[Callable[[], object]]) -> None:
    """Run ``actions`` side by side (each blocks while its process starts or stops)."""
    actions = list(actions)
    if not actions:
        return
    with ThreadPoolExecutor(len(actions)) as pool:
        for future in [pool.submit(action) for action in actions]:
            future.result()


class Deployment:
    """A database, a Redis DB, the server processes and the proxies of one deployment."""

    def __init__(
        self,
        name: str,
        database_uri: str,
        redis_uri: str,
        layout: Layout,
        directory: Path | None = None,
    ) -> None:
        """Lay it out in ``directory`` (default: a new temporary one); nothing starts yet."""
        self.name = name
        self.database_uri = database_uri
        self.redis_uri = redis_uri
        self.layout = layout
        self.directory = directory or Path(tempfile.mkdtemp(prefix=f"stack-{name}-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.workdir = make_workdir(self.directory, layout)
        self.servers: list[LangGraphServer] = []
        kinds: tuple[tuple[Role, int, int], ...] = (
            ("server", layout.servers, layout.jobs),
            ("api", layout.api_only, 0),
            ("queue", layout.queue_workers, layout.jobs),
        )
        for role, count, jobs in kinds:
            for index in range(1, count + 1):
                name_ = f"{role}-{index}"
                self.servers.append(
                    LangGraphServer(
                        name_,
                        role,
                        jobs,
                        self.server_env(),
                        self.workdir,
                        self.directory / f"{name_}.log",
                        layout.workers,
                    )
                )
        if not self.front:
            raise ValueError("a deployment needs a process serving the API (servers or api_only)")
        self.proxies = [
            proxy_process(
                f"proxy-{index}",
                self.front[(index - 1) % len(self.front)],
                self.directory,
                layout.proxy_env,
            )
            for index in range(1, layout.proxies + 1)
        ]

    def server_env(self) -> dict[str, str]:
        """What every server process gets."""
        env = {
            "DATABASE_URI": self.database_uri,
            "REDIS_URI": self.redis_uri,
            # migrated once, before the servers start (stack/topology.py's docstring)
            "LG_RUNTIME_PG_AUTO_MIGRATE": "false",
            # plain log files (``Deployment.runs_started`` reads them)
            "LOG_COLOR": "false",
            HTTP_APP_ENV: wrapped_http_app(),
            **self.layout.env,
        }
        if self.layout.heartbeat is not None:
            env["LG_BG_JOB_HEARTBEAT"] = str(self.layout.heartbeat)
        return env

    @property
    def front(self) -> list[LangGraphServer]:
        """The processes serving the API (what proxies and clients talk to)."""
        return [server for server in self.servers if server.role in ("server", "api")]

    @property
    def executing(self) -> list[LangGraphServer]:
        """The processes executing runs."""
        return [server for server in self.servers if server.jobs > 0]

    def server(self, name: str) -> LangGraphServer:
        """The server process called ``name``."""
        return next(server for server in self.servers if server.name == name)

    def migrate(self) -> None:
        """Create the whole schema once (``stack/migrate.py``: servers starting together crash)."""
        done = subprocess.run(
            [str(STACK_BIN / "python"), "-m", "stack.migrate"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URI": self.database_uri},
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migration failed:\n{done.stdout}{done.stderr}")

    def start(self) -> Deployment:
        """Migrate, start every server at once, then every proxy; stop all if one fails."""
        self.migrate()
        try:
            in_parallel(server.start for server in self.servers)
            in_parallel(proxy.start for proxy in self.proxies)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the proxies, then the servers (each by its process group)."""
        in_parallel(proxy.stop for proxy in self.proxies)
        in_parallel(server.stop for server in self.servers)

    def restart_servers(self) -> None:
        """Stop every server process, then start them all again (the proxies stay)."""
        in_parallel(server.stop for server in self.servers)
        in_parallel(server.restart for server in self.servers)

    def executor_of(self, run_id: str) -> LangGraphServer | None:
        """The process that started executing ``run_id`` last (``None``: none yet)."""
        found = [server for server in self.executing if server.executed(run_id)]
        return found[-1] if found else None

    def describe(self) -> dict[str, Any]:
        """Every URL, pid and log file."""
        return {
            "name": self.name,
            "database_uri": self.database_uri,
            "redis_uri": self.redis_uri,
            "job_slots": self.layout.job_slots,
            "heartbeat": self.layout.heartbeat,
            "servers": [server.describe() for server in self.servers],
            "proxies": [proxy.describe() for proxy in self.proxies],
        }
