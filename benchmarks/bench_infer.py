"""Benchmark ``e2e-infer`` against its baselines, as whole processes, every figure from one run.

    hatch run bench:infer                                  # 1,000 and 1,000,000 rows
    hatch run bench:infer --sizes 1000 1000000 10000000    # and the 10M-row figures
    hatch run bench:infer --s3                             # and 1M rows from and to an S3 server
    hatch run bench:infer -- --partitions 2                # arguments after -- go to e2e-infer
    hatch run bench:infer --code-from /tmp/before          # e2e-infer of another checkout (before/after)

Baselines, measured in the same run on the same store:

- the fixed cost: a trivial two-step ZenML pipeline (``floor_zenml.py``) against ``e2e-infer`` on
  the smallest size;
- the cost per row: a hand-written script (``floor_infer.py``: read Parquet, numpy preprocessing,
  the version's estimator class and hyperparameters fitted by ``floor_model.py``, predict, write the
  same output columns) against ``e2e-infer``, as the difference between the largest and the
  smallest size;
- at the largest size, wall time and peak memory of both.

Uses the version at staging of a private bench store (trains one with ``e2e-train`` if there is
none), generates the rows once, warms every command up once on 1,000 rows (bytecode compiled, as on
a user's machine), then times each command once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from measure import ROWS_HEADER, Measurement, measure, row_line

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
BIN = Path(sys.executable).parent
FIXED_COST_TARGET = 1.2
PER_ROW_TARGET = 1.5
LARGE_TIME_TARGET = 1.2
LARGE_MEMORY_LIMIT = 2e9
SMALL_REPEATS = 3


def median_of(runs: list[Measurement]) -> Measurement:
    return sorted(runs, key=lambda m: m.wall_seconds)[len(runs) // 2]


def bench_environment(store: Path) -> dict[str, str]:
    """The bench's own ZenML store; bytecode caching on, as on a user's machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "ZENML_CONFIG_PATH": str(store), "ZENML_ANALYTICS_OPT_IN": "false"}


def ensure_promoted_version(env: dict[str, str], model_name: str, train_args: list[str]) -> None:
    """Train and promote a version when the bench store has none at staging."""
    probe = [sys.executable, "-c", f"from e2e_common.registry import version_at_stage as v; v({model_name!r}, 'staging')"]
    if subprocess.run(probe, env=env, capture_output=True).returncode == 0:
        return
    command = [str(BIN / "e2e-train"), "--model-name", model_name, *train_args]
    print(f"no promoted version in the bench store: training one ({' '.join(command[1:])})", flush=True)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def build_floor_model(env: dict[str, str], model_name: str, bundle: Path) -> str:
    command = [sys.executable, str(HERE / "floor_model.py"), model_name, "staging", str(bundle)]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout.strip()


