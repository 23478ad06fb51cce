"""The run: which servers are up for which measurements, in which order.

1. ``langgraph dev`` as ``make run`` starts it (``--n-jobs-per-worker`` = the first JOBS,
   proxy mounted) and the standalone proxy in front of it: time to first chunk, throughput,
   concurrency.
2. For every further JOBS value: a fresh server and proxy, concurrency rows only.
3. The fast-poll server (bench/fast_poll_server.py; jobs = max(JOBS, held streams), so every
   held stream is really open): the standalone proxy's memory and connection limits with the
   streams held open, then time to first chunk without the 0.5 s queue poll.
4. A fresh fast-poll server: the same streams held open through the mounted proxy (the
   server's memory with the proxy in it, to compare with 3; not in ``--quick``).

Only one server (with its proxy) runs at a time, so they never compete for the 2 cores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import servers
from bench.clients import MESSAGES_GRAPH, StreamResult, Target
from bench.config import Config
from bench.measure import (
    Burst,
    Hold,
    Throughput,
    concurrency_rounds,
    hold,
    throughput_rounds,
    ttfc_rounds,
    warm_up,
)

QUEUE_POLL = 0.5
"""``langgraph_runtime_inmem``'s run-queue poll, in seconds."""

Work = Callable[[list[Target]], Awaitable[None]]


@dataclass
class Raw:
    """Every sample of a run, as measured."""

    ttfc: dict[str, list[StreamResult]] = field(default_factory=dict)
    fast_ttfc: dict[str, list[StreamResult]] = field(default_factory=dict)
    throughput: dict[str, list[Throughput]] = field(default_factory=dict)
    messages: dict[str, list[Throughput]] = field(default_factory=dict)
    """The throughput rows again, through a chat model's tokens (``messages`` mode)."""
    concurrency: dict[int, dict[str, dict[int, list[Burst]]]] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    connections: dict[int, Hold] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    layout: str = ""
    """Where the throughput rows ran (:func:`bench.servers.pinned`)."""


def make_targets(
    server: servers.Server, proxy: servers.Server, *, raw: bool = False
) -> list[Target]:
    """The three variants against one server (and the proxies read with plain httpx)."""
    targets = [
        Target("direct", "direct", server.url, server.pid),
        Target("proxy", "openai", proxy.url + "/v1", server.pid, proxy.pid),
        Target("mounted", "openai", server.url + "/v1", server.pid),
    ]
    if raw:
        targets += [
            Target("proxy_raw", "raw", proxy.url + "/v1", server.pid, proxy.pid),
            Target("mounted_raw", "raw", server.url + "/v1", server.pid),
        ]
    return targets


async def with_clients(targets: list[Target], work: Work) -> None:
    """Open the variants' SDK clients, warm up, run ``work``, close the clients."""
    for target in targets:
        target.open_client()
    try:
        await warm_up(targets)
        await work(targets)
    finally:
        for target in targets:
            await target.close_client()


def timed(raw: Raw, name: str, started: float) -> None:
    """Note how long a part of the run took."""
    raw.durations[name] = round(time.perf_counter() - started, 1)
    print(f"  {name}: {raw.durations[name]:.0f} s", flush=True)


@contextmanager
def phase(raw: Raw, name: str) -> Iterator[None]:
    """Print and time one measurement."""
    print(f"  {name} ...", flush=True)
    started = time.perf_counter()
    yield
    timed(raw, name, started)


def session(
    raw: Raw,
    title: str,
    start_server: Callable[[], servers.Server],
    config: Config,
    log_dir: Path,
    work: Work,
    variants: tuple[str, ...] = ("direct", "proxy", "mounted"),
) -> None:
    """Start a server and a standalone proxy in front of it, run ``work``, stop both."""
    started = time.perf_counter()
    print(f"{title} ...", flush=True)
    server = start_server()
    try:
        proxy = servers.standalone_proxy(log_dir, server.url, config.max_connections[0])
        try:
            targets = make_targets(server, proxy, raw=True)
            asyncio.run(with_clients([t for t in targets if t.name in variants], work))
        finally:
            proxy.stop()
    finally:
        server.stop()
    timed(raw, title, started)


