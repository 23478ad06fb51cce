"""Many clients at once: every client gets every chunk exactly once, in order, and every
stream completes (README, "Reliability").

The bench graph streams N numbered chunks (``"0 "``, ``"1 "``, ...) as fast as it can. The
fast variant (``make test``) runs 50 such streams at once through the session's servers; the
full one (``make load``) runs 200 through ``langgraph dev`` as ``make run`` starts it (its
default ``JOBS``) and with fewer jobs than clients, and prints the figures the README's table
reports.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from tests.servers import ROOT, Server, start_langgraph, start_proxy


def make_run_jobs() -> int:
    """The Makefile's default ``JOBS``: what ``make run`` gives ``--n-jobs-per-worker``."""
    found = re.search(r"^JOBS \?= (\d+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found, "no 'JOBS ?= N' in the Makefile"
    return int(found.group(1))


MAKE_RUN_JOBS = make_run_jobs()


@dataclass
class Stream:
    """What one client saw."""

    numbers: list[int] = field(default_factory=list)
    first_byte: float | None = None
    first_chunk: float | None = None
    finished: bool = False
    done: bool = False
    error: str | None = None


async def stream_chunks(client: httpx.AsyncClient, url: str, chunks: int, start: float) -> Stream:
    """One streaming completion of the bench graph, read and checked line by line."""
    seen = Stream()
    body = {
        "model": "bench",
        "stream": True,
        "messages": [{"role": "user", "content": str(chunks)}],
    }
    try:
        async with client.stream("POST", url + "/chat/completions", json=body) as response:
            if response.status_code != 200:
                seen.error = f"HTTP {response.status_code}: {(await response.aread())[:200]!r}"
                return seen
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if seen.first_byte is None:
                    seen.first_byte = time.monotonic() - start
                if line == "data: [DONE]":
                    seen.done = True
                    continue
                chunk = orjson.loads(line[6:])
                if "error" in chunk:
                    seen.error = str(chunk["error"])
                    continue
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    if seen.first_chunk is None:
                        seen.first_chunk = time.monotonic() - start
                    # a burst's chunks share one delta (PROXY_MERGE_DELTAS): "7 8 9 "
                    seen.numbers.extend(int(number) for number in text.split())
                if choice["finish_reason"] == "stop":
                    seen.finished = True
    except httpx.HTTPError as exc:
        seen.error = repr(exc)
    return seen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Figures:
    """One load run, as the README reports it."""

    clients: int
    chunks: int
    wall: float
    streams: list[Stream]

    @property
    def errors(self) -> list[str]:
        return [s.error or "incomplete" for s in self.streams if s.error or not s.done]

    def line(self, label: str) -> str:
        """The figures as one line."""
        first_byte = [s.first_byte for s in self.streams if s.first_byte is not None]
        first_chunk = [s.first_chunk for s in self.streams if s.first_chunk is not None]
        total = sum(len(s.numbers) for s in self.streams)
        complete = sum(s.done and s.finished for s in self.streams)
        return (
            f"{label}: {self.clients} clients x {self.chunks} chunks, "
            f"complete {complete}/{self.clients}, errors {len(self.errors)}, "
            f"wall {self.wall:.2f}s, {total / self.wall:,.0f} chunks/s, "
            f"first byte p50/p99 {_p(first_byte, 0.5)}/{_p(first_byte, 0.99)}s, "
            f"first chunk p50/p99 {_p(first_chunk, 0.5)}/{_p(first_chunk, 0.99)}s"
        )


def _p(values: list[float], share: float) -> str:
    return f"{percentile(values, share):.2f}" if values else "-"


async def load(url: str, clients: int, chunks: int) -> Figures:
    """``clients`` streams at once; returns what each one saw."""
    limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120), limits=limits) as client:
        start = time.monotonic()
        streams = await asyncio.wait_for(
            asyncio.gather(*(stream_chunks(client, url, chunks, start) for _ in range(clients))),
            timeout=600,
        )
        wall = time.monotonic() - start
    return Figures(clients, chunks, wall, list(streams))


def assert_integrity(figures: Figures) -> None:
    """Every client: every chunk exactly once and in order, a finish, ``[DONE]``, no error."""
    assert not figures.errors, figures.errors[:5]
    expected = list(range(figures.chunks))
    for index, stream in enumerate(figures.streams):
        assert stream.numbers == expected, (
            f"client {index}: {len(stream.numbers)} chunks, out of order or lost"
        )
        assert stream.finished and stream.done, f"client {index} did not finish"


# --- fast: make test ----------------------------------------------------------------------


async def test_concurrent_streams_lose_nothing(proxy_url: str) -> None:
    figures = await load(proxy_url, clients=50, chunks=100)
    assert_integrity(figures)


# --- full: make load ----------------------------------------------------------------------


FEWER_JOBS = 64
LOADS = {MAKE_RUN_JOBS: 500, FEWER_JOBS: 100}
"""``JOBS`` -> chunks per stream: ``make run``'s default, and fewer jobs than clients. With 64
jobs, 136 of the 200 runs wait in the queue, and a queued run's client gets no byte until its
run starts: those streams are kept short so that the last ones start within a minute or so."""


@pytest.fixture(scope="module", params=list(LOADS), ids=lambda jobs: f"jobs{jobs}")
def load_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, Server, Server]]:
    """``langgraph dev`` with ``JOBS`` runs at once, and a standalone proxy in front of it."""
    logs: Path = tmp_path_factory.mktemp(f"load-jobs{request.param}")
    langgraph = start_langgraph(logs / "langgraph.log", jobs=request.param)
    proxy = start_proxy(logs / "proxy.log", langgraph.url)
    yield request.param, langgraph, proxy
    proxy.stop()
    langgraph.stop()


@pytest.mark.load
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", ["mounted", "standalone"])
async def test_200_concurrent_streams(
    load_servers: tuple[int, Server, Server], mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs, langgraph, proxy = load_servers
    url = (langgraph.url if mode == "mounted" else proxy.url) + "/v1"
    await load(url, clients=10, chunks=10)  # warm-up: imports, caches, connections
    figures = await load(url, clients=200, chunks=LOADS[jobs])
    with capsys.disabled():
        print(f"\n{figures.line(f'{mode}, JOBS={jobs}')}")  # noqa: T201
    assert_integrity(figures)
