"""``e2e-train``: settings, a cheap check of the input, one pipeline run, and what to look at.

ZenML, MLflow and scikit-learn are imported only after the settings parsed, so ``--help`` is fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from e2e_common.contract import MODEL_DESCRIPTION
from e2e_common.errors import QualityGateError, UsageError, find_e2e_error, run_cli
from e2e_training.names import METADATA_METRICS, METADATA_PROMOTION, METADATA_SELECTION, TRAINING_PIPELINE
from e2e_training.settings import (
    DataOptions,
    GateOptions,
    PreprocessingOptions,
    PromotionOptions,
    SearchOptions,
    SplitOptions,
    TrainingSettings,
)

if TYPE_CHECKING:
    import pandas as pd

    from e2e_common.schemas import DataContract
    from e2e_common.stack import StackInfo

PROGRAM = "e2e-train"
STEPS_BESIDES_SEARCH = 9  # load, split, preprocess, select, train, describe, evaluate, promote, summarize
STEP_FAILURE_LOGGERS = ("zenml.orchestrators.local.local_orchestrator",)
MLFLOW_TRACKER_LOGGER = "zenml.integrations.mlflow.experiment_trackers.mlflow_experiment_tracker"
HARMLESS_WARNINGS = ("Failed to disable MLflow autologging",)


def main() -> None:
    """Console script ``e2e-train``."""
    argv = sys.argv[1:]
    parsed: list[TrainingSettings] = []

    def debug() -> bool:
        return parsed[0].debug if parsed else "--debug" in argv

    run_cli(lambda: train(argv, parsed.append), debug)


def train(argv: Sequence[str], on_settings: Any = None) -> int:
    """Run the training pipeline once with the settings of ``argv``; print the outcome."""
    settings = TrainingSettings.from_cli(argv, prog=PROGRAM)
    if on_settings is not None:
        on_settings(settings)
    from e2e_common.runtime import configure_runtime, release_zenml_log_store

    configure_runtime(settings.debug)
    from e2e_training.data import check_file

    check_file(DataOptions.of(settings))
    frame, rules = check_input(settings)
    settings = settings_for_task(settings, rules)
    if not settings.debug:
        leave_stderr_to_errors()
    try:
        return train_checked(settings, frame, rules)
    finally:
        from e2e_training.search import stop_search_workers

        stop_search_workers()
        release_zenml_log_store()


def train_checked(settings: TrainingSettings, frame: pd.DataFrame, rules: DataContract) -> int:
    """Run the pipeline on input that passed the checks; print the outcome."""
    from e2e_common.servers import check_tracking_server
    from e2e_common.stack import ensure_embedded_stack
    from e2e_common.stores import check_tracking_store

    stack = ensure_embedded_stack()
    check_tracking_server()
    check_tracking_store(stack.mlflow_tracking_uri)
    if settings.data is not None:
        from e2e_common.remote import input_for_steps

        # An orchestrator that runs steps elsewhere reads a local --data file from the artifact store.
        settings = settings.model_copy(update={"data": input_for_steps(settings.data, settings.max_upload_bytes, print)})
    check_promotion_target(settings, rules)
    run_name = f"{TRAINING_PIPELINE}-{datetime.now():%Y_%m_%d-%H_%M_%S_%f}"
    print(f"Training model '{settings.model_name}' on stack '{stack.name}': run {run_name}", flush=True)
    try:
        run_training(settings, stack, frame, run_name, rules.task.value)
    except BaseException as exc:
        discard_failed_version(settings.model_name, run_name, exc)
        raise
    print_outcome(settings, stack, run_name)
    return 0


def check_input(settings: TrainingSettings) -> tuple[pd.DataFrame, DataContract]:
    """Read and check the data, the task's settings and the search space before anything is run; the
    data read and its data contract (whose task the run trains for).

    Prints a ``warning:`` line per column left out of the features or encoded with a bound, and for
    rows left out because their target is missing.
    """
    from e2e_training import data, screening, search, split

    options = DataOptions.of(settings)
    checked = data.load_training_table(options)
    frame = checked.frame
    rules = data.derive_contract(frame, options.target, options.drop_columns, options.task)
    check_task_settings(settings, rules, frame)
    warnings = [*checked.warnings(), *screening.data_warnings(frame, rules, PreprocessingOptions.of(settings).max_categories)]
    unlabelled = split.rows_without_target(frame, rules.target)
    if unlabelled:
        warnings.append(f"{unlabelled} of {len(frame)} rows have no value in the target column '{rules.target}'; they are left out")
    for line in warnings:
        print(f"warning: {line}", flush=True)
    train_rows, _ = split.prepare_splits(frame, rules, SplitOptions.of(settings))
    search.check_search(
        SearchOptions.of(settings),
        train_rows[rules.target],
        folds_configured="cv_folds" in settings.model_fields_set,
        task=rules.task.value,
    )
    return frame, rules


def check_task_settings(settings: TrainingSettings, rules: DataContract, frame: pd.DataFrame) -> None:
    """UsageError (exit 2) for settings that do not fit the data's task: a metric of the other task, an
    error limit (``--max-rmse``...) for a classification, ``mape`` for a target that holds 0."""
    from e2e_training import metrics

    task = rules.task.value
    if "metric" in settings.model_fields_set:
        mismatch = metrics.task_mismatch(settings.metric, task)
        if mismatch is not None:
            raise UsageError(f"{mismatch} ({rules.task_reason}; --task sets it)")
    gates = GateOptions.of(settings)
    limits = gates.error_limits()
    if limits and not rules.is_regression:
        flags = ", ".join(flag for flag, _ in limits.values())
        verb = "applies" if len(limits) == 1 else "apply"
        raise UsageError(f"{flags} only {verb} to a regression, and this target is a classification ({rules.task_reason})")
    floors = [flag for flag, value in (("--min-train-score", gates.min_train_score), ("--min-test-score", gates.min_test_score)) if value is not None]
    if floors and rules.is_regression and "metric" not in settings.model_fields_set:
        raise UsageError(
            f"{' and '.join(floors)} are in the units of --metric, and this target is a regression ({rules.task_reason}): "
            "pass --metric rmse, mae, r2 or mape with it, or use --max-rmse, --max-mae, --max-mape, --min-r2"
        )
    uses_mape = settings.metric == "mape" and "metric" in settings.model_fields_set
    if rules.is_regression and (uses_mape or "mape" in limits):
        import pandas as pd

        zeros = int((pd.to_numeric(frame[rules.target], errors="coerce") == 0).sum())
        if zeros:
            raise UsageError(
                f"mape divides by the target, and {zeros} rows have a target of 0; use --metric rmse or mae "
                "(or --max-rmse, --max-mae)"
            )


def settings_for_task(settings: TrainingSettings, rules: DataContract) -> TrainingSettings:
    """The settings with the task's default metric when --metric was not given (rmse for a regression)."""
    from e2e_training import metrics

    if "metric" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"metric": metrics.default_metric(rules.task.value)})


