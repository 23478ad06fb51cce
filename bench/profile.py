"""Where the proxy's CPU goes per chunk: py-spy on the proxy under 5,000-chunk streams.

``python -m bench.profile`` starts ``langgraph dev`` and the standalone proxy, measures the
proxy's CPU per chunk from ``/proc`` without a profiler, then samples it with ``py-spy record
--gil`` (only stacks that hold the GIL: time in epoll is left out) during more streams, and
prints each component's share of the samples and its estimated µs per chunk (share x CPU per
chunk). ``--variant mounted`` profiles the LangGraph server with the proxy mounted instead (the
server's own work is then in the picture too), ``--variant direct`` the server under direct SDK
streams (to subtract). The folded stacks are saved (``--out``); speedscope.app and
flamegraph.pl open them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import signal
import tempfile
from pathlib import Path

from bench import servers
from bench.clients import GRAPH, MESSAGES_GRAPH, Target
from bench.measure import warm_up
from bench.procstat import cpu_seconds
from harness.servers import BIN

GENERIC = re.compile(r"\((asyncio|anyio|contextlib|typing|sniffio|weakref|enum|<string>)[/.)]")
"""Frames that belong to whoever called them (walk up the stack past them)."""

SOCKET = re.compile(r"^(StreamProtocol|SocketStream)\..*\(anyio/")
"""anyio's socket stream: only httpcore uses it in the proxy (uvicorn has its own protocol)."""

COMPONENTS: list[tuple[str, str]] = [
    (r"\(langgraph_sdk/sse\.py", "SDK SSE parsing (langgraph_sdk.sse)"),
    (r"\(langgraph_sdk/", "SDK stream loop (langgraph_sdk http)"),
    (r"\((h11|httpcore|httpx)/", "upstream HTTP read (httpx/httpcore/h11)"),
    (
        r"\(proxy/runs/(custom|messages|tools|state|content|modes|events)\.py",
        "run events (proxy.runs readers)",
    ),
    (r"\(proxy/runs/(pump|handoff)\.py", "run pump + queue handoff (proxy.runs)"),
    (r"\(proxy/(chat|responses)/", "render (proxy.chat / proxy.responses)"),
    (r"\(proxy/web/sse\.py", "SSE response (proxy.web.sse)"),
    (r"\(proxy/upstream/transport\.py", "upstream transport (proxy.upstream)"),
    (r"\(sse_starlette/", "sse-starlette (send, per-send timeout)"),
    (r"\((starlette|fastapi)/", "starlette/fastapi send wrappers"),
    (r"^RequestResponseCycle\.send|\(uvicorn/protocols", "uvicorn send (transport.write)"),
    (r"\(langgraph_api/", "LangGraph API server"),
    (r"\(langgraph_runtime_inmem/", "in-memory runtime (queues, ops)"),
    (r"\((langgraph|langgraph_checkpoint)/|\(agent/", "graph execution (langgraph)"),
    (r"\(proxy/", "proxy, other"),
    (r"^Runner\.run ", "event loop (uvloop, C: callbacks, syscalls)"),
]


def component(stack: list[str]) -> str:
    """The component of a sample: the deepest non-generic frame that names one."""
    for frame in reversed(stack):
        if SOCKET.search(frame):
            return "upstream HTTP read (httpx/httpcore/h11)"
        if GENERIC.search(frame) and not frame.startswith("Runner.run "):
            continue
        for pattern, name in COMPONENTS:
            if re.search(pattern, frame):
                return name
        return f"other: {frame}"
    return "other"


def analyze(folded: Path) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    """Samples per component and per leaf function (self time)."""
    parts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count = int(count_text)
        stack = [re.sub(r":\d+\)$", ")", f) for f in stack_text.split(";")]
        parts[component(stack)] += count
        leaves[stack[-1]] += count
        total += count
    return parts, leaves, total


