"""``docs/benchmark.md``: what ``make bench`` measures and how, then the run's own tables.

Written by every full run (``python -m bench`` with the default name); nobody edits it by hand,
so every figure in it comes from the run it describes.
"""

from __future__ import annotations

from pathlib import Path

from harness.servers import ROOT

DOC = ROOT / "docs" / "benchmark.md"

INTRO = """\
# Benchmark

*Written by `make bench` (`bench/`); do not edit by hand. Run it on an otherwise idle machine:
other processes' load shows in every figure (the report says how much there was).*

"What does the proxy cost me?" `make bench` starts `langgraph dev` as `make run` does (in
memory, same `JOBS`, proxy mounted) serving the `bench` graph (`harness/graphs/bench.py`: N
numbered chunks, no pacing), and measures three variants side by side, interleaved round by
round:

1. **direct**: `langgraph-sdk` `runs.stream` with the arguments the proxy itself sends: the
   limit;
2. **standalone proxy**: `python -m proxy` in front of that server, read with the `openai` SDK;
3. **mounted proxy**: `/v1` of the same server, read with the `openai` SDK.

Rows: time to first chunk (TTFC, p50/p99 of requests sent at random moments); chunks/s of one
long stream and its ratio to direct; CPU per chunk from `/proc` (the standalone proxy's own
process; the mounted proxy lives in the server's process, so its figure is the server's CPU per
chunk minus direct's); parallel streams (wall time, chunks/s, TTFC, errors); RSS idle and with
many streams open; what `PROXY_MAX_CONNECTIONS` does to many open streams. The in-memory run
queue polls for new runs every 0.5 s, which hides the proxy's own latency, so the TTFC rows are
measured again against `bench/fast_poll_server.py` (a benchmark-only launcher that shortens
that poll in its own process; `make run` never uses it), and there also with plain `httpx` as
the client, to tell the proxy's share from the `openai` SDK's. For the throughput rows, on a
machine with 2 or more CPUs, the LangGraph server is pinned to one CPU and the proxy and the
clients to the others, as if the server had a host of its own (`--no-pin` pins nothing).

Reproduce: `make bench` (the full run), `.venv/bin/python -m bench --quick`,
`.venv/bin/python -m bench --help` (rounds, levels, `--jobs`, `--only`, `--wait-idle`),
`.venv/bin/python -m bench.profile` (py-spy: the standalone proxy's CPU by part). Raw samples:
`bench/results/latest.json`.

## Latest run

"""


def publish(report: str, plot: Path | None) -> Path:
    """Write ``docs/benchmark.md`` from a full run's report (and its plot, if drawn)."""
    text = INTRO + report.rstrip() + "\n"
    if plot is not None:
        relative = plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot
        text += f"\n![TTFC and throughput by parallel streams](../{relative})\n"
    DOC.write_text(text)
    return DOC
