"""Hyperparameter search per model family, by cross-validation on the train split only."""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import joblib
import pandas as pd
from scipy import stats
from sklearn.base import ClassifierMixin, clone
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline

from e2e_common.errors import DataError, UsageError
from e2e_common.schemas import plain_value
from e2e_training import metrics
from e2e_training.names import (
    METADATA_CV_METRIC,
    METADATA_CV_SCORE,
    METADATA_CV_SCORE_STD,
    METADATA_HYPERPARAMETERS,
    METADATA_MODEL_FAMILY,
)
from e2e_training.settings import ModelFamily, Range, SearchOptions

MODEL_STEP = "model"


@dataclass(frozen=True)
class CandidateScore:
    """How a family's best candidate scored in cross-validation, in the metric's own units."""

    family: str
    cv_score: float
    cv_score_std: float = 0.0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metric: str = metrics.DEFAULT_METRIC

    def as_metadata(self) -> dict[str, Any]:
        """Metadata of the candidate's artifact."""
        return {
            METADATA_MODEL_FAMILY: self.family,
            METADATA_CV_SCORE: self.cv_score,
            METADATA_CV_SCORE_STD: self.cv_score_std,
            METADATA_HYPERPARAMETERS: self.hyperparameters,
            METADATA_CV_METRIC: self.metric,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> CandidateScore:
        return cls(
            family=str(metadata[METADATA_MODEL_FAMILY]),
            cv_score=float(metadata[METADATA_CV_SCORE]),
            cv_score_std=float(metadata.get(METADATA_CV_SCORE_STD, 0.0)),
            hyperparameters=dict(metadata.get(METADATA_HYPERPARAMETERS) or {}),
            metric=str(metadata.get(METADATA_CV_METRIC, metrics.DEFAULT_METRIC)),
        )


@dataclass(frozen=True)
class Candidate:
    """The best unfitted classifier of a family and its score."""

    estimator: ClassifierMixin
    score: CandidateScore


def estimator_class(family: ModelFamily, family_name: str) -> type:
    """The classifier class named by ``family``; UsageError naming the setting when it is none."""
    module_name, _, class_name = family.estimator.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"estimator '{family.estimator}' of model family '{family_name}' cannot be imported "
            "(setting 'search_space'); name a scikit-learn classifier class"
        ) from exc
    if not isinstance(found, type) or not issubclass(found, ClassifierMixin):
        raise UsageError(
            f"estimator '{family.estimator}' of model family '{family_name}' is not a classifier "
            "(setting 'search_space')"
        )
    return found


def build_estimator(family: ModelFamily, family_name: str, random_state: int) -> ClassifierMixin:
    """An unfitted classifier with the family's fixed parameters (and ``random_state`` if it has one)."""
    cls = estimator_class(family, family_name)
    known = set(cls().get_params())
    unknown = sorted((set(family.params) | set(family.search)) - known)
    if unknown:
        raise UsageError(
            f"model family '{family_name}': {cls.__name__} has no parameter {', '.join(unknown)} "
            "(setting 'search_space')"
        )
    params = dict(family.params)
    if "random_state" in known:
        params.setdefault("random_state", random_state)
    return cls(**params)


def check_search(options: SearchOptions, target: pd.Series, folds_configured: bool = False) -> None:
    """UsageError naming the setting when a family cannot be used (an estimator, a parameter or a value
    it refuses); DataError when the train rows' classes are too small for cross-validation.

    ``folds_configured``: ``cv_folds`` was set by the user (config file or variable), so more folds
    than the smallest class has train rows is refused; the package default shrinks to fit.
    """
    for name, family in options.families().items():
        check_parameter_values(family, name, build_estimator(family, name, random_state=0))
    if folds_configured:
        check_folds(target, options.cv_folds)
    cv_splitter(target, options.cv_folds, options.random_state)


def check_folds(target: pd.Series, folds: int) -> None:
    """DataError when ``folds`` exceeds the train rows of the smallest class (a fold needs one of each)."""
    counts = target.value_counts()
    if counts.empty:
        return
    smallest = int(counts.min())
    if folds > smallest:
        rare = plain_value(counts.idxmin())
        raise DataError(
            f"cv_folds {folds} is more than the {smallest} train rows of the smallest class ({rare!r}) "
            f"(setting 'cv_folds'); set cv_folds to at most {smallest}, or leave it unset to use as many as fit"
        )


