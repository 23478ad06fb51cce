"""``make stack-bench``: measure the stack against ``langgraph dev``; writes ``docs/stack.md``.

On this machine, one after the other (nothing else of ours running):

* **startup**: Postgres (``initdb`` + start), Redis, the schema, one LangGraph server process
  alone (spawn to ``/ok``), the whole default ``make stack`` layout; ``langgraph dev`` (spawn to
  ``/ok``);
* **time to first chunk** (request sent to the first answer chunk received, one stream at a
  time, the ``bench`` graph, 5 chunks) and **chunks/s** (one stream of ``BIG`` chunks, first to
  last chunk): through a standalone proxy and the mounted one with the ``openai`` SDK, and
  with ``langgraph-sdk`` directly, on the stack (two processes serving and executing) and on
  ``langgraph dev`` (``make run``'s server);
* **RSS** of every process, idle after start and after the runs above;
* **2x the job slots**: bursts of twice as many streams as the processes execute at once,
  slow runs (each holds its slot ~1 s) and fast ones, through a proxy: how many came back
  whole, and when their first chunk arrived.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from langgraph_sdk import get_client
from openai import AsyncOpenAI

from harness.servers import OFFLINE_ENV, ROOT, own_workdir
from stack.__main__ import Stack
from stack.services import HOST, Postgres, Redis, free_port
from stack.topology import Deployment, Layout, Process, proxy_process

DOC = ROOT / "docs" / "stack.md"
DEV = ROOT / ".venv" / "bin" / "langgraph"
GRAPH = "bench"
SMALL = 5
BIG = 20_000
TTFC_RUNS = 40
WARMUP = 5
THROUGHPUT_RUNS = 3
STARTS = 3
BURST_SLOTS = (10, 20)
"""Job slots of the servers the bursts go to: 2 processes x half, 1 process x all."""
BURST_ROUNDS = 5
PHASES = 1.0
"""TTFC requests wait a random 0..this many seconds first: ``langgraph dev`` polls its queue,
and back-to-back requests would all land at the same point of its cycle."""
SLOW = {"silence": 1.0, "silence_after": 1}

Kind = Literal["openai", "sdk"]


@dataclass
class Target:
    """A way to read a stream: who serves it, and with which client."""

    name: str
    kind: Kind
    url: str


@dataclass
class StreamResult:
    """One stream: seconds to its first chunk, chunks, first and last chunk times, error."""

    ttfc: float | None = None
    chunks: int = 0
    first: float = 0.0
    last: float = 0.0
    error: str | None = None


async def read(target: Target, chunks: int, context: dict[str, Any] | None = None) -> StreamResult:
    """Stream one run of ``chunks`` chunks to its end; never raises."""
    result = StreamResult()
    start = time.perf_counter()

    def got(count: int) -> None:
        now = time.perf_counter()
        if result.ttfc is None:
            result.ttfc, result.first = now - start, now
        result.last = now
        result.chunks += count

    try:
        if target.kind == "openai":
            client = AsyncOpenAI(base_url=target.url, api_key="unused", max_retries=0)
            stream = await client.chat.completions.create(
                model=GRAPH,
                messages=[{"role": "user", "content": str(chunks)}],
                stream=True,
                extra_body={"context": context} if context else None,
            )
            async for chunk in stream:
                if chunk.choices and (text := chunk.choices[0].delta.content):
                    got(text.count(" "))
            await client.close()
        else:
            sdk = get_client(url=target.url)
            async for part in sdk.runs.stream(
                None,
                GRAPH,
                input={"chunks": chunks},
                context=context,
                stream_mode="custom",
                on_disconnect="cancel",
            ):
                if part.event == "custom":
                    got(1)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:120]
    if result.error is None and result.chunks != chunks:
        result.error = f"short ({result.chunks}/{chunks})"
    return result


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return f"{seconds * 1000:.0f}"


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int | None) -> float:
    """Resident memory of ``pid`` in MiB (``/proc/<pid>/status``)."""
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Report:
    """What the measurements found, as Markdown sections."""

    sections: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def table(self, title: str, intro: str, header: list[str], rows: list[list[str]]) -> None:
        """Add a section with a table."""
        lines = [f"## {title}", "", intro, "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        self.sections.append("\n".join(lines) + "\n")


def cpu_cells(cpu: dict[str, float], standalone: bool) -> list[str]:
    """Servers' (summed), the standalone proxy's and Redis's CPU µs per chunk, as cells."""
    servers = sum(value for name, value in cpu.items() if name.startswith("server"))
    proxy = f"{cpu['proxy']:.0f}" if standalone else ""
    redis = f"{cpu['redis']:.0f}" if "redis" in cpu else ""
    return [f"{servers:.0f}", proxy, redis]


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


