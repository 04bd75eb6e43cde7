"""Accuracy, F1 and ROC AUC of a fitted classifier, and the accuracy quality gates."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

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
