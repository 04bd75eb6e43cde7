"""The model contract between training and inference: the only place its names are spelled.

Training promotes a model version that holds these artifacts; inference reads them back by
the same names and nothing else.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

DEFAULT_MODEL_NAME = "e2e_use_case"
MODEL_DESCRIPTION = "Tabular classifier trained by e2e-train and scored by e2e-infer."

CONTRACT_VERSION = 1
SUPPORTED_CONTRACT_VERSIONS = frozenset({1})


class Stage(str, Enum):
    """Stages of the Model Control Plane that training promotes to and inference reads from."""

    STAGING = "staging"
    PRODUCTION = "production"

    def __str__(self) -> str:
        return self.value


# The stage as a setting: its help lists the values users type.
StageName = Literal[Stage.STAGING.value, Stage.PRODUCTION.value]  # type: ignore[valid-type]


# Artifacts linked to every promoted model version.
PREPROCESS_PIPELINE = "preprocess_pipeline"
MODEL = "model"
DATASET_TRN = "dataset_trn"
DATASET_TST = "dataset_tst"
DATA_CONTRACT = "data_contract"

# Raw (contract-coerced) training features, a bounded deterministic sample: the drift reference.
DRIFT_REFERENCE = "drift_reference"

# Artifacts of an inference run.
PREDICTIONS = "predictions"
DRIFT_REPORT = "drift_report"
INFERENCE_INPUT = "inference_input"

# Model-version metadata keys.
METADATA_CONTRACT_VERSION = "contract_version"
METADATA_METRICS = "metrics"
METADATA_PROMOTION = "promotion"
METADATA_MLFLOW_REGISTRY_VERSION = "mlflow_registry_version"
METADATA_SELECTION = "model_selection"

# Columns of the predictions table besides one probability column per class.
PREDICTION_ID_COLUMN = "id"
PREDICTED_CLASS_COLUMN = "predicted_class"
PROBABILITY_COLUMN_PREFIX = "proba_"
MODEL_VERSION_COLUMN = "model_version"


def probability_column(class_label: object) -> str:
    """Name of the predictions column that holds the probability of ``class_label``."""
    return f"{PROBABILITY_COLUMN_PREFIX}{class_label}"


# Added for e2e-inference: a step output and metadata keys of an inference run.
DRIFT_DECISION = "drift_decision"
DRIFT_SAMPLE = "drift_sample"
SCORING_PLAN = "scoring_plan"
PREDICTION_PART = "prediction_part"
METADATA_DRIFT = "drift"
METADATA_INFERENCE = "inference"


# The training pipeline, as named in ZenML and as the MLflow experiment of its runs.
TRAINING_PIPELINE = "e2e_training"

# Artifacts of a training run besides the ones inference reads.
TRAINING_DATA = "training_data"
TRAIN_SPLIT = "train_split"
HOLDOUT_SPLIT = "holdout_split"
MODEL_CANDIDATE = "model_candidate"
SELECTED_MODEL = "selected_model"
EVALUATION = "evaluation"
PROMOTION_DECISION = "promotion_decision"

# Metadata of a model candidate artifact: how it scored in cross-validation on the train split.
METADATA_CV_SCORE = "cv_score"
METADATA_CV_SCORE_STD = "cv_score_std"
METADATA_MODEL_FAMILY = "model_family"
METADATA_HYPERPARAMETERS = "hyperparameters"

# Model-version metadata: how the holdout was drawn, so later versions compare on unseen rows.
METADATA_SPLIT = "split"
