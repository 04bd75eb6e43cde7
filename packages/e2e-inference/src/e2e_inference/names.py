"""Names that users see of an inference run: its artifacts, metadata and the predictions' columns."""

from __future__ import annotations

from typing import Final

from e2e_common.contract import HOLDOUT_PREDICTION_COLUMN

# Artifacts of an inference run, linked to the model version it scored with.
PREDICTIONS: Final = "predictions"
DRIFT_REPORT: Final = "drift_report"
INFERENCE_INPUT: Final = "inference_input"
DRIFT_DECISION: Final = "drift_decision"
DRIFT_SAMPLE: Final = "drift_sample"
SCORING_PLAN: Final = "scoring_plan"
PREDICTION_PART: Final = "prediction_part"

# Metadata keys of an inference run's artifacts.
METADATA_DRIFT: Final = "drift"
METADATA_INFERENCE: Final = "inference"

# Keys of the drift report's metadata (under METADATA_DRIFT) and of the predictions' (under
# METADATA_INFERENCE) that a regression version adds.
METADATA_PREDICTION_DRIFT: Final = "prediction_drift"
METADATA_PREDICTION_SUMMARY: Final = "prediction_summary"

# Columns of the predictions table. The id column is named after --id-column when one is given, else
# it holds the row number and is called "id". A classification has the predicted class and one
# probability column per class; a regression one number per row, ``PREDICTION_COLUMN`` (float64).
PREDICTION_ID_COLUMN: Final = "id"
PREDICTED_CLASS_COLUMN: Final = "predicted_class"
PROBABILITY_COLUMN_PREFIX: Final = "proba_"
# Spelled once, in the model contract: the column of training's holdout predictions is the same word.
PREDICTION_COLUMN: Final = HOLDOUT_PREDICTION_COLUMN
MODEL_NAME_COLUMN: Final = "model_name"
MODEL_VERSION_COLUMN: Final = "model_version"


def probability_column(class_label: object) -> str:
    """Name of the predictions column that holds the probability of ``class_label``."""
    return f"{PROBABILITY_COLUMN_PREFIX}{class_label}"
