"""``e2e-infer``: score rows with the model version at a stage, behind a drift gate."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from e2e_common.errors import run_cli
from e2e_inference.settings import DriftOptions, InferenceSettings, InputOptions

PROG = "e2e-infer"


@dataclass
class InferenceResult:
    """What a run did, for printing and for tests."""

    model_name: str
    model_version: str
    stage: str
    run_name: str
    rows_scored: int
    source: str
    predictions_version: str
    cached: bool
    drift_summary: str | None = None
    drift_report_version: str | None = None
    output: Path | None = None
    unseen_categories: dict[str, int] = field(default_factory=dict)
    by_reference: bool = False
    task: str = "classification"
    # A regression's: its predictions against those on the holdout (or why not compared), and the
    # min, mean and max of the predictions.
    prediction_drift_summary: str | None = None
    prediction_summary: str | None = None


def run_inference(settings: InferenceSettings, say: Callable[[str], None] = print) -> InferenceResult:
    """Resolve the version at the stage, check the rows, run the pipeline, write ``--output``."""
    from e2e_common.runtime import release_zenml_log_store
    from e2e_inference import drift_worker

    try:
        return _run_inference(settings, say)
    finally:
        drift_worker.stop()
        release_zenml_log_store()


def _run_inference(settings: InferenceSettings, say: Callable[[str], None]) -> InferenceResult:
    from e2e_common.runtime import configure_runtime

    if not settings.debug:
        # ZenML logs a failed step with its traceback; the CLI reports it as one line instead.
        os.environ["ZENML_LOGGING_VERBOSITY"] = "CRITICAL"
    configure_runtime(settings.debug)

    from e2e_common.files import read_header

    if settings.data is not None:
        from e2e_inference.columns import check_id_column

        check_id_column(settings.id_column, read_header(settings.data), str(settings.data))
    _check_written_paths(settings, say)
    if not settings.no_drift_check:
        from e2e_inference import drift_worker

        drift_worker.start(debug=settings.debug)  # imports Evidently on the other core meanwhile
    from e2e_common.stores import check_store_early

    check_store_early(say)
    if settings.data is not None:
        from e2e_common.remote import input_for_steps

        # An orchestrator that runs steps elsewhere reads a local --data file from the artifact store.
        settings = settings.model_copy(update={"data": input_for_steps(settings.data, settings.max_upload_bytes, say)})

    referenced = _start_referencing(settings)

    from e2e_common.stack import ensure_embedded_stack
    from e2e_inference.resolve import resolve_version

    ensure_embedded_stack(say)
    version = resolve_version(settings.model_name, settings.stage)
    say(f"Scoring with {version.describe()}")
    if settings.id_column is None and settings.data is not None and version.contract.excluded_columns:
        from e2e_inference.columns import default_id_column

        found = default_id_column(version.contract.excluded_columns, read_header(settings.data))
        if found is not None:
            settings = settings.model_copy(update={"id_column": found})
            say(f"Id column: '{found}', recorded as an identifier at training (pass --id-column to choose another)")
    from e2e_inference.output import OutputTarget
    from e2e_inference.pipelines import inference_pipeline

    run_name = f"{inference_pipeline.name}-{datetime.now():%Y_%m_%d-%H_%M_%S_%f}"
    steps_run_here = _steps_run_here()
    if not steps_run_here:
        from e2e_inference import drift_worker

        drift_worker.stop()  # the drift step runs elsewhere and imports Evidently there
    target = OutputTarget.for_path(settings.output) if steps_run_here and _local(settings.output) else None
    try:
        if referenced is not None:
            from e2e_inference.inputs import check_columns

            source = referenced.result()
            check_columns(source, version.contract, settings.id_column)
            say(
                f"Input: {source.uri}: {source.rows} rows, {source.size_bytes} bytes ({source.fingerprint[:19]}...), "
                f"recorded by reference and scored in chunks of {settings.chunk_size} rows"
            )
            if steps_run_here and not settings.no_drift_check:
                _start_drift_check(settings, version, source=source)
            result = _run_pipeline(settings, version, run_name, source.uri, source.fingerprint, say, target, source)
        else:
            from e2e_inference.inputs import check_rows, read_input

            rows = read_input(settings.data)
            validated = check_rows(rows.frame, version.contract, settings.id_column, rows.source)
            say(f"Input: {rows.source}: {len(rows.frame)} rows ({rows.fingerprint[:19]}...)")
            if validated.unseen_categories:
                counts = ", ".join(f"{column}: {count}" for column, count in validated.unseen_categories.items())
                say(f"Unseen categories (scored as unknown), rows per column: {counts}")
            else:
                say("Unseen categories: none")
            if steps_run_here and not settings.no_drift_check:
                _start_drift_check(settings, version, frame=rows.frame)
            result = _run_pipeline(settings, version, run_name, rows.source, rows.fingerprint, say, target)
            result.unseen_categories = validated.unseen_categories
        from e2e_common.runtime import raise_if_interrupted

        raise_if_interrupted()  # a Ctrl-C a library swallowed still stops the run before it publishes
        if target is not None:
            result.output = target.publish()
        elif settings.output is not None:
            result.output = _write_output(result, settings.output)
    except BaseException as exc:
        if target is not None:
            target.discard()
        _withdraw_predictions(run_name, exc, say)
        raise
    _print_result(result, say)
    return result


WRITTEN_SETTINGS = ("output", "report")


def _check_written_paths(settings: InferenceSettings, say: Callable[[str], None]) -> None:
    """Before anything runs (exit 2): ``--output`` and ``--report`` can be written and are not the
    same file as ``--data``, ``--config`` or each other; temporary files of theirs that a killed
    run left are removed."""
    from e2e_inference.output import check_distinct_paths, check_output_path, remove_stale_temporaries

    paths = {"data": settings.data, "config": settings.config, "output": settings.output, "report": settings.report}
    check_distinct_paths(paths, WRITTEN_SETTINGS)
    for setting in WRITTEN_SETTINGS:
        path = paths[setting]
        if path is None:
            continue
        check_output_path(path, setting=setting, table=setting == "output")
        for stale in remove_stale_temporaries(path):
            say(f"Removed {stale}, a temporary file of --{setting} left by a run that was killed")


def _start_drift_check(settings: InferenceSettings, version, frame=None, source=None) -> None:
    """Hand Evidently's comparison of the rows (``frame``), or of the drift sample of an input recorded
    by reference (``source``), to the drift worker now, so that it runs while the pipeline starts. The
    drift step takes its result when the rows, version and options are the same (``check_key``), and
    compares again itself otherwise."""
    from e2e_common.contract import DRIFT_REFERENCE
    from e2e_inference import drift_worker

    if not drift_worker.running() or version.reference_artifact != DRIFT_REFERENCE:
        return
    from uuid import UUID

    from zenml.client import Client

    from e2e_inference.drift import early_comparison, early_sampled_comparison
    from e2e_inference.inputs import rows_to_score

    options = DriftOptions.of(settings)
    model_version = Client().zen_store.get_model_version(UUID(version.version_id))
    reference = model_version.get_artifact(DRIFT_REFERENCE).load()
    predictions = _prediction_reference(model_version) if version.contract.is_regression else None
    if source is None:
        rows = rows_to_score(frame, version.contract, settings.id_column)
        drift_worker.submit(early_comparison, rows, version.contract, reference, options, version.version_id, predictions)
    else:
        drift_worker.submit(
            early_sampled_comparison, source, version.contract, reference, options, version.version_id,
            settings.id_column, predictions,
        )


def _prediction_reference(model_version):
    """A regression version's preprocessing, model and holdout predictions for the prediction part of
    its drift check, or None when it has no ``holdout_predictions`` (the drift step notes that)."""
    from e2e_common.contract import HOLDOUT_PREDICTIONS, MODEL, PREPROCESS_PIPELINE
    from e2e_inference.drift import PredictionReference

    holdout = model_version.get_artifact(HOLDOUT_PREDICTIONS)
    if holdout is None:
        return None
    return PredictionReference(
        model_version.get_artifact(PREPROCESS_PIPELINE).load(),
        model_version.get_artifact(MODEL).load(),
        holdout.load(),
    )


def _steps_run_here() -> bool:
    """Whether the orchestrator runs the steps in this process (the local one). Then the scoring step
    writes the ``--output`` file's temporary copy; otherwise the CLI writes the file after the run."""
    from e2e_common.remote import steps_run_here

    return steps_run_here()


