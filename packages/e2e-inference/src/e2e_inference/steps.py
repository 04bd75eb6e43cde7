"""ZenML steps of the inference pipeline: thin wrappers around the plain functions.

``model_version_id`` and ``data_fingerprint`` are parameters of the steps so that a cached
result is reused only for the same model version and the same input content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pandas as pd
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.config import CachePolicy

import e2e_common.contract
import e2e_common.data
import e2e_common.schemas
import e2e_inference.columns
import e2e_inference.drift
import e2e_inference.inputs
import e2e_inference.predict
import e2e_inference.sources
import e2e_inference.summary
from e2e_common.errors import DataError
from e2e_common.notify import notify
from e2e_common.schemas import DataContract
from e2e_inference import drift_worker
from e2e_inference.drift import (
    DriftDecision,
    PredictionReference,
    RangeCount,
    check_key,
    compare_with_reference,
    enforce,
    report_location,
    with_feature_profile,
    with_prediction_note,
)
from e2e_inference.inputs import check_rows, drift_sample, read_input, rows_to_score
from e2e_inference.names import (
    DRIFT_DECISION,
    DRIFT_REPORT,
    DRIFT_SAMPLE,
    INFERENCE_INPUT,
    METADATA_DRIFT,
    METADATA_INFERENCE,
    METADATA_PREDICTION_SUMMARY,
    PREDICTION_COLUMN,
    PREDICTION_PART,
    PREDICTIONS,
    SCORING_PLAN,
)
from e2e_inference.output import OutputTarget, PredictionsReference, ScoredPart, write_part
from e2e_inference.predict import score_chunk
from e2e_inference.report import DriftReport, DriftReportMaterializer, summary_markdown
from e2e_inference.resolve import load_contract
from e2e_inference.settings import DriftOptions, InputOptions
from e2e_inference.sources import (
    InputReference,
    Partition,
    iter_partition_chunks,
    plan_partitions,
)
from e2e_inference.summary import PredictionSummary

PART_FILE_NAME = "predictions.parquet"


def library_versions() -> str:
    """What a cached result depends on besides the code of the modules listed in ``CACHE_POLICY``."""
    from importlib.metadata import version

    return " ".join(version(name) for name in ("e2e-tabular-common", "e2e-tabular-inference", "evidently", "scikit-learn", "pandas"))


# A cached drift decision or score is reused only with the same code of the modules behind it
# (not only the step's own) and the same library versions: an upgrade decides again.
CACHE_POLICY = CachePolicy(
    source_dependencies=[
        e2e_inference.columns,
        e2e_inference.drift,
        e2e_inference.inputs,
        e2e_inference.predict,
        e2e_inference.sources,
        e2e_inference.summary,
        e2e_common.data,
        e2e_common.schemas,
    ],
    cache_func=library_versions,
)


@step(cache_policy=CACHE_POLICY)
def load_rows(
    data_contract: DataContract | dict, options: InputOptions, data_fingerprint: str, model_version_id: str
) -> Annotated[pd.DataFrame, INFERENCE_INPUT]:
    """Read the rows to score and check them against the version's data contract."""
    contract = load_contract(data_contract)
    rows = read_input(options.data)
    validated = check_rows(rows.frame, contract, options.id_column, rows.source)
    log_metadata(
        metadata={
            METADATA_INFERENCE: {
                "source": rows.source,
                "fingerprint": rows.fingerprint,
                "rows": len(rows.frame),
                "unseen_categories": validated.unseen_categories,
                "model_version_id": model_version_id,
            }
        },
        infer_artifact=True,
        artifact_name=INFERENCE_INPUT,
    )
    return rows_to_score(rows.frame, contract, options.id_column)


