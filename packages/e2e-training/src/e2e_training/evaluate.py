"""Accuracy, F1 and ROC AUC of a fitted classifier, and the accuracy quality gates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from e2e_common.contract import METADATA_CONTRACT_VERSION
from e2e_common.errors import QualityGateError
from e2e_common.schemas import DataContract
from e2e_training.names import METADATA_METRICS, METADATA_PROMOTION, METADATA_SPLIT
from e2e_training.preprocess import features_and_target
from e2e_training.promote import refused_by_gates
from e2e_training.settings import GateOptions, PromotionOptions, SplitOptions
from e2e_training.split import SplitInfo

TRAIN = "train"
HOLDOUT = "holdout"


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
        accuracy=float(accuracy_score(target, predicted)),
        f1=float(f1),
        rows=len(target),
        roc_auc=_roc_auc(model, features, target, classes),
    )


def _roc_auc(model: object, features: pd.DataFrame, target: pd.Series, classes: list) -> float | None:
    if not hasattr(model, "predict_proba") or target.nunique() < 2:
        return None
    proba = model.predict_proba(features)
    try:
        if len(classes) == 2:
            return float(roc_auc_score(np.asarray(target) == classes[1], proba[:, 1]))
        return float(roc_auc_score(target, proba, multi_class="ovr", labels=classes))
    except ValueError:
        return None


def accuracy_gate_failures(
    train: Scores, holdout: Scores, min_train_accuracy: float, min_test_accuracy: float
) -> list[str]:
    """One sentence per accuracy below its minimum."""
    failures = []
    if train.accuracy < min_train_accuracy:
        failures.append(
            f"train accuracy {train.accuracy:.4f} is below --min-train-accuracy {min_train_accuracy}"
        )
    if holdout.accuracy < min_test_accuracy:
        failures.append(
            f"holdout accuracy {holdout.accuracy:.4f} is below --min-test-accuracy {min_test_accuracy}"
        )
    return failures


@dataclass(frozen=True)
class Assessment:
    """Metrics on both data sets, the model-version metadata to log, and the gates' refusal if any."""

    metrics: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    refusal: QualityGateError | None = None
    warnings: list[str] = field(default_factory=list)


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
    """Score the model on both preprocessed data sets and apply the accuracy gates."""
    train = score(model, *features_and_target(dataset_trn, contract))
    holdout = score(model, *features_and_target(dataset_tst, contract))
    metrics = {TRAIN: train.as_metadata(), HOLDOUT: holdout.as_metadata()}
    metadata: dict[str, Any] = {
        METADATA_METRICS: metrics,
        METADATA_SPLIT: SplitInfo.of(split, train.rows, holdout.rows).as_metadata(),
        METADATA_CONTRACT_VERSION: contract.contract_version,
    }
    failures = accuracy_gate_failures(train, holdout, gates.min_train_accuracy, gates.min_test_accuracy)
    if not (failures and gates.fail_on_accuracy_quality_gates):
        return Assessment(metrics, metadata, warnings=failures)
    refused = refused_by_gates(promotion, version_number, holdout.accuracy, failures)
    metadata[METADATA_PROMOTION] = refused.as_metadata()
    return Assessment(metrics, metadata, refusal=QualityGateError(f"{'; '.join(failures)}: not promoted"))