def _withdraw_predictions(run_name: str, exc: BaseException, say: Callable[[str], None]) -> None:
    """A run that failed, was refused or interrupted publishes nothing: delete the ``predictions``
    artifact versions it made (with their link to the model version) and mark it failed."""
    from e2e_common.stores import store_opened

    if not store_opened():
        return
    from e2e_common.errors import INTERRUPTIONS, find_e2e_error, one_line

    try:
        from zenml.client import Client
        from zenml.enums import ExecutionStatus
        from zenml.models import PipelineRunUpdate

        from e2e_inference.names import PREDICTIONS

        client = Client()
        try:
            run = client.get_pipeline_run(run_name)
        except KeyError:
            return  # the run never started
        withdrawn = []
        for step_run in run.steps.values():
            for artifact in step_run.outputs.get(PREDICTIONS, []):
                _delete_artifact_version(client, artifact)
                withdrawn.append(str(artifact.version))
        from e2e_common.runtime import interrupted

        if type(exc).__name__ in INTERRUPTIONS or interrupted():
            reason = "interrupted"
        else:
            known = find_e2e_error(exc)
            reason = one_line(known if known is not None else f"{type(exc).__name__}: {exc}")
        if run.status not in (ExecutionStatus.FAILED, ExecutionStatus.STOPPED):
            client.zen_store.update_run(
                run.id, PipelineRunUpdate(status=ExecutionStatus.FAILED, status_reason=reason[:250])
            )
        if withdrawn:
            say(f"Withdrew artifact '{PREDICTIONS}' version {', '.join(withdrawn)} of run {run_name}: the run failed")
    except Exception as failure:  # noqa: BLE001 - the run's own failure is what the error line reports
        say(f"warning: the predictions of run {run_name} could not be withdrawn ({one_line(failure, 160)})")


