"""The measurements, each interleaving the variants round by round (the order rotates).

Every function returns plain data (lists of samples); :mod:`bench.summary` turns them into
figures. CPU is read from ``/proc`` around each measured stream or burst, after a short
settle so the run's own bookkeeping on the server is counted with it.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from bench.clients import GRAPH, StreamResult, Target
from bench.procstat import cpu_seconds, rss_bytes, self_cpu_seconds

SETTLE = 0.15
"""Seconds to let the server finish a run's bookkeeping before CPU is read."""


def rotated(targets: list[Target], round_index: int) -> list[Target]:
    """The variants in the order of this round (each goes first as often as the others)."""
    shift = round_index % len(targets)
    return targets[shift:] + targets[:shift]


@dataclass
class Cpu:
    """CPU seconds of the server, the standalone proxy (if any) and this client process."""

    server: float
    proxy: float | None
    client: float

    @classmethod
    def read(cls, target: Target) -> Cpu:
        """A snapshot for ``target``'s processes."""
        proxy = cpu_seconds(target.proxy_pid) if target.proxy_pid else None
        return cls(cpu_seconds(target.server_pid), proxy, self_cpu_seconds())

    def __sub__(self, other: Cpu) -> Cpu:
        """The CPU used between two snapshots."""
        proxy = None
        if self.proxy is not None and other.proxy is not None:
            proxy = self.proxy - other.proxy
        return Cpu(self.server - other.server, proxy, self.client - other.client)


async def warm_up(targets: list[Target]) -> None:
    """Imports, caches (models, schemas) and connection pools, before anything is measured."""
    for target in targets:
        for _ in range(2):
            await target.stream(10)
        await asyncio.gather(*(target.stream(10) for _ in range(10)))
    await asyncio.sleep(SETTLE)


async def ttfc_rounds(
    targets: list[Target], rounds: int, chunks: int, poll_seconds: float, seed: int
) -> dict[str, list[StreamResult]]:
    """One short stream per variant per round, each after a random pause.

    The pause (uniform in ``[0, poll_seconds)``) makes requests arrive at random points of the
    run queue's poll cycle, as users do; back-to-back requests would lock onto it.
    """
    rng = random.Random(seed)
    results: dict[str, list[StreamResult]] = {t.name: [] for t in targets}
    for index in range(rounds):
        for target in rotated(targets, index):
            await asyncio.sleep(rng.uniform(0, poll_seconds))
            results[target.name].append(await target.stream(chunks))
    return results


@dataclass
class Throughput:
    """One long stream: its chunks, timing and the CPU every process spent on it."""

    result: StreamResult
    cpu: Cpu


async def throughput_rounds(
    targets: list[Target], rounds: int, chunks: int, graph: str = GRAPH
) -> dict[str, list[Throughput]]:
    """One ``chunks``-chunk stream of ``graph`` per variant per round, with the CPU it cost."""
    results: dict[str, list[Throughput]] = {t.name: [] for t in targets}
    for index in range(rounds):
        for target in rotated(targets, index):
            before = Cpu.read(target)
            result = await target.stream(chunks, graph=graph)
            await asyncio.sleep(SETTLE)
            results[target.name].append(Throughput(result, Cpu.read(target) - before))
    return results


@dataclass
class Burst:
    """``streams`` parallel streams started at once."""

    streams: int
    wall: float
    results: list[StreamResult]
    cpu: Cpu


async def burst(target: Target, streams: int, chunks: int) -> Burst:
    """Start ``streams`` streams together; wall time is until the last one ends."""
    before = Cpu.read(target)
    start = time.perf_counter()
    results = await asyncio.gather(*(target.stream(chunks) for _ in range(streams)))
    wall = time.perf_counter() - start
    await asyncio.sleep(SETTLE)
    return Burst(streams, wall, list(results), Cpu.read(target) - before)


async def concurrency_rounds(
    targets: list[Target],
    levels: list[int],
    rounds: int,
    chunks: int,
    poll_seconds: float,
    seed: int,
) -> dict[str, dict[int, list[Burst]]]:
    """For each round and level, one burst per variant, each after a random pause."""
    rng = random.Random(seed)
    results: dict[str, dict[int, list[Burst]]] = {t.name: {n: [] for n in levels} for t in targets}
    for index in range(rounds):
        for level in levels:
            for target in rotated(targets, index):
                await asyncio.sleep(rng.uniform(0, poll_seconds))
                results[target.name][level].append(await burst(target, level, chunks))
    return results


@dataclass
class Hold:
    """``streams`` streams held open (their runs are silent) while RSS is sampled."""

    streams: int
    seconds: float
    idle_rss: dict[str, int]
    peak_rss: dict[str, int]
    opened: list[float] = field(default_factory=list)  # seconds to headers / first event
    errors: list[str] = field(default_factory=list)


async def hold(target: Target, pids: dict[str, int], streams: int, seconds: float) -> Hold:
    """Open ``streams`` streams whose runs stay silent ``seconds``; sample the RSS of ``pids``.

    RSS is sampled every 50 ms until half a second before the runs would speak; then the
    streams are closed (which cancels their runs). A stream that failed by then (e.g. a pool
    timeout in the proxy) counts as an error.
    """
    idle = {name: rss_bytes(pid) for name, pid in pids.items()}
    peak = dict(idle)
    start = time.perf_counter()
    opened: list[float] = []

    def on_open() -> None:
        opened.append(time.perf_counter() - start)

    context = {"silence": seconds}
    tasks = [
        asyncio.create_task(target.stream(1, context=context, on_open=on_open))
        for _ in range(streams)
    ]
    deadline = start + seconds - 0.5
    while time.perf_counter() < deadline:
        for name, pid in pids.items():
            peak[name] = max(peak[name], rss_bytes(pid))
        await asyncio.sleep(0.05)
    seen = list(opened)
    done = [task.result() for task in tasks if task.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(1.0)  # let the cancelled runs go
    errors = [result.error for result in done if result.error]
    return Hold(streams, seconds, idle, peak, seen, errors)
