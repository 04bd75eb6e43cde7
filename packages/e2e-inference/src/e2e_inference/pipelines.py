"""The batch inference pipeline: wiring only. Run it in the model context of one model version."""

from __future__ import annotations

from zenml import get_pipeline_context, pipeline
from zenml.enums import ExecutionMode

from e2e_common.contract import DATA_CONTRACT, DRIFT_REFERENCE, MODEL, PREPROCESS_PIPELINE
from e2e_common.notify import notify_failure_hook
from e2e_inference.steps import drift_gate, drift_report, load_rows, notify_success, predict

REPORT_STEP = "drift_report"
GATE_STEP = "drift_gate"
PREDICT_STEP = "predict"


@pipeline(on_failure=notify_failure_hook, execution_mode=ExecutionMode.FAIL_FAST)
def inference_pipeline(
    model_version_id: str,
    model_version: str,
    data_fingerprint: str,
    data_path: str | None = None,
    id_column: str | None = None,
    reference_artifact: str = DRIFT_REFERENCE,
    drift_check: bool = True,
    drift_share: float = 0.5,
    na_drift_tolerance: float = 0.1,
    drift_sample_rows: int = 10_000,
    notify_on_failure: bool = True,
    notify_on_success: bool = False,
    model_description: str = "",
) -> None:
    """Load and check rows, drift report and gate, predict; artifacts linked to the model version."""
    model = get_pipeline_context().model
    contract = model.get_artifact(DATA_CONTRACT)
    preprocess = model.get_artifact(PREPROCESS_PIPELINE)
    classifier = model.get_artifact(MODEL)
    rows = load_rows(contract, data_path, data_fingerprint, model_version_id, id_column)
    after = []
    if drift_check:
        _, decision = drift_report(
            rows,
            contract,
            preprocess,
            model.get_artifact(reference_artifact),
            reference_artifact,
            model_version_id,
            data_fingerprint,
            drift_share,
            na_drift_tolerance,
            drift_sample_rows,
            id=REPORT_STEP,
        )
        drift_gate(decision, id=GATE_STEP)
        after.append(GATE_STEP)
    predictions = predict(
        rows, preprocess, classifier, model_version, model_version_id, data_fingerprint, id_column, id=PREDICT_STEP, after=after
    )
    if notify_on_success:
        notify_success(predictions, model_description)