@step(cache_policy=CACHE_POLICY)
def drift_report(
    rows: pd.DataFrame,
    data_contract: DataContract | dict,
    preprocess_pipeline: Any,
    reference: pd.DataFrame,
    reference_artifact: str,
    model_version_id: str,
    data_fingerprint: str,
    options: DriftOptions,
    range_counts: list[RangeCount],
    model: Any = None,
    holdout_predictions: pd.DataFrame | None = None,
) -> tuple[
    Annotated[DriftReport, ArtifactConfig(name=DRIFT_REPORT, materializer=DriftReportMaterializer)],
    Annotated[dict, DRIFT_DECISION],
]:
    """Evidently's drift report of the rows against the version's training data, and its decision.

    ``range_counts`` are the out-of-range counts of every partition of a large input, whose ``rows``
    are only a sample; for a small input (no counts given) they are counted on ``rows``, all of them.
    A regression version's ``model`` and ``holdout_predictions`` add its predictions for ``rows``
    against those on the holdout to the report (not to the decision: ``e2e_inference.drift``).
    """
    contract = load_contract(data_contract)
    predictions = (
        PredictionReference(preprocess_pipeline, model, holdout_predictions)
        if contract.is_regression and model is not None and holdout_predictions is not None
        else None
    )
    compared = drift_worker.run(
        check_key(rows, model_version_id, reference_artifact, options, with_predictions=predictions is not None),
        compare_with_reference,
        rows, contract, preprocess_pipeline, reference, reference_artifact, options, predictions,
    )
    check = with_feature_profile(
        compared, rows, contract, options, RangeCount.total(range_counts) if range_counts else None
    )
    check = with_prediction_note(check, contract)
    log_metadata(
        metadata={METADATA_DRIFT: check.decision.metadata()}, infer_artifact=True, artifact_name=DRIFT_REPORT
    )
    return DriftReport(summary=summary_markdown(check.decision), html=check.html), check.decision.to_dict()


@step(cache_policy=CACHE_POLICY)
def drift_gate(decision: dict) -> None:
    """Refuse (QualityGateError, exit 3) when the drift check says so, naming where its report is."""
    enforce(DriftDecision.from_dict(decision), report_location(get_step_context().pipeline_run.id))


@step(cache_policy=CACHE_POLICY)
def count_out_of_range(partition: Partition, data_contract: DataContract | dict, chunk_size: int) -> RangeCount:
    """Rows of one partition outside the training values, per column: the drift gate counts all rows."""
    contract = load_contract(data_contract)
    try:
        return RangeCount.of_chunks(iter_partition_chunks(partition, chunk_size), contract)
    except DataError as exc:
        raise DataError(f"{partition.source.uri}: {exc}") from exc


@step(enable_cache=False)
def predict(
    rows: pd.DataFrame,
    preprocess_pipeline: Any,
    model: Any,
    model_version: str,
    model_version_id: str,
    data_fingerprint: str,
    id_column: str | None = None,
    output: OutputTarget | None = None,
    data_contract: DataContract | dict | None = None,
) -> Annotated[pd.DataFrame, PREDICTIONS]:
    """Score the rows with the version's preprocessing and model, as fitted, for the task of its data
    contract (a classification when none is given).

    With ``output``, the predictions are written to its temporary file before they are returned: a
    write that fails (a full disk) fails the step, and the run publishes no ``predictions``.
    """
    drift_worker.stop()  # done, or its job unused (the drift step was cached): free its core and memory
    model_name = get_step_context().model.name
    task = _task(data_contract)
    predictions = score_chunk(
        rows, preprocess_pipeline, model, model_name=model_name, model_version=model_version, id_column=id_column,
        task=task,
    )
    summary = (
        {METADATA_PREDICTION_SUMMARY: PredictionSummary.of(predictions[PREDICTION_COLUMN]).metadata()}
        if task is e2e_common.contract.Task.REGRESSION
        else {}
    )
    log_metadata(
        metadata={
            METADATA_INFERENCE: {
                "rows": len(predictions),
                "model_version": model_version,
                "model_version_id": model_version_id,
                "input_fingerprint": data_fingerprint,
                "id_column": id_column or "row number",
                **summary,
            }
        },
        infer_artifact=True,
        artifact_name=PREDICTIONS,
    )
    if output is not None:
        output.write_table(predictions)
    return predictions


def _task(data_contract: DataContract | dict | None) -> e2e_common.contract.Task:
    """The task of the version's data contract; a classification without one (a caller of before 0.x)."""
    if data_contract is None:
        return e2e_common.contract.Task.CLASSIFICATION
    return load_contract(data_contract).task


@step(enable_cache=False)
def notify_success(predictions: Any, model_description: str) -> None:
    """Tell the stack's alerter (or the log) that the run scored its rows."""
    run = get_step_context().pipeline_run
    rows = predictions.rows if isinstance(predictions, PredictionsReference) else len(predictions)
    notify(f"e2e-infer run '{run.name}' scored {rows} rows with {model_description}")