def check_promotion_target(settings: TrainingSettings, rules: DataContract) -> None:
    """Exit 2 before the pipeline starts when the version at the target stage is of another task (a
    regressor never replaces a classifier, nor the reverse), or, unless ``--promotion latest``, was
    trained on data with another data contract (target, classes or feature columns)."""
    from e2e_common.registry import version_at_stage_or_none
    from e2e_training import promote

    options = PromotionOptions.of(settings)
    current = version_at_stage_or_none(settings.model_name, options.target_env)
    if current is not None:
        promote.check_comparable(settings.model_name, options, rules, current)


def run_training(settings: TrainingSettings, stack: StackInfo, frame: pd.DataFrame, run_name: str, task: str) -> None:
    """Configure the pipeline for this stack and these settings; run it once."""
    from zenml import Model

    from e2e_common.data import frame_fingerprint
    from e2e_common.images import DOCKER_SETTINGS_KEY, TRAINING_DISTRIBUTION, docker_settings, extras_of
    from e2e_common.progress import StepProgress
    from e2e_training.pipelines import TRACKED_STEPS, training_pipeline

    tracked = {name: {"experiment_tracker": stack.experiment_tracker} for name in TRACKED_STEPS}
    extras = extras_of([settings.data])  # the image reads an s3:// --data with the s3 extra's libraries
    configured = training_pipeline.with_options(
        run_name=run_name,
        model=Model(name=settings.model_name, description=MODEL_DESCRIPTION),
        enable_cache=not settings.no_cache,
        steps=tracked if stack.mlflow_tracking_uri else None,
        settings={DOCKER_SETTINGS_KEY: docker_settings(TRAINING_DISTRIBUTION, extras)} if extras else None,
    )
    search = SearchOptions.of(settings)
    with StepProgress(run_name, total=STEPS_BESIDES_SEARCH + len(search.families(task)) + settings.notify_on_success):
        configured(
            data_options=DataOptions.of(settings),
            data_fingerprint=frame_fingerprint(frame),
            split_options=SplitOptions.of(settings),
            preprocessing=PreprocessingOptions.of(settings),
            search_options=search,
            gates=GateOptions.of(settings),
            promotion=PromotionOptions.of(settings),
            notify_on_failure=settings.notify_on_failure,
            notify_on_success=settings.notify_on_success,
            task=task,
        )


