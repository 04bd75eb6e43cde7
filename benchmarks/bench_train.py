"""Benchmark ``e2e-train`` on the default data against a hand-written script doing the same work.

    hatch run bench:train

Both run as whole processes in one go; prints wall times, their ratio, and e2e-train's per-step
times from its ZenML run, so it is clear what dominates.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import measure

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
BIN = Path(sys.executable).parent
PACKAGE_CONFIG = HERE.parent / "packages" / "e2e-training" / "src" / "e2e_training" / "config" / "default.yaml"

STEP_TIMES = """
from zenml.client import Client
run = Client().list_pipeline_runs(sort_by="desc:created", size=1).items[0]
for name, step in sorted(run.steps.items(), key=lambda item: item[1].start_time):
    print(f"  {name:34} {(step.end_time - step.start_time).total_seconds():7.2f} s")
print(f"  {'pipeline run (first step to last)':34} {(run.end_time - run.start_time).total_seconds():7.2f} s")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    store = Path(tempfile.mkdtemp(prefix="bench-train-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ZENML_CONFIG_PATH=str(store), ZENML_ANALYTICS_OPT_IN="false")
    floor = measure(
        "floor", [sys.executable, str(HERE / "floor_train.py"), str(PACKAGE_CONFIG)], env=env,
        log_path=str(RESULTS / "floor_train.log"),
    )
    warmup = [str(BIN / "e2e-train"), "--help"]
    subprocess.run(warmup, env=env, check=True, stdout=subprocess.DEVNULL)
    project = measure(
        "e2e-train", [str(BIN / "e2e-train"), "--no-cache"], env=env, log_path=str(RESULTS / "e2e-train.log")
    )
    for item in (floor, project):
        if item.returncode != 0:
            print(f"{item.label} failed with exit code {item.returncode}; see {RESULTS}", file=sys.stderr)
            return 1
    print("floor (hand-written sklearn script):")
    print(Path(RESULTS / "floor_train.log").read_text().rstrip())
    print("e2e-train steps:")
    subprocess.run([sys.executable, "-c", STEP_TIMES], env=env, check=True)
    print(f"{'':12} {'wall s':>8} {'peak RSS MB':>12}")
    for item in (floor, project):
        print(f"{item.label:12} {item.wall_seconds:8.2f} {item.peak_rss_bytes / 1e6:12,.0f}")
    print(f"{'ratio':12} {project.wall_seconds / floor.wall_seconds:7.2f}x "
          f"{project.peak_rss_bytes / floor.peak_rss_bytes:11.2f}x   (e2e-train / floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
