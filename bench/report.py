"""The markdown report: printed, saved as ``<name>.md``, and a full run's in docs/benchmark.md."""

from __future__ import annotations

from typing import Any

from bench.summary import LABELS


def fmt(value: Any, digits: int = 1) -> str:
    """A number for a table cell: thousands separated, ``—`` when not measured."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _errors(row: dict[str, Any]) -> str:
    """An error count with its kinds, e.g. ``100 InternalServerError 503``."""
    return f"{row['errors']} {', '.join(row['error_kinds'])}".strip()


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return lines


def machine_line(machine: dict[str, Any]) -> str:
    """One line: hardware, OS, Python, the packages that matter, commit, date."""
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}, Python {machine['python']}; {packages}; "
        f"commit {machine['commit']}; {machine['date']}. Other processes kept "
        f"{machine.get('busy_cores_before', 0):.2f} cores busy just before the run and "
        f"{machine.get('others_cores_during', 0):.2f} on average during it."
    )


def single_table(single: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """TTFC (default and fast-poll server), throughput, CPU per chunk, per variant."""
    header = [
        "variant",
        "TTFC p50 ms",
        "TTFC p99 ms",
        f"TTFC p50 ms, {config['fast_poll_ms']:g} ms poll",
        "p99",
        "added p50 ms (paired)",
        f"chunks/s, N={config['chunks']:,}",
        "ratio to direct",
        "proxy CPU µs/chunk",
        "server CPU µs/chunk",
        "client CPU µs/chunk",
        "errors",
    ]
    rows = []
    for name in single:
        row = single[name]
        ttfc, fast, thr = row.get("ttfc", {}), row.get("fast_ttfc", {}), row.get("throughput", {})
        added = None
        if "added_p50_ms" in fast:
            added = f"{fmt(fast['added_p50_ms'], 2)} ({fmt(fast['added_paired_ms'], 2)})"
        rows.append(
            [
                LABELS[name],
                ttfc.get("p50_ms"),
                ttfc.get("p99_ms"),
                fast.get("p50_ms"),
                fast.get("p99_ms"),
                added,
                thr.get("chunks_per_s"),
                fmt(thr.get("ratio", 1.0 if name == "direct" and thr else None), 2),
                thr.get("proxy_cpu_us"),
                thr.get("server_cpu_us"),
                thr.get("client_cpu_us"),
                sum(part.get("errors", 0) for part in (ttfc, fast, thr)),
            ]
        )
    return table(header, rows)


def messages_table(rows: dict[str, Any]) -> list[str]:
    """A chat model's tokens (``messages`` mode) against the custom path, per variant."""
    header = [
        "variant",
        "tokens/s",
        "ratio to direct",
        "proxy CPU µs/token",
        "over its CPU per custom chunk",
        "server CPU µs/token",
        "client CPU µs/token",
        "errors",
    ]
    return table(
        header,
        [
            [
                row["label"],
                row["chunks_per_s"],
                row.get("ratio", 1.0 if name == "direct" else None),
                row.get("proxy_cpu_us"),
                row.get("per_custom_chunk"),
                row["server_cpu_us"],
                row["client_cpu_us"],
                row["errors"],
            ]
            for name, row in rows.items()
        ],
    )


def concurrency_table(rows: list[dict[str, Any]]) -> list[str]:
    """Wall time, aggregate rate, TTFC and errors per JOBS, level and variant."""
    header = [
        "jobs",
        "streams",
        "variant",
        "wall s",
        "chunks/s",
        "TTFC p50 ms",
        "TTFC p99 ms",
        "errors",
        "server CPU µs/chunk",
        "proxy CPU µs/chunk",
    ]
    body = [
        [
            r["jobs"],
            r["streams"],
            LABELS[r["variant"]],
            r["wall_s"],
            r["chunks_per_s"],
            r["ttfc_p50_ms"],
            r["ttfc_p99_ms"],
            _errors(r),
            r["server_cpu_us"],
            r["proxy_pid_cpu_us"],
        ]
        for r in rows
    ]
    return table(header, body)