def check_parameter_values(family: ModelFamily, family_name: str, estimator: ClassifierMixin) -> None:
    """UsageError naming the family, the parameter and the value when the estimator refuses a fixed
    value, a choice or an end of a range (scikit-learn's own check of its parameters, first line only)."""
    if not hasattr(estimator, "_validate_params"):
        return
    tried: list[tuple[str, Any]] = [(name, value) for name, value in family.params.items()]
    for name, values in family.search.items():
        if isinstance(values, list):
            tried.extend((name, value) for value in values)
        else:
            low, high = values.int_ or values.float_ or values.log
            tried.extend([(name, low), (name, high)])
    for name, value in tried:
        candidate = clone(estimator)
        try:
            candidate.set_params(**{name: value})
            candidate._validate_params()
        except (ValueError, TypeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(
                f"model family '{family_name}': {type(estimator).__name__} refuses {name} = {_shown(value)}: "
                f"{reason} (setting 'search_space')"
            ) from exc


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(plain_value(value))


def distribution(values: list[Any] | Range) -> Any:
    """What RandomizedSearchCV draws from for one hyperparameter."""
    if isinstance(values, list):
        return values
    if values.int_ is not None:
        low, high = values.int_
        return stats.randint(low, high + 1)
    if values.float_ is not None:
        low, high = values.float_
        return stats.uniform(low, high - low)
    low, high = values.log
    return stats.loguniform(low, high)


def cv_splitter(y: pd.Series, folds: int, random_state: int) -> StratifiedKFold:
    """Stratified folds; fewer than ``folds`` when the smallest class has fewer rows."""
    smallest = int(y.value_counts().min())
    if smallest < 2:
        rare = plain_value(y.value_counts().idxmin())
        raise DataError(
            f"class {rare!r} has only {smallest} row in the train split; cross-validation needs at "
            "least 2 rows per class"
        )
    return StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=random_state)


def search_family(
    family_name: str,
    family: ModelFamily,
    features: pd.DataFrame,
    target: pd.Series,
    preprocess: Pipeline,
    options: SearchOptions,
) -> Candidate:
    """The family's best hyperparameters by the cross-validated ``metric`` on these rows.

    Each fold refits a copy of ``preprocess`` on its own training part, so no fold sees statistics
    of the rows it is scored on. A family without a search space is scored as configured. Folds
    and candidates run in parallel on all cores through joblib's ``parallel_backend``.
    """
    estimator = build_estimator(family, family_name, options.random_state)
    pipeline = Pipeline([("preprocess", clone(preprocess)), (MODEL_STEP, estimator)])
    cv = cv_splitter(target, options.cv_folds, options.random_state)
    scoring, parallel_backend = metrics.metric(options.metric).scorer, options.parallel_backend
    if not family.search:
        with joblib.parallel_backend(parallel_backend):
            scores = cross_val_score(pipeline, features, target, cv=cv, scoring=scoring, n_jobs=-1)
        return _candidate(family_name, estimator, family.params, scores.mean(), scores.std(), options.metric)
    search = RandomizedSearchCV(
        pipeline,
        {f"{MODEL_STEP}__{name}": distribution(values) for name, values in family.search.items()},
        n_iter=options.n_iter,
        cv=cv,
        scoring=scoring,
        n_jobs=-1,
        refit=False,
        random_state=options.random_state,
    )
    with warnings.catch_warnings(), joblib.parallel_backend(parallel_backend):
        warnings.filterwarnings("ignore", message="The total space of parameters")
        search.fit(features, target)
    best = search.best_index_
    score = float(search.cv_results_["mean_test_score"][best])
    if not math.isfinite(score):
        raise UsageError(
            f"every candidate of model family '{family_name}' failed to fit (setting 'search_space'); "
            "run with --debug for the warnings"
        )
    params = {name.removeprefix(f"{MODEL_STEP}__"): value for name, value in search.best_params_.items()}
    return _candidate(
        family_name,
        clone(estimator).set_params(**params),
        {**family.params, **params},
        score,
        search.cv_results_["std_test_score"][best],
        options.metric,
    )


def _candidate(
    family_name: str, estimator: ClassifierMixin, params: dict[str, Any], score: float, std: float, metric: str
) -> Candidate:
    """The candidate, its scorer's value turned into the metric's units (a log loss is positive)."""
    return Candidate(
        estimator=estimator,
        score=CandidateScore(
            family=family_name,
            cv_score=metrics.from_scorer(metric, score),
            cv_score_std=float(std),
            hyperparameters={name: hyperparameter_value(value) for name, value in params.items()},
            metric=metric,
        ),
    )


@dataclass(frozen=True)
class Selection:
    """The selected family and every candidate's CV score: stored as model-version metadata."""

    selected: str
    cv_score: float
    hyperparameters: dict[str, Any]
    candidates: dict[str, float]
    metric: str = metrics.DEFAULT_METRIC

    @classmethod
    def of(cls, scores: Sequence[CandidateScore], best: int) -> Selection:
        winner = scores[best]
        candidates = {s.family: s.cv_score for s in scores}
        return cls(winner.family, winner.cv_score, winner.hyperparameters, candidates, winner.metric)

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)


def select_best(candidates: Sequence[CandidateScore]) -> int:
    """Index of the best candidate: best CV score in its metric's direction, then lowest spread, then
    family name."""
    if not candidates:
        raise ValueError("no candidates to select from")

    def key(i: int) -> tuple[float, float, str]:
        candidate = candidates[i]
        return metrics.ranking_key(candidate.metric, candidate.cv_score), candidate.cv_score_std, candidate.family

    ranked = sorted(range(len(candidates)), key=key)
    return ranked[0]


def hyperparameter_value(value: Any) -> Any:
    """A JSON-friendly form of a hyperparameter value: a scalar, or its text."""
    value = plain_value(value)
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)
