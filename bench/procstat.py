"""CPU time and resident memory of a process, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of every thread of ``pid`` so far (``/proc/<pid>/stat``)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # after "pid (comm) ", field 3 (state) is index 0: utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (``/proc/<pid>/statm``)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


def self_cpu_seconds() -> float:
    """CPU seconds of this (the client) process."""
    times = os.times()
    return times.user + times.system


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICKS


def busy_cores(seconds: float = 3.0) -> float:
    """Cores kept busy on the whole machine over the next ``seconds``."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return round((machine_busy_seconds() - before) / seconds, 2)
