"""Many clients at once: every client gets every chunk exactly once, in order, and every
stream completes (README, "Reliability").

The bench graph streams N numbered chunks (``"0 "``, ``"1 "``, ...) as fast as it can. The
fast variant (``make test``) runs 50 such streams at once through the session's servers; the
full one (``make load``) runs 200 through ``langgraph dev`` as ``make run`` starts it (its
default ``JOBS``) and with fewer jobs than clients, prints its figures and writes them to
``docs/load.md``.
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

from harness.servers import ROOT, Server, start_langgraph, start_proxy


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

    def cells(self) -> list[str]:
        """The figures as table cells (see :data:`LOAD_DOC`)."""
        first_byte = [s.first_byte for s in self.streams if s.first_byte is not None]
        first_chunk = [s.first_chunk for s in self.streams if s.first_chunk is not None]
        total = sum(len(s.numbers) for s in self.streams)
        complete = sum(s.done and s.finished for s in self.streams)
        return [
            f"{self.clients} x {self.chunks}",
            f"{complete}/{self.clients}",
            str(len(self.errors)),
            f"{self.wall:.1f} s",
            f"{_p(first_byte, 0.5)} / {_p(first_byte, 0.99)} s",
            f"{_p(first_chunk, 0.5)} / {_p(first_chunk, 0.99)} s",
            f"{total / self.wall:,.0f}",
        ]

    def line(self, label: str) -> str:
        """The figures as one line."""
        return f"{label}: " + ", ".join(self.cells())


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


LOAD_DOC = ROOT / "docs" / "load.md"
LOAD_HEADER = """\
# Load

*Written by `make load` (`tests/integration_tests/test_load.py`); do not edit by hand.*

200 streams at once through the proxy, every client checked: every chunk exactly once and in
order, every stream finished with `[DONE]`, no error (the test fails otherwise). Time to first
byte (headers and the role chunk, sent once LangGraph accepted the run) and to first chunk
count from the moment all requests were sent. With fewer jobs than clients, the runs beyond
them wait in the queue, and their clients get headers and pings but no content: the first-chunk
p99 is the queue. Throughput is the in-memory server's on this machine, not the proxy's alone
(`make bench` compares the two); the mounted proxy shares the server's process.

| setup | streams x chunks | complete | errors | wall | first byte p50 / p99 \
| first chunk p50 / p99 | chunks/s |
| --- | --- | --- | --- | --- | --- | --- | --- |
"""
LOAD_ROWS: list[str] = []
"""This run's rows, written to :data:`LOAD_DOC` when the module ends."""

FEWER_JOBS = 64
LOADS = {MAKE_RUN_JOBS: 500, FEWER_JOBS: 100}
"""``JOBS`` -> chunks per stream: ``make run``'s default, and fewer jobs than clients. With 64
jobs, 136 of the 200 runs wait in the queue, and a queued run's client gets no byte until its
run starts: those streams are kept short so that the last ones start within a minute or so."""


@pytest.fixture(scope="module", autouse=True)
def load_doc() -> Iterator[None]:
    """Write the rows of a ``make load`` run to ``docs/load.md`` (only a full run has rows)."""
    yield
    if len(LOAD_ROWS) == 2 * len(LOADS):
        LOAD_DOC.write_text(LOAD_HEADER + "\n".join(LOAD_ROWS) + "\n")


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
    label = f"`make run JOBS={jobs}`, {mode}"
    with capsys.disabled():
        print(f"\n{figures.line(label)}")  # noqa: T201
    assert_integrity(figures)
    LOAD_ROWS.append("| " + " | ".join([label, *figures.cells()]) + " |")
