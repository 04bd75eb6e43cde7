"""The metric users pick with ``--metric``: one score for model selection, the quality gates and promotion.

Each metric has the scikit-learn scorer that cross-validation uses, a way to compute it from a
fitted model on rows, and a direction. Every comparison of two scores goes through ``better`` or
``gain`` here, so a metric where lower is better (``log_loss``) is handled in this module only;
scores are stored and printed in the metric's own units (a log loss is positive).

scikit-learn is imported inside the functions: the settings import this module for ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Metric:
    """A metric's name, its scikit-learn scorer name, its direction and its best possible value."""

    name: str
    scorer: str
    higher_is_better: bool
    perfect: float

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"


METRICS: Final = {
    metric.name: metric
    for metric in (
        Metric("accuracy", "accuracy", True, 1.0),
        Metric("balanced_accuracy", "balanced_accuracy", True, 1.0),
        Metric("f1_macro", "f1_macro", True, 1.0),
        Metric("roc_auc", "roc_auc_ovr", True, 1.0),  # one-vs-rest for multiclass; the usual AUC for binary
        Metric("log_loss", "neg_log_loss", False, 0.0),
    )
}
MetricName = Literal["accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"]
DEFAULT_METRIC: Final = "accuracy"
# Differences of scores smaller than this are floating-point noise: 0.92 - 0.90 is not more than 0.02.
TOLERANCE: Final = 1e-9


def metric(name: str) -> Metric:
    """The metric called ``name``; KeyError for another name."""
    return METRICS[name]


def from_scorer(name: str, value: float) -> float:
    """A scikit-learn scorer's value (greater is better, so negated for losses) in the metric's units."""
    return float(value) if metric(name).higher_is_better else -float(value)


def gain(name: str, new: float, old: float) -> float:
    """How much better ``new`` is than ``old`` in the metric's direction (negative when worse)."""
    return new - old if metric(name).higher_is_better else old - new


def better(name: str, new: float, old: float, margin: float = 0.0) -> bool:
    """Whether ``new`` beats ``old`` by more than ``margin``: a tie is not better, and neither is a
    gain that equals the margin up to floating-point noise (``TOLERANCE``)."""
    return gain(name, new, old) > margin + TOLERANCE


def ranking_key(name: str, value: float) -> float:
    """Sort key that puts the best score first."""
    return -value if metric(name).higher_is_better else value


def required_score(name: str, baseline: float, margin: float) -> float:
    """The score to beat: the baseline moved ``margin`` of the way towards the perfect score."""
    return baseline + margin * (metric(name).perfect - baseline)


def score(name: str, model: Any, features: pd.DataFrame, target: pd.Series) -> float | None:
    """The metric of a fitted classifier on these rows; None where it is not defined (e.g. ROC AUC
    on rows of one class, or a probability metric for a model without ``predict_proba``)."""
    import math
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning

    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            value = _compute(name, model, features, target)
    except ValueError:
        return None
    return None if value is None or not math.isfinite(value) else value


def _compute(name: str, model: Any, features: pd.DataFrame, target: pd.Series) -> float | None:
    import numpy as np
    from sklearn import metrics as sk

    classes = list(model.classes_)
    if name in ("roc_auc", "log_loss"):
        if not hasattr(model, "predict_proba"):
            return None
        proba = model.predict_proba(features)
        if name == "log_loss":
            return float(sk.log_loss(target, proba, labels=classes))
        if len(classes) == 2:
            return float(sk.roc_auc_score(np.asarray(target) == classes[1], proba[:, 1]))
        return float(sk.roc_auc_score(target, proba, multi_class="ovr", labels=classes))
    predicted = model.predict(features)
    if name == "accuracy":
        return float(sk.accuracy_score(target, predicted))
    if name == "balanced_accuracy":
        return float(sk.balanced_accuracy_score(target, predicted))
    return float(sk.f1_score(target, predicted, labels=classes, average="macro", zero_division=0))


def baseline_score(name: str, train_target: pd.Series, target: pd.Series) -> float | None:
    """The metric of the majority-class baseline, fitted on the train rows' target, on ``target``.

    ``DummyClassifier(strategy="prior")`` predicts the most frequent train class, exactly as
    ``most_frequent`` does, and gives each class its train share as probability: with
    ``most_frequent``'s probabilities of 0 and 1 the baseline's log loss would be so large that every
    model beats it. The baseline ignores the features.
    """
    import numpy as np
    from sklearn.dummy import DummyClassifier

    baseline = DummyClassifier(strategy="prior").fit(np.zeros((len(train_target), 1)), train_target)
    return score(name, baseline, np.zeros((len(target), 1)), target)
