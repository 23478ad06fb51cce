"""A benchmark-only ``langgraph dev``: the in-memory run queue polls every few ms, not 0.5 s.

``langgraph_runtime_inmem.ops.Runs.next(wait=True)`` sleeps 0.5 s before it looks for
pending runs, and only takes runs created before that sleep began: a new run waits 0.5-1 s
for a worker. That wait hides the proxy's own latency, so the time-to-first-chunk rows are
measured a second time against this server. The patch is applied in this process only, before
the server starts; the product (``make run``) never uses it.

Usage: ``python -m bench.fast_poll_server --port P --jobs J --poll-ms 1``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


def shorten_queue_poll(poll_seconds: float) -> None:
    """Make ``Runs.next`` sleep ``poll_seconds`` and then see every run created until then."""
    from langgraph_runtime_inmem import ops  # no langgraph_api import: its config is unread

    original = ops.Runs.next

    async def next_run(wait: bool, limit: int = 1) -> AsyncIterator[Any]:
        if wait:
            await asyncio.sleep(poll_seconds)
        async for item in original(False, limit):  # wait=False: sleep(0), then look
            yield item

    ops.Runs.next = staticmethod(next_run)


def main() -> None:
    """Patch, then start the server the way ``langgraph dev --no-reload`` does."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--poll-ms", type=float, default=1.0)
    args = parser.parse_args()

    shorten_queue_poll(args.poll_ms / 1000)
    from langgraph_api.cli import run_server

    # started in a working directory of its own (harness.servers.own_workdir), whose
    # langgraph.json adds the benchmark's graphs to the deployment's
    workdir = Path.cwd()
    config = json.loads((workdir / "langgraph.json").read_text())
    sys.path.append(str(workdir))
    run_server(
        "127.0.0.1",
        args.port,
        False,
        config.get("graphs", {}),
        n_jobs_per_worker=args.jobs,
        open_browser=False,
        env=config.get("env"),
        store=config.get("store"),
        auth=config.get("auth"),
        http=config.get("http"),
        ui=config.get("ui"),
        webhooks=config.get("webhooks"),
        checkpointer=config.get("checkpointer"),
        disable_persistence=True,
    )


if __name__ == "__main__":
    main()
