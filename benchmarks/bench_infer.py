"""Benchmark ``e2e-infer`` against the hand-written floor, as whole processes, in one run.

    hatch run bench:infer --rows 1000000

Uses the version at the stage of a private bench store (trains one with ``--no-hp-tuning`` if
there is none), generates the rows once, warms both commands up once on 1,000 rows (so neither
pays for compiling bytecode), then times the floor script and ``e2e-infer`` with the drift check
on, and prints wall time, rows/s and peak memory of both and their ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from generate import generate_rows
from measure import Measurement, measure

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
BIN = Path(sys.executable).parent


def bench_environment(store: Path) -> dict[str, str]:
    """The bench's own ZenML store; bytecode caching on, as on a user's machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "ZENML_CONFIG_PATH": str(store), "ZENML_ANALYTICS_OPT_IN": "false"}


def ensure_promoted_version(env: dict[str, str], model_name: str, config: Path | None) -> None:
    """Train and promote a version when the bench store has none at staging."""
    probe = [sys.executable, "-c", f"from e2e_common.registry import version_at_stage as v; v({model_name!r}, 'staging')"]
    if subprocess.run(probe, env=env, capture_output=True).returncode == 0:
        return
    print("no promoted version in the bench store: training one (e2e-train --no-hp-tuning)", flush=True)
    command = [str(BIN / "e2e-train"), "--no-hp-tuning", "--model-name", model_name]
    if config is not None:
        command += ["--config", str(config)]
    subprocess.run(command, env=env, check=True)


def export_version(env: dict[str, str], model_name: str, folder: Path) -> tuple[Path, Path]:
    preprocess, model = folder / "preprocess_pipeline.joblib", folder / "model.joblib"
    command = [sys.executable, str(HERE / "export_version.py"), model_name, "staging", str(preprocess), str(model)]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return preprocess, model


def report(rows: int, floor: Measurement, project: Measurement) -> str:
    lines = [
        f"rows: {rows:,}",
        f"{'':12} {'wall s':>8} {'rows/s':>12} {'peak RSS MB':>12}",
    ]
    for item in (floor, project):
        lines.append(
            f"{item.label:12} {item.wall_seconds:8.2f} {item.rows_per_second(rows):12,.0f} "
            f"{item.peak_rss_bytes / 1e6:12,.0f}"
        )
    lines.append(
        f"{'ratio':12} {project.wall_seconds / floor.wall_seconds:7.2f}x {'':12} "
        f"{project.peak_rss_bytes / floor.peak_rss_bytes:11.2f}x   (e2e-infer / floor)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="rows to score")
    parser.add_argument("--model-name", default="e2e_bench")
    parser.add_argument("--train-config", type=Path, default=None, help="--config for e2e-train if it must train")
    parser.add_argument("--store", type=Path, default=RESULTS / "zenml", help="the bench's ZenML store")
    args, infer_args = parser.parse_known_args()
    args.infer_args = infer_args

    env = bench_environment(args.store)
    data_dir = RESULTS / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_promoted_version(env, args.model_name, args.train_config)
    preprocess, model = export_version(env, args.model_name, data_dir)
    rows_file = data_dir / f"rows_{args.rows}.parquet"
    if not rows_file.exists():
        print(f"generating {args.rows:,} rows -> {rows_file}", flush=True)
        generate_rows(args.rows, rows_file)

    floor_output, project_output = data_dir / "floor_out.parquet", data_dir / "e2e_out.parquet"

    def floor_command(rows: Path) -> list[str]:
        return [sys.executable, str(HERE / "floor_infer.py"), str(preprocess), str(model), str(rows), str(floor_output)]

    def project_command(rows: Path) -> list[str]:
        return [
            str(BIN / "e2e-infer"), "--model-name", args.model_name, "--data", str(rows),
            "--output", str(project_output), "--no-cache", *args.infer_args,
        ]

    warm_up = data_dir / "warm_up.parquet"
    if not warm_up.exists():
        generate_rows(1000, warm_up)
    for command in (floor_command(warm_up), project_command(warm_up)):
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    for stale in (floor_output, project_output):
        stale.unlink(missing_ok=True)
    floor = measure("floor", floor_command(rows_file), env=env, log_path=str(RESULTS / "floor.log"))
    project = measure("e2e-infer", project_command(rows_file), env=env, log_path=str(RESULTS / "e2e-infer.log"))
    for item in (floor, project):
        if item.returncode != 0:
            print(f"{item.label} failed with exit code {item.returncode}; see {RESULTS}/*.log", file=sys.stderr)
            return 1
    print(report(args.rows, floor, project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