def _delete_artifact_version(client, artifact) -> None:
    """Delete an artifact version a run made: its files (best effort), then its record, with the
    links to its step and model version. (``Client.delete_artifact_version`` refuses the outputs of
    runs; the store's own delete takes them.)"""
    from zenml.io import fileio

    try:
        if artifact.uri and fileio.exists(artifact.uri):
            if fileio.isdir(artifact.uri):
                fileio.rmtree(artifact.uri)
            else:
                fileio.remove(artifact.uri)
    except Exception:  # noqa: BLE001 - files left in the artifact store are not published
        pass
    client.zen_store.delete_artifact_version(artifact.id)


def _local(path) -> bool:
    """A set ``--output`` that is a local path (not an object URI, which the CLI writes after the run)."""
    from e2e_common.uris import is_uri

    return path is not None and not is_uri(path)


def _start_referencing(settings: InferenceSettings):
    """For a --data file or object above the size threshold: its reference, computed while ZenML loads."""
    from e2e_common.uris import size_of

    if settings.data is None or size_of(settings.data) <= settings.reference_above_bytes:
        return None
    from concurrent.futures import ThreadPoolExecutor

    from e2e_inference.sources import reference_input

    pool = ThreadPoolExecutor(max_workers=1)
    referenced = pool.submit(reference_input, settings.data)
    pool.shutdown(wait=False)
    return referenced


def _run_pipeline(settings, version, run_name, source, fingerprint, say, target=None, reference=None) -> InferenceResult:
    from zenml import Model
    from zenml.client import Client
    from zenml.enums import ExecutionStatus

    from e2e_common.images import DOCKER_SETTINGS_KEY, INFERENCE_DISTRIBUTION, docker_settings, extras_of
    from e2e_common.progress import StepProgress
    from e2e_inference.drift import DriftDecision
    from e2e_inference.names import (
        DRIFT_DECISION,
        DRIFT_REPORT,
        METADATA_INFERENCE,
        METADATA_PREDICTION_SUMMARY,
        PREDICTIONS,
    )
    from e2e_inference.pipelines import (
        PREDICT_STEP,
        PUBLISH_STEP,
        REPORT_STEP,
        SCORE_STEP,
        inference_pipeline,
    )
    from e2e_inference.summary import PredictionSummary

    extras = extras_of([settings.data, settings.output])  # the image reads and writes them with these
    configured = inference_pipeline.with_options(
        run_name=run_name,
        model=Model(name=version.model_name, version=version.version_number),
        enable_cache=not settings.no_cache,
        settings={DOCKER_SETTINGS_KEY: docker_settings(INFERENCE_DISTRIBUTION, extras)} if extras else None,
    )
    try:
        with StepProgress(run_name, say=say):
            run = configured(
                model_version_id=version.version_id,
                model_version=version.version_name,
                model_description=version.describe(),
                reference_artifact=version.reference_artifact,
                data_fingerprint=fingerprint,
                input_reference=reference,
                input_options=InputOptions.of(settings),
                drift=DriftOptions.of(settings),
                notify_on_failure=settings.notify_on_failure,
                notify_on_success=settings.notify_on_success,
                output=target,
                compare_predictions=version.contract.is_regression,
            )
    except Exception:
        # The report is the evidence of a refusal: written also when the run failed (not when interrupted).
        if settings.report is not None:
            try:
                _write_report(run_name, settings.report, say)
            except Exception as failure:  # noqa: BLE001 - the run's failure is the error to report
                say(f"warning: the drift report was not written: {failure}")
        raise
    if settings.report is not None:
        _write_report(run_name, settings.report, say)
    run = Client().get_pipeline_run(run.id)
    predict_step = run.steps[PREDICT_STEP if reference is None else PUBLISH_STEP]
    predictions = predict_step.outputs[PREDICTIONS][0]
    scoring_steps = [step for name, step in run.steps.items() if name == PREDICT_STEP or SCORE_STEP in name]
    inference = predictions.run_metadata.get(METADATA_INFERENCE, {})
    result = InferenceResult(
        model_name=version.model_name,
        model_version=version.version_name,
        stage=version.stage,
        run_name=run.name,
        rows_scored=int(inference.get("rows", 0)),
        source=source,
        predictions_version=str(predictions.version),
        cached=bool(scoring_steps) and all(step.status == ExecutionStatus.CACHED for step in scoring_steps),
        by_reference=reference is not None,
        task=version.contract.task.value,
    )
    if METADATA_PREDICTION_SUMMARY in inference:
        result.prediction_summary = PredictionSummary.from_metadata(inference[METADATA_PREDICTION_SUMMARY]).describe()
    if REPORT_STEP in run.steps:
        report_step = run.steps[REPORT_STEP]
        decision = DriftDecision.from_dict(report_step.outputs[DRIFT_DECISION][0].load())
        result.drift_summary = decision.summary()
        if decision.prediction_drift is not None:
            result.prediction_drift_summary = decision.prediction_drift.describe()
        result.drift_report_version = str(report_step.outputs[DRIFT_REPORT][0].version)
    return result