@step(cache_policy=CACHE_POLICY)
def record_input(source: InputReference) -> Annotated[InputReference, INFERENCE_INPUT]:
    """The large input by reference (URI, size, content fingerprint, rows), not a copy."""
    log_metadata(
        metadata={
            METADATA_INFERENCE: {
                "source": source.uri,
                "fingerprint": source.fingerprint,
                "size_bytes": source.size_bytes,
                "rows": source.rows,
                "stored": False,
            }
        },
        infer_artifact=True,
        artifact_name=INFERENCE_INPUT,
    )
    return source


@step(cache_policy=CACHE_POLICY)
def sample_rows(
    source: InputReference, data_contract: DataContract | dict, id_column: str | None, max_rows: int
) -> Annotated[pd.DataFrame, DRIFT_SAMPLE]:
    """A bounded deterministic sample of the input, checked against the contract: the drift check's rows."""
    return drift_sample(source, load_contract(data_contract), id_column, max_rows)


@step(cache_policy=CACHE_POLICY)
def plan_scoring(source: InputReference, partitions: int) -> Annotated[list[Partition], SCORING_PLAN]:
    """Split the input into partitions that scoring steps read in parallel."""
    return plan_partitions(source, partitions)


@step(cache_policy=CACHE_POLICY)
def score_partition(
    partition: Partition,
    preprocess_pipeline: Any,
    model: Any,
    model_version: str,
    model_version_id: str,
    chunk_size: int,
    id_column: str | None = None,
    data_contract: DataContract | dict | None = None,
) -> Annotated[ScoredPart, PREDICTION_PART]:
    """Score one partition chunk by chunk, streaming its predictions to Parquet in the artifact store
    (a regression's also summarised: ``ScoredPart.prediction_summary``)."""
    drift_worker.stop()  # done, or its job unused (the drift step was cached): free its core and memory
    from zenml.io import fileio

    folder = get_step_context().get_output_artifact_uri(PREDICTION_PART)
    fileio.makedirs(folder)
    part_uri = f"{folder}/{PART_FILE_NAME}"

    model_name = get_step_context().model.name
    task = _task(data_contract)
    summary = PredictionSummary()

    def scored() -> Iterator[pd.DataFrame]:
        nonlocal summary
        first_row = partition.first_row
        for chunk in iter_partition_chunks(partition, chunk_size):
            try:
                predictions = score_chunk(
                    chunk, preprocess_pipeline, model, model_name=model_name, model_version=model_version,
                    id_column=id_column,
                    first_row=first_row,
                    task=task,
                )
            except DataError as exc:
                raise DataError(f"{partition.source.uri}: {exc}") from exc
            if task is e2e_common.contract.Task.REGRESSION:
                summary = summary.combine(PredictionSummary.of(predictions[PREDICTION_COLUMN]))
            yield predictions
            first_row += len(chunk)

    rows = write_part(scored(), part_uri)
    return ScoredPart(
        index=partition.index,
        uri=part_uri,
        rows=rows,
        prediction_summary=summary if task is e2e_common.contract.Task.REGRESSION else None,
    )


@step(enable_cache=False)
def publish_predictions(
    parts: list[ScoredPart],
    model_version: str,
    model_version_id: str,
    input_fingerprint: str,
    output: OutputTarget | None = None,
) -> Annotated[PredictionsReference, PREDICTIONS]:
    """The run's ``predictions``: a new artifact version that references the scored parts.

    With ``output``, the parts are streamed to its temporary file first (see ``predict``).
    """
    import pyarrow.parquet as pq
    from zenml.io import fileio

    parts = sorted(parts, key=lambda part: part.index)
    columns: list[str] = []
    for part in parts:
        if part.rows:
            with fileio.open(part.uri, "rb") as source:
                columns = list(pq.ParquetFile(source).schema_arrow.names)
            break
    summaries = [part.prediction_summary for part in parts if part.prediction_summary is not None]
    regression = {}
    if summaries:
        total = PredictionSummary()
        for part_summary in summaries:
            total = total.combine(part_summary)
        regression = {METADATA_PREDICTION_SUMMARY: total.metadata()}
    reference = PredictionsReference(
        parts=parts,
        rows=sum(part.rows for part in parts),
        columns=columns,
        model_version=model_version,
        input_fingerprint=input_fingerprint,
    )
    log_metadata(
        metadata={
            METADATA_INFERENCE: {
                "rows": reference.rows,
                "parts": len(parts),
                "model_version": model_version,
                "model_version_id": model_version_id,
                "input_fingerprint": input_fingerprint,
                "stored": "parts by reference",
                **regression,
            }
        },
        infer_artifact=True,
        artifact_name=PREDICTIONS,
    )
    if output is not None:
        output.write_parts(parts)
    return reference
