"""Names that the training team's pipeline gives its runs, artifacts and metadata.

The names inference reads are in ``e2e_common.contract``; these are seen only in the dashboard
and by the training team's own code.
"""

from __future__ import annotations

from typing import Final

# The training pipeline, as named in ZenML and as the MLflow experiment of its runs.
TRAINING_PIPELINE: Final = "e2e_training"

# Artifacts of a training run besides the ones inference reads.
TRAINING_DATA: Final = "training_data"
# The contract as derived from the data, before training adds ranges and importance (data_contract).
FEATURE_SCHEMA: Final = "feature_schema"
TRAIN_SPLIT: Final = "train_split"
HOLDOUT_SPLIT: Final = "holdout_split"
MODEL_CANDIDATE: Final = "model_candidate"
# A family's best candidate's cross-validation predictions of the train rows (search.OutOfFold).
OUT_OF_FOLD_PREDICTIONS: Final = "out_of_fold_predictions"
SELECTED_MODEL: Final = "selected_model"
EVALUATION: Final = "evaluation"
PROMOTION_DECISION: Final = "promotion_decision"
TRAINING_SUMMARY: Final = "training_summary"

# Model-version metadata.
METADATA_METRICS: Final = "metrics"
METADATA_PROMOTION: Final = "promotion"
METADATA_MLFLOW_REGISTRY_VERSION: Final = "mlflow_registry_version"
METADATA_SELECTION: Final = "model_selection"
# How the holdout was drawn, so later versions compare on unseen rows.
METADATA_SPLIT: Final = "split"
# Keys of the metrics metadata (and of the evaluation artifact) besides the data sets "train" and "holdout".
METRICS_METRIC: Final = "metric"
METRICS_BASELINE: Final = "baseline"
METRICS_QUALITY_GATES: Final = "quality_gates"

# Metadata of a model candidate artifact: how it scored in cross-validation on the train split.
METADATA_CV_SCORE: Final = "cv_score"
METADATA_CV_SCORE_STD: Final = "cv_score_std"
# The metric (--metric) the candidate was cross-validated on; cv_score is in its units.
METADATA_CV_METRIC: Final = "cv_metric"
METADATA_MODEL_FAMILY: Final = "model_family"
METADATA_HYPERPARAMETERS: Final = "hyperparameters"

# Model-version metadata: every stage move that brought this version to a stage (e2e-models history).
METADATA_STAGE_MOVES: Final = "stage_moves"
# How the family was searched: method, rounds (rows, candidates), candidates scored, fits, seconds,
# and stopped_by_budget (True when --time-budget ended the search before its last round).
METADATA_SEARCH: Final = "search"
# Model-version metadata: what the model predicts (classification or regression) and why (the data
# contract's task and task_reason), for the summary of e2e-train.
METADATA_TASK: Final = "task"
METADATA_TASK_REASON: Final = "task_reason"
# The rows of the training data: read, left out for a missing target, left out for missing feature
# values (without --no-drop-na), and in each split. Logged on the train split by split_data (a cached
# step) and copied to the model version by train_model.
METADATA_ROWS: Final = "rows"
ROWS_READ: Final = "read"
ROWS_WITHOUT_TARGET: Final = "without_target"
ROWS_WITH_MISSING_VALUES: Final = "with_missing_values"
ROWS_TRAIN: Final = "train"
ROWS_HOLDOUT: Final = "holdout"
