"""Benchmark how fast the CLIs answer ``--help`` and refuse bad input (exit 2 or 4).

    hatch run bench:cli [--runs N]

Each command runs as a whole process, N times after one warm-up run (bytecode cached, as on a
user's machine), in a fresh ZenML store; prints the median wall time beside the floor of the same
interpreter, ``python -c pass``, and their ratio. The tests check what the CLIs say; how fast they
say it is measured here, not asserted in a test. A missing file, target or id column is found
before the heavy imports; a model missing from the store needs ZenML's client.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall_times(command: list[str], runs: int, env: dict[str, str], expected_exit: int) -> list[float]:
    """Wall seconds of ``runs`` runs of ``command``, after a warm-up; fails on another exit code."""
    times = []
    for run in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != expected_exit:
            raise subprocess.CalledProcessError(done.returncode, command)
        if run:
            times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    runs = parser.parse_args().runs
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ZENML_CONFIG_PATH=str(folder / "zenml"), ZENML_ANALYTICS_OPT_IN="false")
    missing, no_target = folder / "missing.csv", folder / "no_target.csv"
    no_target.write_text("a,b\n1,2\n3,4\n")
    train, infer = str(BIN / "e2e-train"), str(BIN / "e2e-infer")
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "e2e-train --help": ([train, "--help"], 0),
        "e2e-infer --help": ([infer, "--help"], 0),
        "train: missing file": ([train, "--data", str(missing)], 2),
        "train: no target": ([train, "--data", str(no_target)], 2),
        "infer: missing file": ([infer, "--data", str(missing)], 2),
        "infer: no id column": ([infer, "--data", str(no_target), "--id-column", "key"], 2),
        "infer: no model": ([infer, "--data", str(no_target), "--model-name", "absent"], 4),
    }
    print(f"{sys.executable} (Python {sys.version.split()[0]}), median of {runs} runs after a warm-up")
    print(f"{'':22} {'median s':>9} {'min s':>7} {'max s':>7} {'ratio':>8}")
    floor = None
    try:
        for label, (command, expected_exit) in commands.items():
            try:
                times = wall_times(command, runs, env, expected_exit)
            except subprocess.CalledProcessError as failed:
                print(f"{label} exited {failed.returncode}, expected {expected_exit}", file=sys.stderr)
                return 1
            median = statistics.median(times)
            floor = floor or median
            print(f"{label:22} {median:9.3f} {min(times):7.3f} {max(times):7.3f} {median / floor:7.1f}x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("ratio: median wall time / python -c pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
