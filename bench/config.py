"""The run's size and shape, from the command line (``python -m bench --help``)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"
PHASES = ("memory", "ttfc", "throughput", "messages", "concurrency", "fast")

FULL = {
    "rounds": 30,
    "fast_rounds": 60,
    "throughput_rounds": 5,
    "chunks": 5000,
    "levels": "1,10,50,200",
    "burst_chunks": 100,
    "concurrency_rounds": 2,
    "hold_streams": 200,
    "hold_seconds": 8.0,
    "max_connections": "1024,100",
}
QUICK = {
    "rounds": 6,
    "fast_rounds": 20,
    "throughput_rounds": 1,
    "chunks": 5000,
    "levels": "1,10,50",
    "burst_chunks": 100,
    "concurrency_rounds": 1,
    "hold_streams": 50,
    "hold_seconds": 3.0,
    "max_connections": "1024",
}


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know; see ``--help`` for each field."""

    rounds: int
    fast_rounds: int
    fast_poll_ms: float
    ttfc_chunks: int
    chunks: int
    throughput_rounds: int
    levels: tuple[int, ...]
    burst_chunks: int
    concurrency_rounds: int
    jobs: tuple[int, ...]
    max_connections: tuple[int, ...]
    hold_streams: int
    hold_seconds: float
    phases: tuple[str, ...]
    wait_idle: float
    seed: int
    out: Path
    name: str
    quick: bool
    pin: bool = True

    @property
    def main_jobs(self) -> int:
        """The server's jobs per worker for everything but the extra concurrency rows."""
        return self.jobs[0]


def make_run_jobs() -> int:
    """``make run``'s ``JOBS ?= N`` (the Makefile is the one place it is set); 256 if absent."""
    match = re.search(r"^JOBS \?= (\d+)", MAKEFILE.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 256


def _ints(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> Config:
    """Parse the command line; ``--quick`` changes the defaults of the flags not given."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="What the proxy costs: direct langgraph-sdk vs standalone vs mounted proxy.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="a short run (~2 min): fewer rounds and levels")
    add("--rounds", type=int, help="time-to-first-chunk rounds, default server (full: 30)")
    add("--fast-rounds", type=int, help="time-to-first-chunk rounds, fast-poll server (60)")
    add("--fast-poll-ms", type=float, default=1.0, help="fast-poll server's queue poll (1)")
    add("--ttfc-chunks", type=int, default=10, help="chunks per time-to-first-chunk run (10)")
    add("--chunks", type=int, help="chunks of the throughput stream (5000)")
    add("--throughput-rounds", type=int, help="throughput streams per variant (5)")
    add("--levels", help="parallel streams per burst, comma-separated (1,10,50,200)")
    add("--burst-chunks", type=int, help="chunks per stream in a burst (100)")
    add("--concurrency-rounds", type=int, help="bursts per level and variant (2)")
    add(
        "--n-jobs-per-worker",
        "--jobs",
        dest="jobs",
        default=str(make_run_jobs()),
        help="server jobs per worker; the first serves every row, more values add "
        "concurrency rows (e.g. 256,10,64); default: make run's JOBS",
    )
    add(
        "--max-connections",
        help="standalone proxy PROXY_MAX_CONNECTIONS; the first serves every row, more "
        "values add open-stream rows (1024,100)",
    )
    add("--hold-streams", type=int, help="streams held open for the RSS row (200)")
    add("--hold-seconds", type=float, help="how long they stay open; > 5 s pool timeout (8)")
    add("--only", default=",".join(PHASES), help=f"phases to run, from {','.join(PHASES)}")
    add(
        "--wait-idle",
        type=float,
        default=0.0,
        help="wait up to this many seconds for the machine to be idle (< 0.3 busy cores)",
    )
    add(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="throughput rows: pin the LangGraph server to one CPU, the proxy and clients to "
        "the others (needs 2+ CPUs; --no-pin lets the OS place them)",
    )
    add("--seed", type=int, default=5, help="seed of the random pauses")
    add("--out", type=Path, default=RESULTS, help="results directory (bench/results)")
    add("--name", default="latest", help="results file name (latest -> latest.md/json/png)")
    args = parser.parse_args(argv)

    preset = QUICK if args.quick else FULL
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    phases = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return Config(
        rounds=args.rounds,
        fast_rounds=args.fast_rounds,
        fast_poll_ms=args.fast_poll_ms,
        ttfc_chunks=args.ttfc_chunks,
        chunks=args.chunks,
        throughput_rounds=args.throughput_rounds,
        levels=_ints(args.levels),
        burst_chunks=args.burst_chunks,
        concurrency_rounds=args.concurrency_rounds,
        jobs=_ints(args.jobs),
        max_connections=_ints(args.max_connections),
        hold_streams=args.hold_streams,
        hold_seconds=args.hold_seconds,
        phases=phases,
        wait_idle=args.wait_idle,
        seed=args.seed,
        out=args.out,
        name=args.name,
        quick=args.quick,
        pin=args.pin,
    )