def main_server(config: Config, raw: Raw, log_dir: Path) -> None:
    """Phase 1: everything measured against the server ``make run`` would start."""

    async def work(targets: list[Target]) -> None:
        if "ttfc" in config.phases:
            with phase(raw, f"time to first chunk x{config.rounds}"):
                raw.ttfc = await ttfc_rounds(
                    targets, config.rounds, config.ttfc_chunks, QUEUE_POLL, config.seed
                )
        proxies = [t.proxy_pid for t in targets if t.proxy_pid is not None]
        if "throughput" in config.phases:
            with (
                phase(raw, f"throughput x{config.throughput_rounds}"),
                servers.pinned(config.pin, targets[0].server_pid, proxies) as layout,
            ):
                raw.layout = layout
                raw.throughput = await throughput_rounds(
                    targets, config.throughput_rounds, config.chunks
                )
        if "messages" in config.phases:
            with (
                phase(raw, f"messages-mode throughput x{config.throughput_rounds}"),
                servers.pinned(config.pin, targets[0].server_pid, proxies) as layout,
            ):
                raw.layout = layout
                raw.messages = await throughput_rounds(
                    targets, config.throughput_rounds, config.chunks, MESSAGES_GRAPH
                )
        if "concurrency" in config.phases:
            await _concurrency(config, raw, targets, config.main_jobs)

    title = f"langgraph dev, jobs={config.main_jobs}"
    start = lambda: servers.langgraph_dev(log_dir, config.main_jobs)  # noqa: E731
    session(raw, title, start, config, log_dir, work)


async def _concurrency(config: Config, raw: Raw, targets: list[Target], jobs: int) -> None:
    levels = ",".join(map(str, config.levels))
    with phase(raw, f"concurrency {levels} x{config.concurrency_rounds}"):
        raw.concurrency[jobs] = await concurrency_rounds(
            targets,
            list(config.levels),
            config.concurrency_rounds,
            config.burst_chunks,
            QUEUE_POLL,
            config.seed,
        )


def other_jobs(config: Config, raw: Raw, log_dir: Path, jobs: int) -> None:
    """Phase 2: concurrency rows against a server with another jobs-per-worker."""

    async def work(targets: list[Target]) -> None:
        await _concurrency(config, raw, targets, jobs)

    title = f"langgraph dev, jobs={jobs}"
    session(raw, title, lambda: servers.langgraph_dev(log_dir, jobs), config, log_dir, work)


def fast_poll(config: Config, raw: Raw, log_dir: Path) -> None:
    """Phases 3 and 4: memory and connection limits, and TTFC without the queue poll."""
    jobs = max(config.main_jobs, config.hold_streams if "memory" in config.phases else 0)

    def start() -> servers.Server:
        return servers.fast_poll_server(log_dir, jobs, config.fast_poll_ms)

    async def work(targets: list[Target]) -> None:
        direct, proxy = targets[0], targets[1]
        if "memory" in config.phases:
            with phase(raw, f"{config.hold_streams} open streams, standalone proxy"):
                pids = {"proxy": proxy.proxy_pid or 0, "server": direct.server_pid}
                raw.holds["proxy"] = await hold(
                    proxy, pids, config.hold_streams, config.hold_seconds
                )
                raw.connections[config.max_connections[0]] = raw.holds["proxy"]
            for limit in config.max_connections[1:]:
                with phase(raw, f"{config.hold_streams} open streams, max_connections={limit}"):
                    raw.connections[limit] = await _hold_with_limit(config, direct, limit, log_dir)
        if "fast" in config.phases:
            with phase(raw, f"time to first chunk x{config.fast_rounds}"):
                raw.fast_ttfc = await ttfc_rounds(
                    targets,
                    config.fast_rounds,
                    config.ttfc_chunks,
                    config.fast_poll_ms / 1000,
                    config.seed,
                )

    async def mounted(targets: list[Target]) -> None:
        with phase(raw, f"{config.hold_streams} open streams, mounted proxy"):
            pids = {"server": targets[0].server_pid}
            raw.holds["mounted"] = await hold(
                targets[0], pids, config.hold_streams, config.hold_seconds
            )

    title = f"fast-poll server, poll={config.fast_poll_ms:g} ms, jobs={jobs}"
    everything = ("direct", "proxy", "mounted", "proxy_raw", "mounted_raw")
    session(raw, title, start, config, log_dir, work, everything)
    if "memory" in config.phases and not config.quick:
        session(raw, f"{title} (fresh)", start, config, log_dir, mounted, ("mounted",))


async def _hold_with_limit(config: Config, direct: Target, limit: int, log_dir: Path) -> Hold:
    """Open streams through a proxy with ``PROXY_MAX_CONNECTIONS=limit``."""
    proxy = await asyncio.to_thread(servers.standalone_proxy, log_dir, direct.url, limit)
    target = Target(f"proxy-{limit}", "openai", proxy.url + "/v1", direct.server_pid, proxy.pid)
    target.open_client()
    try:
        await warm_up([target])
        pids = {"proxy": proxy.pid}
        return await hold(target, pids, config.hold_streams, config.hold_seconds)
    finally:
        await target.close_client()
        await asyncio.to_thread(proxy.stop)


def run(config: Config, log_dir: Path) -> Raw:
    """All phases the config asks for."""
    raw = Raw()
    if {"ttfc", "throughput", "messages", "concurrency"} & set(config.phases):
        main_server(config, raw, log_dir)
    if "concurrency" in config.phases:
        for jobs in config.jobs[1:]:
            other_jobs(config, raw, log_dir, jobs)
    if {"memory", "fast"} & set(config.phases):
        fast_poll(config, raw, log_dir)
    return raw
