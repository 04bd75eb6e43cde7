"""The metric users pick with ``--metric``: one score for model selection, the quality gates and promotion.

Each metric has the scikit-learn scorer that cross-validation uses, a way to compute it from a
fitted model on rows, a direction and the task it scores (classification or regression). Every
comparison of two scores goes through ``better`` or ``gain`` here, so a metric where lower is better
(``log_loss``, ``rmse``, ``mae``, ``mape``) is handled in this module only; scores are stored and
printed in the metric's own units (a log loss or an error is positive).

scikit-learn is imported inside the functions: the settings import this module for ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    import pandas as pd


CLASSIFICATION = "classification"  # e2e_common.contract.Task's values, not imported: --help stays light
REGRESSION = "regression"


@dataclass(frozen=True)
class Metric:
    """A metric's name, its scikit-learn scorer name, its direction, its best possible value and its task."""

    name: str
    scorer: str
    higher_is_better: bool
    perfect: float
    task: str = CLASSIFICATION

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
        Metric("rmse", "neg_root_mean_squared_error", False, 0.0, REGRESSION),
        Metric("mae", "neg_mean_absolute_error", False, 0.0, REGRESSION),
        Metric("r2", "r2", True, 1.0, REGRESSION),
        # Mean absolute percentage error, as a fraction (0.12 is 12 %); not defined when a target is 0.
        Metric("mape", "neg_mean_absolute_percentage_error", False, 0.0, REGRESSION),
    )
}
MetricName = Literal["accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss", "rmse", "mae", "r2", "mape"]
DEFAULT_METRIC: Final = "accuracy"
# The metric of each task when --metric is not given.
DEFAULT_METRICS: Final = {CLASSIFICATION: DEFAULT_METRIC, REGRESSION: "rmse"}
# Differences of scores smaller than this are floating-point noise: 0.92 - 0.90 is not more than 0.02.
TOLERANCE: Final = 1e-9


def metric(name: str) -> Metric:
    """The metric called ``name``; KeyError for another name."""
    return METRICS[name]


def default_metric(task: str) -> str:
    """The metric of ``task`` when --metric is not given: accuracy, or rmse for a regression."""
    return DEFAULT_METRICS[str(task)]


def of_task(task: str) -> list[str]:
    """The names of the metrics of ``task``, in the order of ``METRICS``."""
    return [name for name, found in METRICS.items() if found.task == str(task)]


def task_mismatch(name: str, task: str) -> str | None:
    """Why metric ``name`` cannot score a model of ``task`` (one sentence), or None when it can."""
    if metric(name).task == str(task):
        return None
    return f"--metric {name} scores a {metric(name).task}, and this target is a {task}; use one of {', '.join(of_task(task))}"


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
    """The metric of a fitted model on these rows; None where it is not defined (e.g. ROC AUC
    on rows of one class, a probability metric for a model without ``predict_proba``, MAPE where a
    target is 0, R2 on fewer than two rows)."""
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}")
    return _defined(lambda: _compute(name, model, features, target))


def _defined(compute: Any) -> float | None:
    """``compute()``, or None where scikit-learn finds the metric undefined (a ValueError, or a value
    that is not finite); its UndefinedMetricWarning is silenced."""
    import math
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            value = compute()
    except ValueError:
        return None
    return None if value is None or not math.isfinite(value) else value


def _compute(name: str, model: Any, features: pd.DataFrame, target: pd.Series) -> float | None:
    import numpy as np

    if metric(name).task == REGRESSION:
        return regression_score(name, np.asarray(target, dtype="float64"), np.asarray(model.predict(features), dtype="float64"))
    classes = list(model.classes_)
    if name in ("roc_auc", "log_loss"):
        if not hasattr(model, "predict_proba"):
            return None
        return classification_score(name, target, None, model.predict_proba(features), classes)
    return classification_score(name, target, model.predict(features), None, classes)


def score_predictions(name: str, target: pd.Series, predictions: Any, classes: Any = ()) -> float | None:
    """The metric of predictions made already: numbers for a regression, class probabilities (columns in
    ``classes`` order) for a classification, whose predicted class is the likeliest; None where the
    metric is not defined (as ``score``)."""
    import numpy as np

    if metric(name).task == REGRESSION:
        return _defined(
            lambda: regression_score(name, np.asarray(target, dtype="float64"), np.asarray(predictions, dtype="float64"))
        )
    proba = np.asarray(predictions, dtype="float64")
    labels = np.asarray(classes)[proba.argmax(axis=1)]
    return _defined(lambda: classification_score(name, target, labels, proba, list(classes)))


def classification_score(name: str, target: Any, predicted: Any, proba: Any, classes: list[Any]) -> float:
    """A classification metric from the predicted classes, or from the probabilities (``roc_auc`` and
    ``log_loss`` need them; the others take the classes)."""
    import numpy as np
    from sklearn import metrics as sk

    if name == "log_loss":
        return float(sk.log_loss(target, proba, labels=classes))
    if name == "roc_auc":
        if len(classes) == 2:
            return float(sk.roc_auc_score(np.asarray(target) == classes[1], proba[:, 1]))
        return float(sk.roc_auc_score(target, proba, multi_class="ovr", labels=classes))
    if name == "accuracy":
        return float(sk.accuracy_score(target, predicted))
    if name == "balanced_accuracy":
        return float(sk.balanced_accuracy_score(target, predicted))
    return float(sk.f1_score(target, predicted, labels=classes, average="macro", zero_division=0))


def regression_score(name: str, actual: Any, predicted: Any) -> float | None:
    """A regression metric of ``predicted`` against ``actual`` (float arrays); None where it is not
    defined: MAPE when an actual value is 0 (scikit-learn would divide by its epsilon and report a
    meaningless huge error), R2 on fewer than two rows or a constant target."""
    import numpy as np
    from sklearn import metrics as sk

    if name == "rmse":
        return float(sk.root_mean_squared_error(actual, predicted))
    if name == "mae":
        return float(sk.mean_absolute_error(actual, predicted))
    if name == "mape":
        return None if (actual == 0).any() else float(sk.mean_absolute_percentage_error(actual, predicted))
    if len(actual) < 2 or np.all(actual == actual[0]):
        return None
    return float(sk.r2_score(actual, predicted))


def baseline_score(name: str, train_target: pd.Series, target: pd.Series) -> float | None:
    """The metric of the baseline, fitted on the train rows' target, on ``target``: the majority class
    for a classification metric, the train mean for a regression metric.

    For a regression ``DummyRegressor(strategy="mean")`` predicts the train rows' mean target for
    every row.

    ``DummyClassifier(strategy="prior")`` predicts the most frequent train class, exactly as
    ``most_frequent`` does, and gives each class its train share as probability: with
    ``most_frequent``'s probabilities of 0 and 1 the baseline's log loss would be so large that every
    model beats it. The baseline ignores the features.
    """
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if metric(name).task == REGRESSION:
        mean = DummyRegressor(strategy="mean").fit(np.zeros((len(train_target), 1)), train_target)
        return score(name, mean, np.zeros((len(target), 1)), target)
    baseline = DummyClassifier(strategy="prior").fit(np.zeros((len(train_target), 1)), train_target)
    return score(name, baseline, np.zeros((len(target), 1)), target)
