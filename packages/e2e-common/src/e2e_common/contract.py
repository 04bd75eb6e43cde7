"""The model contract between the two teams: the only place its names are spelled.

Training promotes a model version to a stage and links these artifacts to it; inference reads the
version at a stage and these artifacts, and nothing else. The data contract record itself
(features, kinds, categories, target, classes) is ``e2e_common.schemas.DataContract``; its
version is ``CONTRACT_VERSION`` here, its task (classification or regression) ``Task``. Names that only one team uses live in that team's package.
See docs/contract.md.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal

DEFAULT_MODEL_NAME: Final = "e2e_use_case"
MODEL_DESCRIPTION: Final = "Tabular model (classifier or regressor) trained by e2e-train and scored by e2e-infer."

# Version 2 adds each feature's training range and importance, and the excluded columns. Version 3
# adds the task: a regression's contract is version 3; a classification's is still written as
# version 2 (its record only gains ``task: classification``, which a reader of version 2 ignores),
# so e2e-infer releases that know only versions 1 and 2 keep scoring classifiers.
CONTRACT_VERSION: Final = 3
CLASSIFICATION_CONTRACT_VERSION: Final = 2
SUPPORTED_CONTRACT_VERSIONS: Final = frozenset({1, 2, 3})


class Task(str, Enum):
    """What a model version predicts: a class (classification) or a number (regression)."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"

    def __str__(self) -> str:
        return self.value


# The task as a setting (``--task``): its help lists the values users type.
TaskName = Literal[Task.CLASSIFICATION.value, Task.REGRESSION.value]  # type: ignore[valid-type]

# A target of whole numbers with more distinct values than this is read as a regression (a count, an
# amount, a score on a fine scale); with this many or fewer as classes (a rating, a grade, a code).
# Twenty keeps a classifier's output readable (one probability column per class) and its
# cross-validation possible (every class needs rows in every fold); ``--task`` overrides it.
MAX_INFERRED_CLASSES: Final = 20


class Stage(str, Enum):
    """Stages of the Model Control Plane that training promotes to and inference reads from."""

    STAGING = "staging"
    PRODUCTION = "production"

    def __str__(self) -> str:
        return self.value


# The stage as a setting: its help lists the values users type.
StageName = Literal[Stage.STAGING.value, Stage.PRODUCTION.value]  # type: ignore[valid-type]


# Artifacts linked to every promoted model version.
DATA_CONTRACT: Final = "data_contract"
PREPROCESS_PIPELINE: Final = "preprocess_pipeline"
MODEL: Final = "model"
DATASET_TRN: Final = "dataset_trn"
DATASET_TST: Final = "dataset_tst"
# Raw (contract-coerced) training features, a bounded deterministic sample: the drift reference.
DRIFT_REFERENCE: Final = "drift_reference"
# A regression version's predictions on its holdout rows (one column, ``HOLDOUT_PREDICTION_COLUMN``):
# the reference the drift report compares the predictions of the rows scored with.
HOLDOUT_PREDICTIONS: Final = "holdout_predictions"
HOLDOUT_PREDICTION_COLUMN: Final = "prediction"

# Model-version metadata: the version of the data contract the version was trained with.
METADATA_CONTRACT_VERSION: Final = "contract_version"

# The reason the data contract's ``excluded_columns`` gives for an identifier column: inference
# accepts such a column in the rows to score and takes it as the default id column.
IDENTIFIER_REASON: Final = "identifier"