@contextmanager
def langgraph_dev(directory: Path, jobs: int) -> Iterator[tuple[Process, float]]:
    """``langgraph dev`` as ``make run`` starts it (proxy mounted), and its startup seconds."""
    log = directory / f"dev-{jobs}.log"
    workdir = own_workdir(log)
    port = free_port()
    cmd = [str(DEV), "dev", "--no-browser", "--no-reload", "--host", HOST, "--port", str(port)]
    cmd += ["--n-jobs-per-worker", str(jobs)]
    server = Process("dev", "server", cmd, port, "/ok", dict(OFFLINE_ENV), workdir, log)
    seconds = timed(server.start)
    try:
        yield server, seconds
    finally:
        server.stop()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of ``pid``, all its threads (``/proc/<pid>/stat``)."""
    if pid is None:
        return 0.0
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def ttfc_and_throughput(
    targets: list[Target], watch: dict[str, int | None]
) -> dict[str, dict[str, Any]]:
    """TTFC (small runs one at a time, at random moments) and chunks/s (big runs) per target.

    Also the CPU time the ``watch``ed processes spent per chunk over the big runs.
    """
    found: dict[str, dict[str, Any]] = {}
    for target in targets:
        for _ in range(WARMUP):
            await read(target, SMALL)
        small = []
        for _ in range(TTFC_RUNS):
            await asyncio.sleep(random.uniform(0, PHASES))
            small.append(await read(target, SMALL))
        before = {name: cpu_seconds(pid) for name, pid in watch.items()}
        big = [await read(target, BIG) for _ in range(THROUGHPUT_RUNS)]
        chunks = sum(r.chunks for r in big) or 1
        cpu = {
            name: (cpu_seconds(pid) - before[name]) / chunks * 1e6 for name, pid in watch.items()
        }
        errors = [r.error for r in (*small, *big) if r.error]
        ttfcs = [r.ttfc for r in small if r.ttfc is not None]
        rates = [(r.chunks - 1) / (r.last - r.first) for r in big if not r.error]
        found[target.name] = {
            "ttfc_p50": statistics.median(ttfcs),
            "ttfc_p90": pct(ttfcs, 0.9),
            "chunks_per_s": statistics.median(rates) if rates else float("nan"),
            "cpu_us_per_chunk": cpu,
            "errors": errors,
        }
        sys.stderr.write(f"  {target.name}: {found[target.name]}\n")
    return found


async def burst(target: Target, size: int, context: dict[str, Any] | None) -> dict[str, Any]:
    """``size`` streams at once: outcomes, first-chunk times, wall time."""
    began = time.perf_counter()
    results = await asyncio.gather(*(read(target, 10, context) for _ in range(size)))
    wall = time.perf_counter() - began
    outcomes = Counter(
        "whole" if r.error is None else r.error.removeprefix("APIError: ") for r in results
    )
    ttfcs = [r.ttfc for r in results if r.ttfc is not None and r.error is None]
    return {"outcomes": dict(outcomes), "ttfcs": ttfcs, "wall": wall}


def new_deployment(
    postgres: Postgres, redis: Redis, number: int, layout: Layout, directory: Path
) -> Deployment:
    """A deployment with a database and Redis DB of its own, started; logs in ``directory``."""
    name = f"measure{number}"
    database_uri = postgres.create_database(name)
    return Deployment(name, database_uri, redis.uri(number), layout, directory / name).start()


def machine() -> str:
    """Cores, CPU model, OS, Python."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    dev_api = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-c",
            "import langgraph_api; print(langgraph_api.__version__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; the stack: langgraph-api {version('langgraph-api')} "
        f"on langgraph-runtime-pg {version('langgraph-runtime-pg')} (.tools/stack-venv), "
        f"`langgraph dev`: langgraph-api {dev_api} (.venv)"
    )


