"""Benchmark how fast ``e2e-train --help`` and ``e2e-infer --help`` answer.

    hatch run bench:cli [--runs N]

Each command runs as a whole process, N times after one warm-up run (bytecode cached, as on a
user's machine); prints the median wall time beside the floor of the same interpreter,
``python -c pass``, and their ratio. The tests check what ``--help`` says; how fast it says it
is measured here, not asserted in a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall_times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall seconds of ``runs`` runs of ``command``, after a warm-up; fails if one fails."""
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "e2e-train --help": [str(BIN / "e2e-train"), "--help"],
        "e2e-infer --help": [str(BIN / "e2e-infer"), "--help"],
    }
    print(f"{sys.executable} (Python {sys.version.split()[0]}), median of {runs} runs after a warm-up")
    print(f"{'':18} {'median s':>9} {'min s':>7} {'max s':>7} {'ratio':>8}")
    floor = None
    for label, command in commands.items():
        try:
            times = wall_times(command, runs, env)
        except subprocess.CalledProcessError as failed:
            print(f"{label} failed with exit code {failed.returncode}", file=sys.stderr)
            return 1
        median = statistics.median(times)
        floor = floor or median
        print(f"{label:18} {median:9.3f} {min(times):7.3f} {max(times):7.3f} {median / floor:7.1f}x")
    print("ratio: median wall time / python -c pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
