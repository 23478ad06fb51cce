"""The PNG: time to first chunk and throughput by concurrency, proxy vs direct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

from bench.summary import LABELS, VARIANTS

COLORS = {"direct": "tab:blue", "proxy": "tab:orange", "mounted": "tab:green"}


def plot(summary: dict[str, Any], path: Path) -> bool:
    """Write the plot; False if there are no concurrency rows to draw."""
    rows = summary["concurrency"]
    if not rows:
        return False
    main_jobs = summary["config"]["jobs"][0]
    all_jobs = sorted({r["jobs"] for r in rows})
    panels = 3 if len(all_jobs) > 1 else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2))
    ttfc_ax, rate_ax = axes[0], axes[1]
    for name in VARIANTS:
        mine = sorted(
            (r for r in rows if r["variant"] == name and r["jobs"] == main_jobs),
            key=lambda r: r["streams"],
        )
        if not mine:
            continue
        streams = [r["streams"] for r in mine]
        color = COLORS[name]
        ttfc_ax.plot(
            streams,
            [r["ttfc_p99_ms"] for r in mine],
            "o-",
            color=color,
            label=f"{LABELS[name]} p99",
        )
        ttfc_ax.plot(
            streams,
            [r["ttfc_p50_ms"] for r in mine],
            "o--",
            color=color,
            alpha=0.6,
            label=f"{LABELS[name]} p50",
        )
        rate_ax.plot(
            streams, [r["chunks_per_s"] for r in mine], "o-", color=color, label=LABELS[name]
        )
    ttfc_ax.set(
        xscale="log", yscale="log", xlabel="parallel streams", ylabel="time to first chunk (ms)"
    )
    ttfc_ax.set_title(f"Time to first chunk (jobs={main_jobs})")
    rate_ax.set(xscale="log", xlabel="parallel streams", ylabel="chunks/s (all streams)")
    rate_ax.set_title(f"Throughput (jobs={main_jobs})")
    rate_ax.set_ylim(bottom=0)
    levels = sorted({r["streams"] for r in rows})
    for ax in (ttfc_ax, rate_ax):
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(levels, [str(n) for n in levels])
    ttfc_ax.legend(fontsize=7)
    rate_ax.legend(fontsize=7)
    if panels == 3:
        _jobs_panel(axes[2], rows, all_jobs)
    single = summary["single"]
    rates = [single[n].get("throughput", {}).get("chunks_per_s") for n in VARIANTS]
    if all(rates):
        note = "one 5,000-chunk stream: " + ", ".join(
            f"{n} {r:,.0f}/s" for n, r in zip(VARIANTS, rates, strict=True)
        )
        fig.text(0.5, 0.005, note, ha="center", fontsize=8)
    fig.suptitle(f"langgraph-openai-proxy vs direct SDK — {summary['machine']['date']}")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _jobs_panel(ax: Any, rows: list[dict[str, Any]], all_jobs: list[int]) -> None:
    """Wall time of the largest burst, by server jobs per worker."""
    top = max(r["streams"] for r in rows)
    width = 0.8 / len(VARIANTS)
    for offset, name in enumerate(VARIANTS):
        walls = [
            next(
                (
                    r["wall_s"]
                    for r in rows
                    if r["variant"] == name and r["jobs"] == j and r["streams"] == top
                ),
                0,
            )
            for j in all_jobs
        ]
        xs = [i + offset * width for i in range(len(all_jobs))]
        ax.bar(xs, walls, width, color=COLORS[name], label=LABELS[name])
    ax.set_xticks([i + width for i in range(len(all_jobs))], [str(j) for j in all_jobs])
    ax.set(xlabel="--n-jobs-per-worker", ylabel="wall time (s)")
    ax.set_title(f"{top} parallel streams by jobs")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
