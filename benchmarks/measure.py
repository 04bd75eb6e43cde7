"""Run a command as a whole process and measure its wall time and peak memory (process tree)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass

import psutil

SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Measurement:
    """Wall time and peak resident memory of one process tree."""

    label: str
    wall_seconds: float
    peak_rss_bytes: int
    returncode: int

    def rows_per_second(self, rows: int) -> float:
        return rows / self.wall_seconds if self.wall_seconds else float("inf")


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def measure(label: str, command: list[str], env: dict[str, str] | None = None, log_path: str | None = None) -> Measurement:
    """Run ``command``; its peak memory is the larger of the sampled process-tree RSS and the
    kernel's high-water mark of the process (and of the children it waited for)."""
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    watched = psutil.Process(child.pid)
    peak = 0
    while True:
        finished, status, usage = os.wait4(child.pid, os.WNOHANG)
        if finished == child.pid:
            break
        with contextlib.suppress(psutil.Error):
            peak = max(peak, tree_rss(watched))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if log_path:
        log.close()
    return Measurement(label, wall, max(peak, usage.ru_maxrss * 1024), child.returncode)


ROWS_HEADER = f"{'':14} {'rows':>12} {'wall s':>8} {'rows/s':>12} {'peak RSS MB':>12}"


def row_line(rows: int, item: Measurement) -> str:
    """One measurement of a run over ``rows`` rows, under ``ROWS_HEADER``; a failed run says its exit code."""
    failed = "" if item.returncode == 0 else f"  (exit {item.returncode})"
    return (
        f"{item.label:14} {rows:>12,} {item.wall_seconds:8.2f} {item.rows_per_second(rows):12,.0f} "
        f"{item.peak_rss_bytes / 1e6:12,.0f}{failed}"
    )
