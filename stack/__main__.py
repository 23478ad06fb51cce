"""``make stack``: the production topology on one machine, until Ctrl-C.

Postgres and Redis of its own (temporary directories, free ports below 32768), the schema,
the LangGraph server processes, the standalone proxies; then every URL. A process that dies
(kill one mid-answer to see what a client gets) is started again, as ``restart:
unless-stopped`` would. One Ctrl-C (or SIGTERM) stops all of it: proxies, servers, Redis,
Postgres, each by its process group, and removes the temporary directories.

``python -m stack --help`` (stack venv) lists the knobs; ``make stack STACK_ARGS="..."``
passes them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any

from harness.servers import ROOT
from stack.services import Postgres, Redis, Unavailable
from stack.topology import ROLES, Deployment, Layout, Process

DATABASE = "langgraph"
REDIS_DB = 0
STUDIO = "https://smith.langchain.com/studio/?baseUrl="
POLL = 0.5


def say(line: str = "") -> None:
    """One line to the terminal, at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Stack:
    """Postgres, Redis and one deployment on them."""

    def __init__(self, layout: Layout, keep: bool = False) -> None:
        """Nothing starts yet; ``keep`` leaves the logs behind."""
        self.layout = layout
        self.keep = keep
        self.directory = Path(tempfile.mkdtemp(prefix="stack-"))
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None
        self.deployment: Deployment | None = None
        self.timings: dict[str, float] = {}

    def start(self) -> Stack:
        """Postgres and Redis, the database, the schema, the servers, the proxies."""
        began = time.perf_counter()
        self.postgres = Postgres().start()
        self.redis = Redis().start()
        self.timings["postgres_redis"] = time.perf_counter() - began
        database_uri = self.postgres.create_database(DATABASE)
        self.deployment = Deployment(
            "stack", database_uri, self.redis.uri(REDIS_DB), self.layout, self.directory
        )
        step = time.perf_counter()
        self.deployment.migrate()
        self.timings["schema"] = time.perf_counter() - step
        step = time.perf_counter()
        self.deployment.start()
        self.timings["servers_proxies"] = time.perf_counter() - step
        self.timings["total"] = time.perf_counter() - began
        return self

    def stop(self) -> None:
        """Everything, in the reverse order; then the temporary directories."""
        if self.deployment is not None:
            self.deployment.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        """Every URL, pid and log file, and what each process is."""
        assert self.deployment is not None and self.postgres is not None
        assert self.redis is not None
        return {
            "langgraph_api": version("langgraph-api"),
            "langgraph_runtime_pg": version("langgraph-runtime-pg"),
            "postgres": {"uri": self.postgres.uri(DATABASE), "log": str(self.postgres.log)},
            "redis": {"uri": self.redis.uri(REDIS_DB), "log": str(self.redis.log)},
            **self.deployment.describe(),
            "timings": {key: round(value, 2) for key, value in self.timings.items()},
        }


def print_urls(stack: Stack) -> None:
    """What runs where, and how to talk to it."""
    info = stack.describe()
    assert stack.deployment is not None
    deployment = stack.deployment
    say()
    say(
        f"The production topology on one machine: langgraph-api {info['langgraph_api']} on "
        f"langgraph-runtime-pg {info['langgraph_runtime_pg']} (Postgres + Redis), "
        f"up in {info['timings']['total']:.1f} s"
    )
    say(f"  Postgres   {info['postgres']['uri']}")
    say(f"  Redis      {info['redis']['uri']}")
    for server in deployment.servers:
        jobs = f", {server.jobs} jobs" if server.jobs else ""
        jobs += f", {server.workers} uvicorn workers" if server.workers > 1 else ""
        say(f"  {server.name:<10} {server.url}  {ROLES[server.role]}{jobs}, pid {server.pid}")
    for proxy in deployment.proxies:
        say(f"  {proxy.name:<10} {proxy.url}/v1  -> {proxy.upstream}, pid {proxy.pid}")
    front = deployment.front[0]
    say(f"  mounted    {front.url}/v1  (the proxy in every API process, http.app)")
    say(f"  Studio     {STUDIO}{front.url}")
    heartbeat = deployment.layout.heartbeat
    say(
        f"  job slots  {deployment.layout.job_slots}; a run whose process dies is retried "
        f"after ~{2 * (heartbeat or 120):.0f} s (LG_BG_JOB_HEARTBEAT={heartbeat or 'default'})"
    )
    say(f"  logs       {stack.directory}")
    base = (deployment.proxies[0].url if deployment.proxies else front.url) + "/v1"
    say()
    say("Try it (the up-down game takes several seconds at pace 1):")
    say(
        f"  curl -N {base}/chat/completions -H 'Content-Type: application/json' -d "
        """'{"model": "up-down-game", "stream": true, "messages": [{"role": "user", """
        """"content": "10"}], "context": {"pace": 1, "locale": "en"}}'"""
    )
    say(
        "and kill the process running it mid-answer (`kill -9 <pid>`; its log says "
        '"Starting background run"): another process runs it again, and the client gets a '
        "note saying so, then the new answer. Killing the process a proxy talks to ends that "
        "proxy's streams with an error instead."
    )
    say("Ctrl-C stops all of it.")