def verdict(ratio: float, target: float) -> str:
    return f"target <= {target}x: {'met' if ratio <= target else 'missed'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000], help="row counts to score")
    parser.add_argument("--model-name", default="e2e_bench")
    parser.add_argument("--store", type=Path, default=RESULTS / "zenml", help="the bench's ZenML store")
    parser.add_argument(
        "--train-args", default="", help="arguments for e2e-train when the store has no version (default: its search)"
    )
    parser.add_argument(
        "--s3", action="store_true", help="also 1,000,000 rows read from and written to an S3 server (bench_s3.py)"
    )
    parser.add_argument(
        "--code-from", type=Path, help="run e2e-infer from the packages of this checkout (a git worktree)"
    )
    args, infer_args = parser.parse_known_args()
    infer_args = [a for a in infer_args if a != "--"]
    sizes = sorted(set(args.sizes))

    env = bench_environment(args.store)
    data_dir = RESULTS / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_promoted_version(env, args.model_name, args.train_args.split())
    bundle = data_dir / "floor_model.joblib"
    print(f"floor model: {build_floor_model(env, args.model_name, bundle)}", flush=True)
    files = {}
    for rows in sorted({1000, *sizes, *([1_000_000] if args.s3 else [])}):
        files[rows] = data_dir / f"rows_{rows}.parquet"
        if not files[rows].exists():
            print(f"generating {rows:,} rows -> {files[rows]}", flush=True)
            # In a process of its own: a child's peak memory counts its parent's at the fork.
            generate = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--output", str(files[rows])]
            subprocess.run(generate, env=env, check=True)

    floor_output, project_output = data_dir / "floor_out.parquet", data_dir / "e2e_out.parquet"
    trivial = [sys.executable, str(HERE / "floor_zenml.py")]

    def floor_command(rows: int) -> list[str]:
        return [sys.executable, str(HERE / "floor_infer.py"), str(bundle), str(files[rows]), str(floor_output)]

    e2e_infer, project_env = [str(BIN / "e2e-infer")], env
    if args.code_from:
        sources = [str(args.code_from.resolve() / "packages" / p / "src") for p in ("e2e-common", "e2e-inference")]
        project_env = {**env, "PYTHONPATH": os.pathsep.join([*sources, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        launcher = RESULTS / "e2e_infer_from_checkout.py"  # a file: ZenML needs the main module's source root
        launcher.write_text("from e2e_inference.cli import main\n\nmain()\n")
        e2e_infer = [sys.executable, str(launcher)]

    def project_command(rows: int) -> list[str]:
        return [
            *e2e_infer, "--model-name", args.model_name, "--data", str(files[rows]),
            "--output", str(project_output), "--no-cache", *infer_args,
        ]

    for command in (trivial, floor_command(1000), project_command(1000)):
        project_output.unlink(missing_ok=True)
        run_env = project_env if command[: len(e2e_infer)] == e2e_infer else env
        subprocess.run(command, env=run_env, check=True, stdout=subprocess.DEVNULL, cwd=RESULTS)
    results: dict[tuple[str, int], Measurement] = {}
    # The fixed cost is a difference of seconds: the trivial pipeline and both commands on the smallest
    # size run SMALL_REPEATS times in turns, and their medians are compared.
    small, large = sizes[0], sizes[-1]
    repeats: dict[str, list[Measurement]] = {"zenml 2-step": [], "script": [], "e2e-infer": []}
    for turn in range(SMALL_REPEATS):
        for label, command, run_env in (
            ("zenml 2-step", trivial, env), ("script", floor_command(small), env),
            ("e2e-infer", project_command(small), project_env),
        ):
            floor_output.unlink(missing_ok=True)
            project_output.unlink(missing_ok=True)
            log = str(RESULTS / f"{label.replace(' ', '_')}_{small}_{turn}.log")
            repeats[label].append(measure(label, command, env=run_env, log_path=log))
    baseline = median_of(repeats["zenml 2-step"])
    results["script", small], results["e2e-infer", small] = median_of(repeats["script"]), median_of(repeats["e2e-infer"])
    for rows in sizes[1:]:
        for label, command, run_env in (
            ("script", floor_command(rows), env), ("e2e-infer", project_command(rows), project_env)
        ):
            floor_output.unlink(missing_ok=True)
            project_output.unlink(missing_ok=True)
            results[label, rows] = measure(label, command, env=run_env, log_path=str(RESULTS / f"{label}_{rows}.log"))
    failed = [item for item in [*(m for ms in repeats.values() for m in ms), *results.values()] if item.returncode != 0]
    for item in failed:
        print(f"{item.label} failed with exit code {item.returncode}; see {RESULTS}/*.log", file=sys.stderr)
    if failed:
        return 1

    print(ROWS_HEADER)
    spread = ", ".join(f"{m.wall_seconds:.2f}" for m in repeats["zenml 2-step"])
    print(f"{baseline.label:14} {'-':>12} {baseline.wall_seconds:8.2f} {'':>12} {baseline.peak_rss_bytes / 1e6:12,.0f}  (runs: {spread})")
    for rows in sizes:
        for label in ("script", "e2e-infer"):
            runs = f"  (runs: {', '.join(f'{m.wall_seconds:.2f}' for m in repeats[label])})" if rows == small else ""
            print(row_line(rows, results[label, rows]) + runs)
    fixed = results["e2e-infer", small].wall_seconds / baseline.wall_seconds
    print(
        f"fixed cost: e2e-infer on {small:,} rows {results['e2e-infer', small].wall_seconds:.2f} s / trivial ZenML "
        f"pipeline {baseline.wall_seconds:.2f} s = {fixed:.2f}x ({verdict(fixed, FIXED_COST_TARGET)}; medians)"
    )
    for rows in sizes[1:]:
        project_delta = results["e2e-infer", rows].wall_seconds - results["e2e-infer", small].wall_seconds
        floor_delta = results["script", rows].wall_seconds - results["script", small].wall_seconds
        per_row = project_delta / floor_delta if floor_delta > 0 else float("inf")
        print(
            f"cost of {rows - small:,} more rows: e2e-infer {project_delta:.2f} s / script {floor_delta:.2f} s "
            f"= {per_row:.2f}x ({verdict(per_row, PER_ROW_TARGET)})"
        )
    if large > small:
        time_ratio = results["e2e-infer", large].wall_seconds / results["script", large].wall_seconds
        memory_ratio = results["e2e-infer", large].peak_rss_bytes / results["script", large].peak_rss_bytes
        peak = results["e2e-infer", large].peak_rss_bytes
        print(
            f"at {large:,} rows: time e2e-infer / script = {time_ratio:.2f}x ({verdict(time_ratio, LARGE_TIME_TARGET)}); "
            f"memory {memory_ratio:.2f}x; e2e-infer peak {peak / 1e9:.2f} GB "
            f"(limit {LARGE_MEMORY_LIMIT / 1e9:.0f} GB: {'met' if peak < LARGE_MEMORY_LIMIT else 'missed'})"
        )
    if args.s3:
        from bench_s3 import s3_rows

        local, remote, lines = s3_rows(
            env, args.model_name, files[1_000_000], 1_000_000, infer_args, warm_up=files[1000]
        )
        print("\n".join(lines))
        if remote.returncode != 0 or local.returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
