"""Train and holdout metrics of a fitted classifier, the majority-class baseline, and the quality gates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sklearn.metrics import f1_score

from e2e_common.contract import METADATA_CONTRACT_VERSION
from e2e_common.errors import QualityGateError
from e2e_common.schemas import DataContract
from e2e_training import metrics
from e2e_training.names import (
    METADATA_METRICS,
    METADATA_PROMOTION,
    METADATA_SPLIT,
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


@dataclass(frozen=True)
class Scores:
    """Metrics of a classifier on one data set; ROC AUC is None where it is not defined."""

    accuracy: float
    f1: float
    rows: int
    roc_auc: float | None = None

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


def _worse(metric: str, value: float | None, floor: float) -> bool:
    return value is None or metrics.gain(metric, value, floor) < 0


def gate_failures(
    metric: str, train: float | None, holdout: float | None, baseline: float | None, gates: GateOptions
) -> list[str]:
    """One sentence per quality gate the model fails, in ``metric``.

    Always: the holdout score must beat the majority-class baseline's by more than
    ``baseline_margin`` of the way to a perfect score. With ``min_train_score`` or ``min_test_score``:
    the score on that data set must not be worse than the floor.
    """
    failures = []
    if holdout is None:
        failures.append(f"holdout {metric} is not defined for this model and holdout")
    elif baseline is None:
        failures.append(f"the majority-class baseline's holdout {metric} is not defined: the gate cannot pass")
    else:
        required = metrics.required_score(metric, baseline, gates.baseline_margin)
        if not metrics.better(metric, holdout, required):
            failures.append(
                f"holdout {metric} {holdout:.4f} does not beat the majority-class baseline's {baseline:.4f} "
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
    """Score the model and the majority-class baseline on both preprocessed data sets; apply the gates."""
    metric = gates.metric
    train_rows, holdout_rows = features_and_target(dataset_trn, contract), features_and_target(dataset_tst, contract)
    train_metric = metrics.score(metric, model, *train_rows)
    holdout_metric = metrics.score(metric, model, *holdout_rows)
    baseline = metrics.baseline_score(metric, train_rows[1], holdout_rows[1])
    failures = gate_failures(metric, train_metric, holdout_metric, baseline, gates)
    train, holdout = score(model, *train_rows), score(model, *holdout_rows)
    recorded = {
        METRICS_METRIC: metric,
        TRAIN: _with(train.as_metadata(), metric, train_metric),
        HOLDOUT: _with(holdout.as_metadata(), metric, holdout_metric),
        METRICS_BASELINE: _with({"strategy": BASELINE_STRATEGY}, metric, baseline),
        METRICS_QUALITY_GATES: {
            "passed": not failures,
            "failures": failures,
            "baseline_margin": gates.baseline_margin,
            **({} if baseline is None else {"required": metrics.required_score(metric, baseline, gates.baseline_margin)}),
        },
    }
    metadata: dict[str, Any] = {
        METADATA_METRICS: recorded,
        METADATA_SPLIT: SplitInfo.of(split, train.rows, holdout.rows).as_metadata(),
        METADATA_CONTRACT_VERSION: contract.contract_version,
    }
    if not (failures and gates.fail_on_quality_gates):
        return Assessment(recorded, metadata, failures=failures)
    refused = refused_by_gates(promotion, version_number, holdout_metric, failures)
    metadata[METADATA_PROMOTION] = refused.as_metadata()
    return Assessment(
        recorded, metadata, refusal=QualityGateError(f"{'; '.join(failures)}: not promoted"), failures=failures
    )


def _with(values: dict[str, Any], metric: str, value: float | None) -> dict[str, Any]:
    return values if value is None else {**values, metric: value}