def _write_report(run_name: str, path: Path, say: Callable[[str], None]) -> None:
    """Write the run's Evidently report to ``path`` (atomically), when the run made one."""
    from zenml.client import Client

    from e2e_inference.names import DRIFT_REPORT
    from e2e_inference.output import write_text_atomically

    try:
        steps = Client().get_pipeline_run(run_name).steps
    except KeyError:
        return
    for step_run in steps.values():
        if DRIFT_REPORT in step_run.outputs:
            write_text_atomically(step_run.outputs[DRIFT_REPORT][0].load().html, path)
            say(f"Drift report written to {path}")
            return


def _write_output(result: InferenceResult, path: Path) -> Path:
    from zenml.client import Client

    from e2e_inference.names import PREDICTIONS
    from e2e_inference.output import write_parts_atomically, write_table_atomically

    predictions = Client().get_artifact_version(PREDICTIONS, result.predictions_version).load()
    if result.by_reference:
        return write_parts_atomically(predictions.parts, path)
    return write_table_atomically(predictions, path)


def _print_result(result: InferenceResult, say: Callable[[str], None]) -> None:
    from e2e_common.stack import run_dashboard_url
    from e2e_inference.names import DRIFT_REPORT, PREDICTIONS

    url = run_dashboard_url(result.run_name)
    say(f"Model: '{result.model_name}' version {result.model_version} at stage '{result.stage}'")
    say(f"Run: {result.run_name}" + (f" {url}" if url else ""))
    if result.drift_summary is None:
        say("Drift check: skipped (--no-drift-check)")
    else:
        say(result.drift_summary[0].upper() + result.drift_summary[1:])
        if result.prediction_drift_summary is not None:
            say(f"Prediction drift: {result.prediction_drift_summary.removeprefix('prediction drift ')}")
        say(f"Drift report: artifact '{DRIFT_REPORT}' version {result.drift_report_version}")
    reused = " (scores reused from an earlier run with the same model version and input)" if result.cached else ""
    say(
        f"Scored {result.rows_scored} rows with model '{result.model_name}' version {result.model_version}"
        f" (stage '{result.stage}'){reused}"
    )
    if result.prediction_summary is not None:
        say(f"Predicted values ({result.task}): {result.prediction_summary}")
    say(f"Predictions: artifact '{PREDICTIONS}' version {result.predictions_version} (run {result.run_name})")
    if result.output is not None:
        say(f"Predictions written to {result.output}")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    parsed: list[InferenceSettings] = []

    def body() -> int:
        parsed.append(InferenceSettings.from_cli(args, prog=PROG))
        run_inference(parsed[0])
        return 0

    run_cli(body, lambda: parsed[0].debug if parsed else "--debug" in args)