def measure(report: Report, directory: Path) -> None:
    """Every measurement, in order; sections appended to ``report``."""
    # -- startup -------------------------------------------------------------------------
    sys.stderr.write("startup\n")
    starts: dict[str, list[float]] = {"server": [], "dev": []}
    layouts: list[dict[str, float]] = []
    for _ in range(STARTS):
        stack = Stack(Layout(), keep=False)
        stack.start()
        layouts.append(stack.timings)
        stack.stop()
    postgres = Postgres().start()
    redis = Redis().start()
    try:
        single = Deployment(
            "measure0",
            postgres.create_database("measure0"),
            redis.uri(0),
            Layout(servers=1, proxies=0, test_graphs=True),
            directory / "single",
        )
        single.migrate()
        for _ in range(STARTS):
            server = single.servers[0]
            starts["server"].append(timed(server.start))
            server.stop()
        for _ in range(STARTS):
            with langgraph_dev(directory, 256) as (_, seconds):
                starts["dev"].append(seconds)

        def median_of(key: str) -> str:
            return ms(statistics.median(layout[key] for layout in layouts))

        rows = [
            ["Postgres (`initdb`, `pg_ctl start`) and Redis", median_of("postgres_redis")],
            ["the schema (`stack/migrate.py`)", median_of("schema")],
            ["2 server processes and 2 proxies, side by side", median_of("servers_proxies")],
            ["**`make stack`, all of it** (the venv already made)", median_of("total")],
            [
                "one LangGraph server process alone (spawn to `/ok`)",
                ms(statistics.median(starts["server"])),
            ],
            ["`langgraph dev` (spawn to `/ok`)", ms(statistics.median(starts["dev"]))],
        ]
        report.raw["startup"] = {"starts": starts, "layouts": layouts}
        report.table(
            "Startup",
            f"Milliseconds, the median of {STARTS} starts.",
            ["what", "ms"],
            rows,
        )

        # -- latency and throughput, RSS ---------------------------------------------------
        sys.stderr.write("time to first chunk, chunks/s, RSS\n")
        layout = Layout(servers=2, proxies=1, jobs=10, test_graphs=True)
        deployment = new_deployment(postgres, redis, 1, layout, directory)
        rss_rows: list[list[str]] = []
        idle = {p.name: rss_mib(p.pid) for p in (*deployment.servers, *deployment.proxies)}
        targets = [
            Target(
                "stack, standalone proxy (openai SDK)", "openai", deployment.proxies[0].url + "/v1"
            ),
            Target("stack, mounted proxy (openai SDK)", "openai", deployment.front[0].url + "/v1"),
            Target("stack, langgraph-sdk direct", "sdk", deployment.front[0].url),
        ]
        watch: dict[str, int | None] = {s.name: s.pid for s in deployment.servers}
        watch["proxy"] = deployment.proxies[0].pid
        watch["redis"] = redis.executor.process.pid if redis.executor.process else None
        found = asyncio.run(ttfc_and_throughput(targets, watch))
        for process in (*deployment.servers, *deployment.proxies):
            rss_rows.append(
                [
                    f"stack `{process.name}` ({process.role})",
                    f"{idle[process.name]:.0f}",
                    f"{rss_mib(process.pid):.0f}",
                ]
            )
        rss_rows.append(
            [
                "stack Redis (`redis-server`)",
                "",
                f"{rss_mib(redis.executor.process.pid if redis.executor.process else None):.0f}",
            ]
        )
        deployment.stop()
        with langgraph_dev(directory, 10) as (dev, _):
            dev_idle = rss_mib(dev.pid)
            dev_proxy = proxy_process("dev-proxy", dev, directory)
            dev_proxy.start()
            try:
                dev_targets = [
                    Target(
                        "`langgraph dev`, standalone proxy (openai SDK)",
                        "openai",
                        dev_proxy.url + "/v1",
                    ),
                    Target(
                        "`langgraph dev`, mounted proxy (openai SDK)", "openai", dev.url + "/v1"
                    ),
                    Target("`langgraph dev`, langgraph-sdk direct", "sdk", dev.url),
                ]
                dev_watch = {"server-1": dev.pid, "proxy": dev_proxy.pid}
                found.update(asyncio.run(ttfc_and_throughput(dev_targets, dev_watch)))
                rss_rows.append(
                    ["`langgraph dev` (one process)", f"{dev_idle:.0f}", f"{rss_mib(dev.pid):.0f}"]
                )
            finally:
                dev_proxy.stop()
        report.raw["latency"] = found
        report.table(
            "Time to first chunk and chunks/s",
            f"The `bench` graph, one stream at a time: time to first chunk over {TTFC_RUNS} runs "
            f"of {SMALL} chunks (after {WARMUP} warm-up runs), chunks/s over {THROUGHPUT_RUNS} "
            f"runs of {BIG:,} chunks (median, first chunk to last), and the CPU time each "
            "kind of process spent per chunk over those runs (`/proc`; the mounted proxy's is "
            "its server's). Each TTFC request waits a random 0-1 s first, so that it lands "
            "anywhere in `langgraph dev`'s queue poll. The stack: two processes serving and "
            "executing (10 jobs each), the standalone proxy in front of the first; a run "
            "executes on either (the other wakes through Redis). `langgraph dev`: as `make run` "
            "serves it, one process, 10 jobs. Everything shares the machine's cores.",
            [
                "variant",
                "TTFC p50 ms",
                "TTFC p90 ms",
                "chunks/s",
                "servers CPU µs/chunk",
                "proxy µs/chunk",
                "Redis µs/chunk",
                "errors",
            ],
            [
                [
                    name,
                    ms(row["ttfc_p50"]),
                    ms(row["ttfc_p90"]),
                    f"{row['chunks_per_s']:,.0f}",
                    *cpu_cells(row["cpu_us_per_chunk"], "standalone" in name),
                    str(len(row["errors"])),
                ]
                for name, row in found.items()
            ],
        )
        report.table(
            "Memory",
            "Resident set size (MiB) of each process: idle after start, and after the runs "
            "above (on the stack: the process the proxy talks to also executed about half).",
            ["process", "idle MiB", "after the runs MiB"],
            rss_rows,
        )

        # -- 2x the job slots --------------------------------------------------------------
        sys.stderr.write("2x the job slots\n")
        burst_rows: list[list[str]] = []
        raw_bursts: dict[str, list[dict[str, Any]]] = {}
        configs = [(2, slots // 2) for slots in BURST_SLOTS] + [(1, slots) for slots in BURST_SLOTS]
        for number, (servers, jobs) in enumerate(configs, start=2):
            layout = Layout(servers=servers, proxies=1, jobs=jobs, test_graphs=True)
            deployment = new_deployment(postgres, redis, number, layout, directory)
            name = f"stack, {servers} process{'es' if servers > 1 else ''} x {jobs} jobs"
            target = Target(name, "openai", deployment.proxies[0].url + "/v1")
            burst_rows += bursts(target, layout.job_slots, raw_bursts)
            deployment.stop()
        for slots in BURST_SLOTS:
            with langgraph_dev(directory, slots) as (dev, _):
                dev_proxy = proxy_process("dev-proxy", dev, directory)
                dev_proxy.start()
                try:
                    name = f"`langgraph dev`, {slots} jobs"
                    target = Target(name, "openai", dev_proxy.url + "/v1")
                    burst_rows += bursts(target, slots, raw_bursts)
                finally:
                    dev_proxy.stop()
        report.raw["bursts"] = raw_bursts
        report.table(
            "At 2x the job slots",
            f"Bursts of twice as many streams as the server executes at once, {BURST_ROUNDS} in "
            "a row on each server (a fresh one), through a standalone proxy with the `openai` "
            "SDK; runs of 10 chunks, slow ones holding their slot about a second. Half the "
            'streams wait in the queue for a slot. "whole": every chunk, in order, summed over '
            "the bursts; anything else is what those clients got instead. Time to first chunk "
            "over every whole stream of the bursts.",
            [
                "server",
                "runs",
                "slots",
                "streams",
                "outcomes",
                "bursts with a loss",
                "TTFC p25 ms",
                "p75 ms",
                "max ms",
                "wall s (median)",
            ],
            burst_rows,
        )
    finally:
        redis.stop()
        postgres.stop()


def bursts(target: Target, slots: int, raw: dict[str, list[dict[str, Any]]]) -> list[list[str]]:
    """``BURST_ROUNDS`` bursts of ``2 * slots`` streams, slow runs then fast: two table rows."""
    rows = []
    for label, context in (("slow (1 s)", SLOW), ("fast", None)):
        found = [asyncio.run(burst(target, 2 * slots, context)) for _ in range(BURST_ROUNDS)]
        raw[f"{target.name}, {label}"] = found
        outcomes: Counter[str] = Counter()
        for one in found:
            outcomes.update(one["outcomes"])
        ttfcs = [t for one in found for t in one["ttfcs"]]
        lossy = sum(1 for one in found if set(one["outcomes"]) != {"whole"})
        rows.append(
            [
                target.name,
                label,
                str(slots),
                f"{BURST_ROUNDS} x {2 * slots}",
                ", ".join(f"{n} {kind}" for kind, n in sorted(outcomes.items())),
                f"{lossy} of {BURST_ROUNDS}",
                ms(pct(ttfcs, 0.25)) if ttfcs else "",
                ms(pct(ttfcs, 0.75)) if ttfcs else "",
                ms(max(ttfcs)) if ttfcs else "",
                f"{statistics.median(one['wall'] for one in found):.1f}",
            ]
        )
    return rows


HEADER = """# The stack, measured

The production topology on one machine (`make stack`, see [deploy.md](deploy.md)): the stock
`langgraph-api` on the open Postgres + Redis runtime, against `langgraph dev` (what `make run`
serves). Produced by `make stack-bench` (`stack/measure.py`); do not edit by hand.

Measured {when} on {machine}. Other work on the machine: 1-minute load average {load} as the
measurement began.
"""


def main() -> int:
    """Measure, then write ``docs/stack.md``; ``--quick``: a smoke run, written elsewhere."""
    global SMALL, BIG, TTFC_RUNS, WARMUP, THROUGHPUT_RUNS, STARTS, BURST_ROUNDS, DOC
    if "--quick" in sys.argv[1:]:
        BIG, TTFC_RUNS, WARMUP, THROUGHPUT_RUNS, STARTS, BURST_ROUNDS = 2000, 5, 1, 1, 1, 1
        DOC = Path(tempfile.mkdtemp(prefix="stack-measure-quick-")) / "stack.md"
    report = Report()
    load = Path("/proc/loadavg").read_text().split()[0]
    directory = Path(tempfile.mkdtemp(prefix="stack-measure-"))
    began = time.perf_counter()
    measure(report, directory)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = HEADER.format(when=when, machine=machine(), load=load)
    text += "\n" + "\n".join(report.sections)
    text += f"\nThe whole measurement took {time.perf_counter() - began:.0f} s.\n"
    DOC.write_text(text)
    (directory / "stack.json").write_text(json.dumps(report.raw, indent=2, default=str))
    sys.stderr.write(f"wrote {DOC} (raw figures: {directory}/stack.json)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