def memory_table(memory: dict[str, Any]) -> list[str]:
    """RSS idle and with the streams open."""
    names = {
        "proxy": "standalone proxy (its pid)",
        "server": "LangGraph server, same streams (= direct)",
        "server_mounted": "LangGraph server, streams through the mounted proxy",
    }
    rows = [
        [label, m["idle_mib"], m["peak_mib"], m["streams"], m["opened"], m["per_stream_kib"]]
        for key, label in names.items()
        if (m := memory.get(key))
    ]
    header = ["process", "idle RSS MiB", "peak RSS MiB", "streams", "opened", "KiB/stream"]
    return table(header, rows)


def connections_table(rows: list[dict[str, Any]]) -> list[str]:
    """Open streams through proxies with different connection limits."""
    header = ["PROXY_MAX_CONNECTIONS", "streams", "opened", "errors", "open p50 ms", "open max ms"]
    body = [
        [
            r["max_connections"],
            r["streams"],
            r["opened"],
            _errors(r),
            r["open_p50_ms"],
            r["open_max_ms"],
        ]
        for r in rows
    ]
    return table(header, body)


def targets_table(targets: list[dict[str, Any]]) -> list[str]:
    """The issue's targets and whether this run met them."""
    body = []
    for t in targets:
        measured = fmt(t["measured"], 2)
        if "errors" in t:
            measured += f" ({t['errors']} errors)"
        body.append([t["target"], LABELS[t["variant"]], measured, t["goal"], t["met"]])
    return table(["target", "variant", "measured", "goal", "met"], body)


def render(summary: dict[str, Any]) -> str:
    """The whole report."""
    config = summary["config"]
    minutes = summary.get("total_s", 0) / 60
    lines = [
        f"Machine: {machine_line(summary['machine'])}",
        "",
        f"Server: `langgraph dev` (in-memory), `--n-jobs-per-worker {config['jobs'][0]}`, "
        f"graph `bench` (N chunks, no pacing). Run: `python -m bench"
        f"{' --quick' if config['quick'] else ''}`, {minutes:.1f} min.",
    ]
    if layout := summary["machine"].get("layout"):
        lines += ["", f"CPUs of the throughput rows: {layout}; the other rows are not pinned."]
    if any(v.get("ttfc") or v.get("throughput") for v in summary["single"].values()):
        lines += [
            "",
            f"**One stream.** TTFC: {config['rounds']} runs per variant "
            f"({config['fast_rounds']} on the fast-poll server), {config['ttfc_chunks']} chunks, "
            f"request to first chunk, variants interleaved. Throughput: median of "
            f"{config['throughput_rounds']} streams, first to last chunk. CPU: /proc, summed "
            "over those streams; the mounted proxy's CPU is its server's minus direct's.",
            "",
            *single_table(summary["single"], config),
        ]
    if summary.get("messages"):
        lines += [
            "",
            f"**Messages mode.** The same {config['chunks']:,} numbers as a chat model's tokens "
            "(`bench-messages`: a LangChain chat model streaming through LangGraph's `messages` "
            "mode, which sends a metadata dict with every token), read as above: median of "
            f"{config['throughput_rounds']} streams; the last column but two compares the proxy's "
            "CPU per token with its CPU per custom chunk in the throughput rows of this run.",
            "",
            *messages_table(summary["messages"]),
        ]
    if summary["concurrency"]:
        lines += [
            "",
            f"**Parallel streams**, {config['burst_chunks']} chunks each, started together: "
            f"median wall time of {config['concurrency_rounds']} bursts, chunks/s = all chunks "
            "/ wall, TTFC over every stream.",
            "",
            *concurrency_table(summary["concurrency"]),
        ]
    if summary["memory"]:
        lines += [
            "",
            f"**Memory**, {config['hold_streams']} streams open at once (runs silent "
            f"{config['hold_seconds']:g} s) on the fast-poll server with jobs = "
            f"{max(config['jobs'][0], config['hold_streams'])} (every stream really open), a "
            "fresh server each: peak RSS while open minus idle RSS. The mounted proxy's share of "
            "its server's RSS cannot be told apart: two fresh servers differ by more.",
            "",
            *memory_table(summary["memory"]),
        ]
    if len(summary["connections"]) > 1:
        lines += [
            "",
            f"**Connection limit**: {config['hold_streams']} streams open "
            f"{config['hold_seconds']:g} s through a standalone proxy (pool timeout 5 s).",
            "",
            *connections_table(summary["connections"]),
        ]
    if summary["targets"]:
        lines += [
            "",
            "**Targets** (reported, not asserted)",
            "",
            *targets_table(summary["targets"]),
        ]
    return "\n".join(lines) + "\n"
