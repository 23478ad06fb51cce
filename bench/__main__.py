"""``python -m bench`` (``make bench``): run, then print and save the report and the plot."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.config import PHASES, RESULTS, parse_args
from bench.machine import describe
from bench.plot import plot
from bench.procstat import busy_cores, machine_busy_seconds, self_cpu_seconds
from bench.publish import publish
from bench.report import render
from bench.run import Raw, run
from bench.summary import summarize
from harness.servers import ROOT


def _raw_json(raw: Raw) -> dict[str, Any]:
    """Every sample, for whoever wants to look again (``<name>.raw.json``, not committed)."""
    plain: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(raw), default=str))
    return plain


IDLE_CORES = 0.3


def background_load(wait: float) -> float:
    """Busy cores before we start; waits (at most ``wait`` s) for them to drop below 0.3."""
    deadline = time.monotonic() + wait
    while True:
        busy = busy_cores(3.0)
        if busy < IDLE_CORES or time.monotonic() >= deadline:
            break
        print(f"bench: machine busy ({busy:.2f} cores), waiting", flush=True)
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
    if busy >= IDLE_CORES:
        print(f"bench: warning: {busy:.2f} cores busy before start; figures will suffer")
    return busy


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark the command line describes."""
    config = parse_args(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    print(f"bench: server logs in {log_dir}", flush=True)
    busy = background_load(config.wait_idle)
    started = time.perf_counter()
    machine = describe(ROOT) | {"busy_cores_before": busy}
    busy_before, self_before = machine_busy_seconds(), self_cpu_seconds()
    raw = run(config, log_dir)
    wall = time.perf_counter() - started
    ours = sum(servers.CPU_USED) + self_cpu_seconds() - self_before
    machine["load_after"] = round(os.getloadavg()[0], 2)
    if raw.layout:
        machine["layout"] = raw.layout
    machine["others_cores_during"] = round((machine_busy_seconds() - busy_before - ours) / wall, 2)
    summary = summarize(config, raw, machine)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    report = render(summary)
    config.out.mkdir(parents=True, exist_ok=True)
    base = config.out / config.name
    base.with_suffix(".md").write_text(report)
    base.with_suffix(".json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    (config.out / f"{config.name}.raw.json").write_text(json.dumps(_raw_json(raw)) + "\n")
    drawn = plot(summary, base.with_suffix(".png"))
    print()
    print(report)
    saved = [base.with_suffix(".md"), base.with_suffix(".json")]
    if drawn:
        saved.append(base.with_suffix(".png"))
    full = set(config.phases) == set(PHASES) and not config.quick
    if config.name == "latest" and config.out == RESULTS and full:
        saved.append(publish(report, base.with_suffix(".png") if drawn else None))
    print(f"saved {', '.join(map(str, saved))} in {summary['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
