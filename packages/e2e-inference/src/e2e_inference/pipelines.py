"""The batch inference pipeline: wiring only. Run it in the model context of one model version.

A dynamic pipeline: a step called directly runs before the next one starts, so the drift gate
decides before anything is scored. A small input is stored and scored in one step; a large one is
recorded by reference and scored by one mapped step per partition, which an orchestrator runs in
parallel (the local one in threads).
"""

from __future__ import annotations

from uuid import UUID

from zenml import pipeline, unmapped
from zenml.client import Client

from e2e_common.contract import DATA_CONTRACT, DRIFT_REFERENCE, MODEL, PREPROCESS_PIPELINE
from e2e_common.notify import notify_failure_hook
from e2e_inference.steps import (
    drift_gate,
    drift_report,
    load_rows,
    notify_success,
    plan_scoring,
    predict,
    publish_predictions,
    record_input,
    sample_rows,
    score_partition,
)

REPORT_STEP = "drift_report"
GATE_STEP = "drift_gate"
PREDICT_STEP = "predict"
PUBLISH_STEP = "publish_predictions"
SCORE_STEP = score_partition.name


@pipeline(dynamic=True, on_failure=notify_failure_hook)
def inference_pipeline(
    model_version_id: str,
    model_version: str,
    data_fingerprint: str,
    data_path: str | None = None,
    input_reference: dict | None = None,
    id_column: str | None = None,
    reference_artifact: str = DRIFT_REFERENCE,
    drift_check: bool = True,
    drift_share: float = 0.5,
    na_drift_tolerance: float = 0.1,
    drift_sample_rows: int = 10_000,
    chunk_size: int = 100_000,
    partitions: int = 2,
    notify_on_failure: bool = True,
    notify_on_success: bool = False,
    model_description: str = "",
) -> None:
    """Load and check rows, drift report and gate, predict; artifacts linked to the model version."""
    model = Client().zen_store.get_model_version(UUID(model_version_id))
    contract = model.get_artifact(DATA_CONTRACT)
    preprocess = model.get_artifact(PREPROCESS_PIPELINE)
    classifier = model.get_artifact(MODEL)
    if input_reference is None:
        rows = load_rows(contract, data_path, data_fingerprint, model_version_id, id_column)
        if drift_check:
            _, decision = drift_report(
                rows, contract, preprocess, model.get_artifact(reference_artifact), reference_artifact,
                model_version_id, data_fingerprint, drift_share, na_drift_tolerance, drift_sample_rows,
                id=REPORT_STEP,
            )
            drift_gate(decision, id=GATE_STEP)
        predictions = predict(
            rows, preprocess, classifier, model_version, model_version_id, data_fingerprint, id_column,
            id=PREDICT_STEP,
        )
    else:
        source = record_input(input_reference)
        if drift_check:
            sample = sample_rows(source, contract, id_column, drift_sample_rows)
            _, decision = drift_report(
                sample, contract, preprocess, model.get_artifact(reference_artifact), reference_artifact,
                model_version_id, data_fingerprint, drift_share, na_drift_tolerance, drift_sample_rows,
                id=REPORT_STEP,
            )
            drift_gate(decision, id=GATE_STEP)
        parts = score_partition.map(
            partition=plan_scoring(source, partitions),
            preprocess_pipeline=unmapped(preprocess),
            model=unmapped(classifier),
            model_version=unmapped(model_version),
            model_version_id=unmapped(model_version_id),
            chunk_size=unmapped(chunk_size),
            id_column=unmapped(id_column),
        )
        predictions = publish_predictions(parts, model_version, model_version_id, data_fingerprint, id=PUBLISH_STEP)
    if notify_on_success:
        notify_success(predictions, model_description)
