"""Train and holdout metrics of a fitted model, the baseline, the quality gates, and the holdout's predictions.

A classifier is scored in accuracy, F1 and ROC AUC against the majority class; a regressor in RMSE,
MAE, R2 and MAPE against the train mean. The run's metric (``--metric``) is recorded beside them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from e2e_common.contract import HOLDOUT_PREDICTION_COLUMN, METADATA_CONTRACT_VERSION
from e2e_common.errors import DataError, QualityGateError
from e2e_common.schemas import DataContract
from e2e_training import metrics
from e2e_training.names import (
    METADATA_METRICS,
    METADATA_PROMOTION,
    METADATA_SPLIT,
    METADATA_TASK,
    METADATA_TASK_REASON,
    METRICS_BASELINE,
    METRICS_METRIC,
    METRICS_QUALITY_GATES,
)
from e2e_training.preprocess import features_and_target
from e2e_training.promote import refused_by_gates
from e2e_training.settings import GateOptions, PromotionOptions, SplitOptions
from e2e_training.split import SplitInfo

TRAIN = "train"
HOLDOUT = "holdout"
BASELINE_STRATEGY = "prior"  # metrics.baseline_score: the majority class, with the train shares as probabilities
REGRESSION_BASELINE_STRATEGY = "mean"  # metrics.baseline_score: the train rows' mean target for every row
BASELINE_STRATEGIES = {metrics.CLASSIFICATION: BASELINE_STRATEGY, metrics.REGRESSION: REGRESSION_BASELINE_STRATEGY}
BASELINE_NAMES = {metrics.CLASSIFICATION: "the majority-class baseline", metrics.REGRESSION: "the mean baseline"}
# The metrics recorded for a regressor on both data sets and for its baseline, whatever --metric is.
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
# Why a regression metric can be undefined on a holdout (an error limit then cannot be checked).
UNDEFINED_BECAUSE = {
    "mape": "a holdout target is 0",
    "r2": "the holdout target is constant or has fewer than 2 rows",
}


@dataclass(frozen=True)
class Scores:
    """Metrics of a classifier on one data set; ROC AUC is None where it is not defined."""

    accuracy: float
    f1: float
    rows: int
    roc_auc: float | None = None

    def as_metadata(self) -> dict[str, float | int]:
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class RegressionScores:
    """Metrics of a regressor on one data set; R2 and MAPE are None where they are not defined
    (MAPE when a target is 0, R2 on a constant target)."""

    rmse: float | None
    mae: float | None
    rows: int
    r2: float | None = None
    mape: float | None = None

    def as_metadata(self) -> dict[str, float | int]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def score(model: object, features: pd.DataFrame, target: pd.Series) -> Scores:
    """Accuracy, F1 (macro over classes when there are more than two) and ROC AUC."""
    predicted = model.predict(features)
    classes = list(model.classes_)
    if len(classes) == 2:
        f1 = f1_score(target, predicted, pos_label=classes[1], average="binary", zero_division=0)
    else:
        f1 = f1_score(target, predicted, labels=classes, average="macro", zero_division=0)
    return Scores(
        accuracy=metrics.score("accuracy", model, features, target),
        f1=float(f1),
        rows=len(target),
        roc_auc=metrics.score("roc_auc", model, features, target),
    )


def regression_scores(actual: Any, predicted: Any) -> RegressionScores:
    """RMSE, MAE, R2 and MAPE of ``predicted`` against ``actual``, each None where it is not defined."""
    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    values = {name: _defined(name, actual, predicted) for name in REGRESSION_METRICS}
    return RegressionScores(rows=len(actual), **values)


def _defined(name: str, actual: Any, predicted: Any) -> float | None:
    """A regression metric, None where it is not defined (also for predictions that are not numbers)."""
    try:
        return _finite(metrics.regression_score(name, actual, predicted))
    except ValueError:  # scikit-learn refuses NaN or infinite predictions
        return None


def score_regressor(model: object, features: pd.DataFrame, target: pd.Series) -> RegressionScores:
    """The regression metrics of a fitted regressor on these rows (one prediction of them)."""
    return regression_scores(target, model.predict(features))


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def baseline_name(metric: str) -> str:
    """``the majority-class baseline``, or ``the mean baseline`` for a regression metric."""
    return BASELINE_NAMES[metrics.metric(metric).task]


def _worse(metric: str, value: float | None, floor: float) -> bool:
    return value is None or metrics.gain(metric, value, floor) < 0


def gate_failures(
    metric: str, train: float | None, holdout: float | None, baseline: float | None, gates: GateOptions
) -> list[str]:
    """One sentence per quality gate the model fails, in ``metric``.

    Always: the holdout score must beat the baseline's (the majority class, or the train mean for a
    regression metric) by more than ``baseline_margin`` of the way to a perfect score. With
    ``min_train_score`` or ``min_test_score``: the score on that data set must not be worse than the floor.
    """
    failures = []
    named = baseline_name(metric)
    if holdout is None:
        failures.append(f"holdout {metric} is not defined for this model and holdout")
    elif baseline is None:
        failures.append(f"{named}'s holdout {metric} is not defined: the gate cannot pass")
    else:
        required = metrics.required_score(metric, baseline, gates.baseline_margin)
        if not metrics.better(metric, holdout, required):
            failures.append(
                f"holdout {metric} {holdout:.4f} does not beat {named}'s {baseline:.4f} "
                f"by more than --baseline-margin {gates.baseline_margin} of the way to {metrics.metric(metric).perfect:g} "
                f"(needs {'above' if metrics.metric(metric).higher_is_better else 'below'} {required:.4f})"
            )
    relation = "below" if metrics.metric(metric).higher_is_better else "above"
    for name, value, floor, flag in (
        (TRAIN, train, gates.min_train_score, "--min-train-score"),
        (HOLDOUT, holdout, gates.min_test_score, "--min-test-score"),
    ):
        if floor is not None and value is None:
            failures.append(f"{name} {metric} is not defined, so {flag} {floor} cannot be checked")
        elif floor is not None and _worse(metric, value, floor):
            failures.append(f"{name} {metric} {value:.4f} is {relation} {flag} {floor}")
    return failures


def limit_failures(holdout: Mapping[str, Any], gates: GateOptions) -> list[str]:
    """One sentence per error limit (``--max-rmse``, ``--max-mae``, ``--max-mape``, ``--min-r2``) the
    holdout scores ``holdout`` fail: an error above its maximum, an R2 below its minimum, or a limit
    whose metric is not defined on the holdout (it cannot be checked, so it fails)."""
    failures = []
    for name, (flag, limit) in gates.error_limits().items():
        value = holdout.get(name)
        if not isinstance(value, (int, float)):
            because = UNDEFINED_BECAUSE.get(name, "the model does not predict numbers")
            failures.append(f"holdout {name} is not defined ({because}), so {flag} {limit} cannot be checked")
        elif _worse(name, float(value), limit):
            relation = "below" if metrics.metric(name).higher_is_better else "above"
            failures.append(f"holdout {name} {value:.4f} is {relation} {flag} {limit}")
    return failures


def recorded_limits(holdout: Mapping[str, Any], gates: GateOptions) -> dict[str, dict[str, Any]]:
    """The error limits set, for the recorded quality gates: ``{metric: {flag, limit, passed}}``."""
    return {
        name: {"flag": flag, "limit": limit, "passed": not limit_failures(holdout, _only(gates, name))}
        for name, (flag, limit) in gates.error_limits().items()
    }


def _only(gates: GateOptions, name: str) -> GateOptions:
    """``gates`` with only the error limit of metric ``name`` set."""
    fields = {"rmse": "max_rmse", "mae": "max_mae", "mape": "max_mape", "r2": "min_r2"}
    return gates.model_copy(update={field: None for metric, field in fields.items() if metric != name})


@dataclass(frozen=True)
class Assessment:
    """Metrics on both data sets, the model-version metadata to log, and the gates' verdict.

    ``refusal`` is set when a gate failed and ``fail_on_quality_gates`` asks to exit 3; otherwise the
    failures are in ``failures`` (and in the metrics' ``quality_gates``), and promotion is refused.
    """

    metrics: dict[str, Any]
    metadata: dict[str, Any]
    refusal: QualityGateError | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def tracked(self) -> dict[str, dict[str, float]]:
        """The numbers per data set, for MLflow: ``train``, ``holdout`` and ``baseline``."""
        return {
            name: {key: value for key, value in values.items() if isinstance(value, (int, float))}
            for name, values in self.metrics.items()
            if name in (TRAIN, HOLDOUT, METRICS_BASELINE)
        }


def gate_failures_of(evaluation: dict[str, Any]) -> list[str]:
    """The quality gates' failures recorded in an evaluation (the ``metrics`` dict)."""
    return list(evaluation.get(METRICS_QUALITY_GATES, {}).get("failures", []))


def assess(
    model: object,
    dataset_trn: pd.DataFrame,
    dataset_tst: pd.DataFrame,
    contract: DataContract,
    split: SplitOptions,
    gates: GateOptions,
    promotion: PromotionOptions,
    version_number: int,
) -> Assessment:
    """Score the model and the baseline on both preprocessed data sets; apply the gates.

    A classifier gets accuracy, F1 and ROC AUC, its baseline the majority class; a regressor gets
    RMSE, MAE, R2 and MAPE on both data sets and so does its baseline (the train mean), and the
    error limits are checked on the holdout. The run's metric is recorded in all three either way.
    """
    metric, task = gates.metric, contract.task.value
    mismatch = metrics.task_mismatch(metric, task)
    if mismatch is not None:
        raise DataError(mismatch)
    train_rows, holdout_rows = features_and_target(dataset_trn, contract), features_and_target(dataset_tst, contract)
    train_metric = metrics.score(metric, model, *train_rows)
    holdout_metric = metrics.score(metric, model, *holdout_rows)
    baseline = metrics.baseline_score(metric, train_rows[1], holdout_rows[1])
    baseline_scores: dict[str, Any] = {"strategy": BASELINE_STRATEGIES[task]}
    if contract.is_regression:
        train, holdout = score_regressor(model, *train_rows), score_regressor(model, *holdout_rows)
        for name in REGRESSION_METRICS:
            baseline_scores = _with(baseline_scores, name, metrics.baseline_score(name, train_rows[1], holdout_rows[1]))
    else:
        train, holdout = score(model, *train_rows), score(model, *holdout_rows)
    holdout_scores = _with(holdout.as_metadata(), metric, holdout_metric)
    failures = gate_failures(metric, train_metric, holdout_metric, baseline, gates) + limit_failures(holdout_scores, gates)
    limits = recorded_limits(holdout_scores, gates)
    recorded = {
        METRICS_METRIC: metric,
        TRAIN: _with(train.as_metadata(), metric, train_metric),
        HOLDOUT: holdout_scores,
        METRICS_BASELINE: _with(baseline_scores, metric, baseline),
        METRICS_QUALITY_GATES: {
            "passed": not failures,
            "failures": failures,
            "baseline_margin": gates.baseline_margin,
            **({} if baseline is None else {"required": metrics.required_score(metric, baseline, gates.baseline_margin)}),
            **({"limits": limits} if limits else {}),
        },
    }
    metadata: dict[str, Any] = {
        METADATA_METRICS: recorded,
        METADATA_SPLIT: SplitInfo.of(split, train.rows, holdout.rows).as_metadata(),
        METADATA_CONTRACT_VERSION: contract.contract_version,
        METADATA_TASK: task,
        **({METADATA_TASK_REASON: contract.task_reason} if contract.task_reason else {}),
    }
    if not (failures and gates.fail_on_quality_gates):
        return Assessment(recorded, metadata, failures=failures)
    refused = refused_by_gates(promotion, version_number, holdout_metric, failures)
    metadata[METADATA_PROMOTION] = refused.as_metadata()
    return Assessment(
        recorded, metadata, refusal=QualityGateError(f"{'; '.join(failures)}: not promoted"), failures=failures
    )


def holdout_predictions(model: object, dataset_tst: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The model's predictions on the preprocessed holdout rows, in one column ``prediction``: numbers
    for a regressor, the predicted class for a classifier (the reference of the drift report's
    prediction part)."""
    features, _ = features_and_target(dataset_tst, contract)
    predicted = np.asarray(model.predict(features))
    if contract.is_regression:
        predicted = predicted.astype("float64")
    return pd.DataFrame({HOLDOUT_PREDICTION_COLUMN: predicted})


def _with(values: dict[str, Any], metric: str, value: float | None) -> dict[str, Any]:
    return values if value is None else {**values, metric: value}