def discard_failed_version(model_name: str, run_name: str, exc: BaseException) -> None:
    """Delete the unpromoted model version of a failed run; keep it when a quality gate refused it."""
    from zenml.client import Client

    try:
        version = Client().get_pipeline_run(run_name).model_version
    except Exception:  # noqa: BLE001 - the run may not have started
        return
    if version is None or version.stage is not None:
        return
    if isinstance(find_e2e_error(exc), QualityGateError):
        print(f"Model '{model_name}' version {version.number} was refused by a quality gate; nothing promoted.")
        return
    try:
        Client().delete_model_version(version.id)
        print(f"Removed model '{model_name}' version {version.number} of the failed run.")
    except Exception:  # noqa: BLE001 - the original failure is what to report
        return


def print_outcome(settings: TrainingSettings, stack: StackInfo, run_name: str) -> None:
    """Run, model version, metrics, promotion decision and where to look."""
    from zenml.client import Client

    from e2e_common.stack import run_dashboard_url
    from e2e_training import report

    run = Client().get_pipeline_run(run_name)
    version = Client().get_model_version(settings.model_name, run.model_version.id)
    metadata = version.run_metadata
    metrics = metadata.get(METADATA_METRICS, {})
    decision = metadata.get(METADATA_PROMOTION, {})
    stage = f"at stage '{version.stage}'" if version.stage else "at no stage"
    url = run_dashboard_url(run.name)
    metric, gates = report.describe_metric(metrics), report.describe_gates(metrics)
    searched = report.describe_search(metadata.get(METADATA_SELECTION, {}), settings.time_budget)
    task_line, rows_line = report.describe_task(metadata), report.describe_rows(metadata)
    lines = [
        ("Model version", f"{settings.model_name} version {version.number} {stage}"),
        ("Run", f"{run.name} ({run.status.value})" + (f" {url}" if url else "")),
        *([("Task", task_line)] if task_line else []),
        *([("Rows", rows_line)] if rows_line else []),
        *([("Search", searched)] if searched else []),
        *([("Metric", metric)] if metric else []),
        *(("Metrics" if i == 0 else "", line) for i, line in enumerate(report.describe_metrics(metrics))),
        *([("Quality gates", gates)] if gates else []),
        ("Promotion", report.describe_decision(decision)),
    ]
    comparison = report.describe_comparison(decision)
    if comparison:
        lines.append(("", comparison))
    lines.extend(("Repaired" if i == 0 else "", line) for i, line in enumerate(decision.get("repairs") or []))
    lines.append(("ZenML dashboard", stack.dashboard_hint))
    if stack.mlflow_ui_hint:
        lines.append(("MLflow UI", stack.mlflow_ui_hint))
    width = max(len(label) for label, _ in lines) + 2
    for label, text in lines:
        print(f"{label + ':' if label else '':<{width}}{text}")
    if gates and gates.startswith("refused"):
        print("note: the new version is kept unpromoted; pass --fail-on-quality-gates to exit 3 instead")


def leave_stderr_to_errors() -> None:
    """Library logs go to stdout only (ZenML's handler), without step tracebacks; --debug shows all.

    stderr is left to the one ``error:`` line of a failure.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    import zenml  # noqa: F401 - installs ZenML's log handlers, which write to stdout

    root = logging.getLogger()
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr:
            handler.setLevel(logging.CRITICAL + 1)

    class _WithoutTraceback(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.exc_info = None
            record.exc_text = None
            return True

    class _WithoutHarmless(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return not str(record.msg).startswith(HARMLESS_WARNINGS)

    for name in STEP_FAILURE_LOGGERS:
        logging.getLogger(name).addFilter(_WithoutTraceback())
    logging.getLogger(MLFLOW_TRACKER_LOGGER).addFilter(_WithoutHarmless())


if __name__ == "__main__":
    main()