def supervise(stack: Stack, restart: bool) -> None:
    """Until a signal: report (and restart) every process that exits."""
    assert stack.deployment is not None
    processes: list[Process] = [*stack.deployment.servers, *stack.deployment.proxies]
    down: set[str] = set()
    while True:
        for process in processes:
            popen = process.executor.process
            if popen is None or popen.poll() is None or process.name in down:
                continue
            code = popen.returncode
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            if not restart:
                say(f"{process.name} exited ({how}); --no-restart: left down")
                down.add(process.name)
                continue
            say(f"{process.name} exited ({how}); starting it again")
            try:
                process.restart()
            except RuntimeError as exc:
                say(f"{process.name} did not start again: {exc}")
                down.add(process.name)
                continue
            say(f"{process.name} is back at {process.url}, pid {process.pid}")
        time.sleep(POLL)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=2, help="API + runs processes (2)")
    parser.add_argument("--api-only", type=int, default=0, help="API-only processes (0)")
    parser.add_argument("--queue-workers", type=int, default=0, help="queue workers (0)")
    parser.add_argument("--proxies", type=int, default=2, help="standalone proxies (2)")
    parser.add_argument("--jobs", type=int, default=10, help="runs per executing process (10)")
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn workers per server process (1)"
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=2.0,
        help="LG_BG_JOB_HEARTBEAT seconds; a dead process's run is retried after ~2x (2)",
    )
    parser.add_argument(
        "--test-graphs", action="store_true", help="also serve the test graphs (bench)"
    )
    parser.add_argument(
        "--no-env-file",
        action="store_true",
        help="do not give the servers the repository's .env (the graphs' settings)",
    )
    parser.add_argument("--no-restart", action="store_true", help="leave dead processes down")
    parser.add_argument("--keep", action="store_true", help="keep the logs when stopping")
    parser.add_argument("--json", type=Path, help="also write every URL and pid to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, print it, supervise it until a signal; stop all of it."""
    args = parse_args(argv)
    env_file = ROOT / ".env"
    layout = Layout(
        servers=args.servers,
        api_only=args.api_only,
        queue_workers=args.queue_workers,
        proxies=args.proxies,
        jobs=args.jobs,
        workers=args.workers,
        heartbeat=args.heartbeat,
        test_graphs=args.test_graphs,
        env_file=None if args.no_env_file or not env_file.exists() else env_file,
    )

    def stop_on(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # also when started from a script, whose background jobs ignore SIGINT
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop_on)
    stack = Stack(layout, keep=args.keep)
    try:
        say("starting Postgres, Redis, the schema, the servers and the proxies ...")
        stack.start()
        print_urls(stack)
        if args.json:
            args.json.write_text(json.dumps(stack.describe(), indent=2) + "\n")
        supervise(stack, restart=not args.no_restart)
    except KeyboardInterrupt:
        say("\nstopping ...")
    except (Unavailable, RuntimeError) as exc:
        say(f"cannot start the stack: {exc}")
        return 1
    finally:
        # a second Ctrl-C must not leave half of it running
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