async def cpu_per_chunk(
    target: Target, pid: int, chunks: int, streams: int, graph: str = GRAPH
) -> float:
    """µs of ``pid``'s CPU per chunk over ``streams`` streams (no profiler attached)."""
    before = cpu_seconds(pid)
    for _ in range(streams):
        result = await target.stream(chunks, graph=graph)
        if result.error:
            raise RuntimeError(f"stream failed: {result.error}")
    await asyncio.sleep(0.15)
    return (cpu_seconds(pid) - before) / (chunks * streams) * 1e6


async def profile(target: Target, pid: int, args: argparse.Namespace) -> tuple[float, Path]:
    """Baseline CPU per chunk, then the same streams under py-spy."""
    target.open_client()
    try:
        await warm_up([target])
        baseline = await cpu_per_chunk(target, pid, args.chunks, args.baseline_streams, args.graph)
        folded = args.out.with_suffix(".folded")
        cmd = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--gil"]
        cmd += ["--rate", str(args.rate), "--format", "raw", "-o", str(folded)]
        spy = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        await asyncio.sleep(1.0)
        try:
            await cpu_per_chunk(target, pid, args.chunks, args.streams, args.graph)
        finally:
            spy.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(spy.communicate(), 30)
        if spy.returncode not in (0, -signal.SIGINT) or not folded.exists():
            raise RuntimeError(f"py-spy failed ({spy.returncode}): {err.decode()[-2000:]}")
        return baseline, folded
    finally:
        await target.close_client()


def report(baseline: float, folded: Path, top: int) -> str:
    """Components and leaf functions: share of samples and µs per chunk."""
    parts, leaves, total = analyze(folded)
    lines = [
        f"CPU per chunk without profiler: {baseline:.1f} µs; {total} GIL-holding samples",
        "",
        "| component | share | µs/chunk |",
        "|---|---|---|",
    ]
    small = 0
    for name, count in parts.most_common():
        share = count / total
        if share < 0.005:
            small += count
            continue
        lines.append(f"| {name} | {share:.1%} | {share * baseline:.1f} |")
    if small:
        share = small / total
        lines.append(f"| other (each < 0.5 %) | {share:.1%} | {share * baseline:.1f} |")
    lines += ["", "| function (self) | share | µs/chunk |", "|---|---|---|"]
    for name, count in leaves.most_common(top):
        share = count / total
        lines.append(f"| `{name}` | {share:.1%} | {share * baseline:.1f} |")
    return "\n".join(lines)


def main() -> None:
    """Start the servers, profile, print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument(
        "--variant",
        choices=("proxy", "mounted", "direct"),
        default="proxy",
        help="proxy: the standalone proxy; mounted / direct: the server under those streams",
    )
    parser.add_argument(
        "--graph",
        default=GRAPH,
        help=f"{GRAPH} (custom chunks) or {MESSAGES_GRAPH} (a chat model's tokens, messages mode)",
    )
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--streams", type=int, default=5, help="streams under the profiler")
    parser.add_argument("--baseline-streams", type=int, default=3)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--top", type=int, default=25, help="leaf functions to list")
    parser.add_argument("--out", type=Path, default=Path("/tmp/proxy-profile"))
    args = parser.parse_args()

    log_dir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    server = servers.langgraph_dev(log_dir, args.jobs)
    try:
        if args.variant == "mounted":
            target = Target("mounted", "openai", server.url + "/v1", server.pid)
            baseline, folded = asyncio.run(profile(target, server.pid, args))
        elif args.variant == "direct":
            target = Target("direct", "direct", server.url, server.pid)
            baseline, folded = asyncio.run(profile(target, server.pid, args))
        else:
            proxy = servers.standalone_proxy(log_dir, server.url, 1024)
            try:
                target = Target("proxy", "openai", proxy.url + "/v1", server.pid, proxy.pid)
                baseline, folded = asyncio.run(profile(target, proxy.pid, args))
            finally:
                proxy.stop()
    finally:
        server.stop()
    print(report(baseline, folded, args.top))
    print(f"\nfolded stacks: {folded} (open in speedscope.app or flamegraph.pl)")


if __name__ == "__main__":
    main()
