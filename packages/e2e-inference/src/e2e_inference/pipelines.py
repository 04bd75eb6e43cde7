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

from e2e_common.contract import DATA_CONTRACT, HOLDOUT_PREDICTIONS, MODEL, PREPROCESS_PIPELINE
from e2e_common.images import DOCKER_SETTINGS_KEY, INFERENCE_DISTRIBUTION, docker_settings
from e2e_common.notify import notify_failure_hook
from e2e_inference.output import OutputTarget
from e2e_inference.settings import DriftOptions, InputOptions
from e2e_inference.sources import InputReference
from e2e_inference.steps import (
    count_out_of_range,
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

# A dynamic pipeline saves every plain value it passes to a step as an artifact named
# ``external_<uuid>`` unless it is a parameter of at most this many bytes (ZenML's default: 0).
PARAMETER_SIZE_THRESHOLD = {"ZENML_PARAMETER_SIZE_THRESHOLD": str(1 << 20)}


# The image of a containerized orchestrator: e2e-common and e2e-inference at the client's versions
# (the CLI adds the extras of its --data and --output URIs).
DOCKER = {DOCKER_SETTINGS_KEY: docker_settings(INFERENCE_DISTRIBUTION)}


@pipeline(dynamic=True, on_failure=notify_failure_hook, environment=PARAMETER_SIZE_THRESHOLD, settings=DOCKER)
def inference_pipeline(
    model_version_id: str,
    model_version: str,
    model_description: str,
    reference_artifact: str,
    data_fingerprint: str,
    input_reference: InputReference | None,
    input_options: InputOptions,
    drift: DriftOptions,
    notify_on_failure: bool,
    notify_on_success: bool,
    output: OutputTarget | None = None,
    compare_predictions: bool = False,
) -> None:
    """Load and check rows, drift report and gate, predict; artifacts linked to the model version.

    The steps read the task from the version's data contract. ``compare_predictions`` (set by the CLI
    for a regression, from its data contract): the drift report gets the model and the version's
    ``holdout_predictions``, when it has them, to compare the predictions too.

    ``output``: the scoring step writes the ``--output`` file's temporary copy before it returns the
    ``predictions`` (local orchestrator only: the CLI renames it once the run has completed).
    """
    model = Client().zen_store.get_model_version(UUID(model_version_id))
    contract = model.get_artifact(DATA_CONTRACT)
    preprocess = model.get_artifact(PREPROCESS_PIPELINE)
    classifier = model.get_artifact(MODEL)
    holdout = model.get_artifact(HOLDOUT_PREDICTIONS) if compare_predictions else None
    compared = compare_predictions and holdout is not None
    prediction_part = {"model": classifier, "holdout_predictions": holdout} if compared else {}
    id_column = input_options.id_column
    range_counts = []
    if input_reference is None:
        rows = load_rows(contract, input_options, data_fingerprint, model_version_id)
    else:
        source = record_input(input_reference)
        plan = plan_scoring(source, input_options.scoring_partitions())
        if not drift.no_drift_check:
            rows = sample_rows(source, contract, id_column, drift.drift_sample_rows)
            range_counts = count_out_of_range.map(
                partition=plan, data_contract=unmapped(contract), chunk_size=unmapped(input_options.chunk_size)
            )
    if not drift.no_drift_check:
        _, decision = drift_report(
            rows, contract, preprocess, model.get_artifact(reference_artifact), reference_artifact,
            model_version_id, data_fingerprint, drift, range_counts, id=REPORT_STEP, **prediction_part,
        )
        drift_gate(decision, id=GATE_STEP)
    if input_reference is None:
        predictions = predict(
            rows, preprocess, classifier, model_version, model_version_id, data_fingerprint, id_column, output,
            contract, id=PREDICT_STEP,
        )
    else:
        parts = score_partition.map(
            partition=plan,
            preprocess_pipeline=unmapped(preprocess),
            model=unmapped(classifier),
            model_version=unmapped(model_version),
            model_version_id=unmapped(model_version_id),
            chunk_size=unmapped(input_options.chunk_size),
            id_column=unmapped(id_column),
            data_contract=unmapped(contract),
        )
        predictions = publish_predictions(
            parts, model_version, model_version_id, data_fingerprint, output, id=PUBLISH_STEP
        )
    if notify_on_success:
        notify_success(predictions, model_description)
