"""Hyperparameter search per model family, by cross-validation on the train split only."""

from __future__ import annotations

import importlib
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, ParameterSampler, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import resample
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits

from e2e_common.errors import DataError, UsageError
from e2e_common.preprocessing import NativeCategories, NativeCategoriesClassifier, NativeCategoriesRegressor
from e2e_common.schemas import plain_value
from e2e_training import metrics
from e2e_training.names import (
    METADATA_CV_METRIC,
    METADATA_CV_SCORE,
    METADATA_CV_SCORE_STD,
    METADATA_HYPERPARAMETERS,
    METADATA_MODEL_FAMILY,
    METADATA_SEARCH,
)
from e2e_training.settings import CLASSIFICATION, REGRESSION, ModelFamily, Range, SearchOptions

MODEL_STEP = "model"
PREPROCESS_STEP = "preprocess"
# The first round of successive halving cross-validates on at least this many train rows.
MIN_ROUND_ROWS = 100
# Parameters that make a candidate slower to fit the larger they are: the cheapest candidates of the
# first round go first, so a time budget cut there still leaves the most candidates scored.
SIZE_PARAMETERS = ("n_estimators", "max_iter", "max_leaf_nodes", "max_depth")


@dataclass(frozen=True)
class CandidateScore:
    """How a family's best candidate scored in cross-validation, in the metric's own units."""

    family: str
    cv_score: float
    cv_score_std: float = 0.0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metric: str = metrics.DEFAULT_METRIC
    search: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_metadata(self) -> dict[str, Any]:
        """Metadata of the candidate's artifact."""
        return {
            METADATA_MODEL_FAMILY: self.family,
            METADATA_CV_SCORE: self.cv_score,
            METADATA_CV_SCORE_STD: self.cv_score_std,
            METADATA_HYPERPARAMETERS: self.hyperparameters,
            METADATA_CV_METRIC: self.metric,
            METADATA_SEARCH: self.search,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> CandidateScore:
        return cls(
            family=str(metadata[METADATA_MODEL_FAMILY]),
            cv_score=float(metadata[METADATA_CV_SCORE]),
            cv_score_std=float(metadata.get(METADATA_CV_SCORE_STD, 0.0)),
            hyperparameters=dict(metadata.get(METADATA_HYPERPARAMETERS) or {}),
            metric=str(metadata.get(METADATA_CV_METRIC, metrics.DEFAULT_METRIC)),
            search=dict(metadata.get(METADATA_SEARCH) or {}),
        )


@dataclass(frozen=True)
class OutOfFold:
    """A candidate's cross-validation predictions on all train rows (its search's last round): each row's
    prediction by the copy fitted on the other folds. ``predictions`` are class probabilities (one column
    per class, in the order of ``numpy.unique(target)``, scikit-learn's ``classes_``) or numbers; ``fold``
    is the fold each row was scored in. Every family's search uses the same folds (``cv_splitter``), so
    two families' predictions of a row can be averaged (``e2e_training.blend``)."""

    fold: np.ndarray
    target: pd.Series
    predictions: np.ndarray

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.target)

    def as_frame(self) -> pd.DataFrame:
        """The artifact's form: ``fold``, ``target``, then ``p0``, ``p1``, ... (a regression: ``p0``)."""
        columns = self.predictions.reshape(len(self.fold), -1)
        frame = pd.DataFrame({OUT_OF_FOLD_FOLD: self.fold, OUT_OF_FOLD_TARGET: self.target.to_numpy()})
        for i in range(columns.shape[1]):
            frame[f"p{i}"] = columns[:, i]
        return frame

    @staticmethod
    def none() -> pd.DataFrame:
        """The artifact of a search that did not reach all train rows: no rows (``from_frame``: None)."""
        return pd.DataFrame({OUT_OF_FOLD_FOLD: pd.Series(dtype="int64"), OUT_OF_FOLD_TARGET: pd.Series(dtype="float64")})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OutOfFold | None:
        """The predictions of ``as_frame``; None for an empty frame (the family's search did not reach
        all train rows)."""
        if frame.empty:
            return None
        values = frame.drop(columns=[OUT_OF_FOLD_FOLD, OUT_OF_FOLD_TARGET]).to_numpy(dtype="float64")
        return cls(
            frame[OUT_OF_FOLD_FOLD].to_numpy(), frame[OUT_OF_FOLD_TARGET].reset_index(drop=True),
            values[:, 0] if values.shape[1] == 1 else values,
        )


# The fold and target columns of an ``OutOfFold`` frame.
OUT_OF_FOLD_FOLD = "fold"
OUT_OF_FOLD_TARGET = "target"


@dataclass(frozen=True)
class Candidate:
    """The best unfitted model (classifier or regressor) of a family, its score and its out-of-fold
    predictions (None when its search did not reach all train rows)."""

    estimator: BaseEstimator
    score: CandidateScore
    out_of_fold: OutOfFold | None = None


# What each task's families must be, and the words for it.
ESTIMATOR_BASES = {CLASSIFICATION: (ClassifierMixin, "classifier"), REGRESSION: (RegressorMixin, "regressor")}


def estimator_class(family: ModelFamily, family_name: str, task: str = CLASSIFICATION) -> type:
    """The classifier (regressor, for a regression) class named by ``family``; UsageError naming the
    setting when it is none."""
    base, kind = ESTIMATOR_BASES[str(task)]
    setting = SearchOptions.space_setting(task)
    module_name, _, class_name = family.estimator.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"estimator '{family.estimator}' of model family '{family_name}' cannot be imported "
            f"(setting '{setting}'); name a scikit-learn {kind} class"
        ) from exc
    if not isinstance(found, type) or not issubclass(found, base):
        raise UsageError(
            f"estimator '{family.estimator}' of model family '{family_name}' is not a {kind} "
            f"(setting '{setting}')"
        )
    return found


def build_estimator(
    family: ModelFamily,
    family_name: str,
    random_state: int,
    categorical: Sequence[str] = (),
    other_features: Sequence[str] = (),
    task: str = CLASSIFICATION,
) -> BaseEstimator:
    """An unfitted classifier (regressor, for a regression) with the family's fixed parameters (and
    ``random_state`` if it has one).

    A model with native categorical support (``categorical_features``), given the names of the
    categorical features, is wrapped so that it sees each as one column of category codes instead of
    the preprocessing's one-hot columns (``NativeCategoriesClassifier``, ``NativeCategoriesRegressor``);
    its search parameters are then those of ``estimator``, see ``parameter_prefix``.
    """
    cls = estimator_class(family, family_name, task)
    known = set(cls().get_params())
    unknown = sorted((set(family.params) | set(family.search)) - known)
    if unknown:
        raise UsageError(
            f"model family '{family_name}': {cls.__name__} has no parameter {', '.join(unknown)} "
            f"(setting '{SearchOptions.space_setting(task)}')"
        )
    params = dict(family.params)
    if "random_state" in known:
        params.setdefault("random_state", random_state)
    if categorical and "categorical_features" in known:
        params.setdefault("categorical_features", "from_dtype")
        wrapper = NativeCategoriesRegressor if str(task) == REGRESSION else NativeCategoriesClassifier
        return wrapper(cls(**params), tuple(categorical), tuple(other_features))
    return cls(**params)


def parameter_prefix(estimator: BaseEstimator) -> str:
    """The prefix of the model's own parameters within ``estimator``."""
    return "estimator__" if isinstance(estimator, NativeCategories) else ""


def classifier_params(estimator: BaseEstimator, params: dict[str, Any]) -> BaseEstimator:
    """A copy of ``estimator`` with the model's ``params`` set (wrapped or not)."""
    prefix = parameter_prefix(estimator)
    return clone(estimator).set_params(**{f"{prefix}{name}": value for name, value in params.items()})


def check_search(
    options: SearchOptions, target: pd.Series, folds_configured: bool = False, task: str = CLASSIFICATION
) -> None:
    """UsageError naming the setting when a family of ``task`` cannot be used (an estimator, a parameter
    or a value it refuses); DataError when the train rows are too few for cross-validation (for a
    classification: the rows of its smallest class).

    ``folds_configured``: ``cv_folds`` was set by the user (config file or variable), so more folds
    than the smallest class has train rows is refused; the package default shrinks to fit.
    """
    for name, family in options.families(task).items():
        check_parameter_values(family, name, build_estimator(family, name, random_state=0, task=task), task)
    if folds_configured:
        check_folds(target, options.cv_folds, task)
    cv_splitter(target, options.cv_folds, options.random_state, task)


def check_folds(target: pd.Series, folds: int, task: str = CLASSIFICATION) -> None:
    """DataError when ``folds`` exceeds the train rows (of the smallest class, for a classification: a
    fold needs one of each)."""
    if str(task) == REGRESSION:
        if folds > len(target):
            raise DataError(
                f"cv_folds {folds} is more than the {len(target)} train rows (setting 'cv_folds'); "
                f"set cv_folds to at most {len(target)}"
            )
        return
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


def check_parameter_values(
    family: ModelFamily, family_name: str, estimator: BaseEstimator, task: str = CLASSIFICATION
) -> None:
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
                f"{reason} (setting '{SearchOptions.space_setting(task)}')"
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


def cv_splitter(y: pd.Series, folds: int, random_state: int, task: str = CLASSIFICATION) -> StratifiedKFold | KFold:
    """Stratified folds (shuffled folds, for a regression); fewer than ``folds`` when the smallest class
    (the train split) has fewer rows."""
    if str(task) == REGRESSION:
        if len(y) < 2:
            raise DataError(f"the train split has {len(y)} row; cross-validation needs at least 2")
        return KFold(n_splits=min(folds, len(y)), shuffle=True, random_state=random_state)
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
    categorical: Sequence[str] = (),
    deadline: float | None = None,
    task: str = CLASSIFICATION,
) -> Candidate:
    """The family's best hyperparameters by the cross-validated ``metric`` on these rows.

    Each fold refits a copy of ``preprocess`` on its own training part, so no fold sees statistics
    of the rows it is scored on. A family without a search space is scored as configured; one with
    a search space by successive halving (``halving_search``), its configured parameters first.
    ``deadline`` (a ``time.time()``): no fit starts after it, and the family keeps the best
    candidate scored so far (the first is always scored). Fits run in parallel on all cores through
    joblib's ``parallel_backend``.
    """
    other_features = [str(column) for column in features.columns if column not in set(categorical)]
    estimator = build_estimator(family, family_name, options.random_state, categorical, other_features, task)
    pipeline = Pipeline([(PREPROCESS_STEP, clone(preprocess)), (MODEL_STEP, estimator)])
    distributions = {name: distribution(values) for name, values in family.search.items()}
    started = time.time()
    outcome = halving_search(pipeline, distributions, features, target, options, deadline, task)
    best = outcome.best
    if best is None:
        raise UsageError(
            f"every candidate of model family '{family_name}' failed to fit "
            f"(setting '{SearchOptions.space_setting(task)}'); "
            "run with --debug for the warnings"
        )
    chosen = classifier_params(estimator, outcome.candidates[best])
    # Every searched parameter is named, also when the configured values (candidate 0) won.
    values = chosen.get_params()
    params = {name: values[f"{parameter_prefix(chosen)}{name}"] for name in family.search}
    summary = {**outcome.summary(), "seconds": round(time.time() - started, 3)}
    found = _candidate(
        family_name,
        chosen,
        {**family.params, **params},
        outcome.scores[best],
        outcome.spreads[best],
        options.metric,
        summary,
    )
    return Candidate(found.estimator, found.score, outcome.out_of_fold.get(best))


@dataclass
class HalvingOutcome:
    """What successive halving scored: each candidate's parameters, and the mean and spread of its folds
    in the last round it completed (scores are the scorer's, higher is better)."""

    candidates: list[dict[str, Any]]
    scores: dict[int, float] = field(default_factory=dict)
    spreads: dict[int, float] = field(default_factory=dict)
    round_reached: dict[int, int] = field(default_factory=dict)
    rounds: list[tuple[int, int]] = field(default_factory=list)  # (rows, candidates) per round started
    fits: int = 0
    stopped_by_budget: bool = False
    folds: int = 1  # the cross-validation folds of a round
    # The predictions of each candidate that completed the round on all rows (``OutOfFold``).
    out_of_fold: dict[int, OutOfFold] = field(default_factory=dict)

    @property
    def best(self) -> int | None:
        """The best candidate of the last round any candidate completed (rounds use more rows as they go).

        The configured parameters (candidate 0) win when their score is within one standard error
        (the fold scores' spread over the square root of the folds) of the best one's: the
        one-standard-error rule, which keeps the tested defaults unless a drawn candidate is better by
        more than the folds' noise, instead of a candidate that won its rounds by chance.
        """
        if not self.scores:
            return None
        last = max(self.round_reached.values())
        finished = [i for i in self.scores if self.round_reached[i] == last and math.isfinite(self.scores[i])]
        if not finished:
            return None
        best = max(finished, key=lambda i: (self.scores[i], -self.spreads[i], -i))
        standard_error = self.spreads[best] / math.sqrt(max(self.folds, 1))
        if best != 0 and 0 in finished and self.scores[0] >= self.scores[best] - standard_error:
            return 0
        return best

    def summary(self) -> dict[str, Any]:
        return {
            "method": "successive_halving",
            "rounds": [{"rows": rows, "candidates": count} for rows, count in self.rounds],
            "candidates_drawn": len(self.candidates),
            "candidates_scored": len(self.scores),
            "fits": self.fits,
            "stopped_by_budget": self.stopped_by_budget,
        }


def draw_candidates(distributions: dict[str, Any], n_iter: int, random_state: int) -> list[dict[str, Any]]:
    """The configured parameters (``{}``) first, then up to ``n_iter - 1`` distinct draws."""
    if not distributions:
        return [{}]
    drawn: list[dict[str, Any]] = [{}]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The total space of parameters")
        for params in ParameterSampler(distributions, n_iter=max(n_iter - 1, 1), random_state=random_state):
            if params not in drawn:
                drawn.append(params)
    return drawn[: max(n_iter, 1)]


def cheapness(params: dict[str, Any]) -> float:
    """A rough fitting cost of a candidate: the product of its size parameters (unset ones count 1)."""
    cost = 1.0
    for name in SIZE_PARAMETERS:
        value = params.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cost *= float(value)
        elif name in params and value is None:  # unlimited depth
            cost *= 100.0
    return cost


def stop_search_workers() -> None:
    """Stop the worker processes the search started (joblib's reusable loky executor), if any.

    They would otherwise outlive the command by loky's idle timeout (300 s), holding its stdout and
    stderr open: ``e2e-train | tee log`` would not end, and a caller waiting for the output would hang.
    """
    import sys

    executors = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(executors, "_executor", None)
    if executor is None:
        return
    # joblib's executor also removes the temporary folders of its calls (otherwise reported on stderr
    # as leaked by loky's resource tracker once the command has gone).
    stop = getattr(executor, "terminate", None) or executor.shutdown
    stop(kill_workers=True)


def first_round_rows(target: pd.Series, cv_folds: int, task: str = CLASSIFICATION) -> int:
    """The fewest rows a round may use: at least ``MIN_ROUND_ROWS`` and two per fold and class, and
    enough that a stratified sample keeps of the rarest class as many rows as the folds on all rows
    need (one row of it per fold), so a rare class never makes a round's folds impossible. A
    regression's rounds need ``MIN_ROUND_ROWS`` and two rows per fold."""
    if str(task) == REGRESSION:
        return max(MIN_ROUND_ROWS, 2 * cv_folds)
    counts = target.value_counts()
    rarest = max(int(counts.min()), 1)
    folds = min(cv_folds, rarest)
    keeps_rarest = math.ceil(folds * len(target) / rarest) + len(counts)
    return max(MIN_ROUND_ROWS, 2 * cv_folds * len(counts), keeps_rarest)


def round_sizes(rows: int, candidates: int, factor: int, smallest: int) -> list[int]:
    """Rows of each round: the last uses all ``rows``, each earlier one ``factor`` times fewer, none
    below ``smallest``; one round when there is one candidate or too few rows to halve."""
    rounds = 1
    while candidates > factor ** (rounds - 1) and rows / factor**rounds >= smallest:
        rounds += 1
    return [math.ceil(rows / factor ** (rounds - 1 - i)) for i in range(rounds)]


def halving_search(
    pipeline: Pipeline,
    distributions: dict[str, Any],
    features: pd.DataFrame,
    target: pd.Series,
    options: SearchOptions,
    deadline: float | None = None,
    task: str = CLASSIFICATION,
) -> HalvingOutcome:
    """Successive halving of ``options.n_iter`` candidates of ``pipeline``'s model step.

    Round ``i`` cross-validates its candidates on a sample of the train rows, stratified by class for a
    classification (the last round on all of them), and keeps the best ``1 / halving_factor`` for the
    next, and the configured parameters (candidate 0) besides. The first round starts the cheapest candidates first (``cheapness``), later rounds the best of the round before.
    With ``deadline`` no fit starts after it, except the first candidate's, and a candidate is
    scored in a round only when all its folds ran.
    """
    candidates = draw_candidates(distributions, options.n_iter, options.random_state)
    outcome = HalvingOutcome(candidates)
    scorer = check_scoring(pipeline, scoring=metrics.metric(options.metric).scorer)
    prefix = f"{MODEL_STEP}__{parameter_prefix(pipeline.named_steps[MODEL_STEP])}"
    smallest = first_round_rows(target, options.cv_folds, task)
    sizes = round_sizes(len(features), len(candidates), options.halving_factor, smallest)
    alive = sorted(range(len(candidates)), key=lambda i: (i != 0, cheapness(candidates[i])))
    for round_index, rows in enumerate(sizes):
        if not alive:
            break
        if round_index and _past(deadline):
            outcome.stopped_by_budget = True
            break
        x, y = _sample(features, target, rows, options.random_state + round_index, str(task) == CLASSIFICATION)
        outcome.rounds.append((len(x), len(alive)))
        on_all_rows = len(x) == len(features)
        splits = list(cv_splitter(y, options.cv_folds, options.random_state, task).split(x, y))
        # One thread per fit: the fits already run in parallel on every core, and estimators with their
        # own OpenMP threads (HistGradientBoosting) slow down many times over when oversubscribed.
        with warnings.catch_warnings(), joblib.parallel_backend(options.parallel_backend), threadpool_limits(1):
            warnings.simplefilter("ignore")
            # Each fold's preprocessing is fitted on its training part once, for all candidates.
            # scikit-learn's Parallel and delayed carry the warning filters into worker processes.
            folds = Parallel(n_jobs=-1)(delayed(_preprocessed_fold)(pipeline, x, y, fold) for fold in splits)
            tasks = [(i, fold) for i in alive for fold in folds]
            forced = {alive[0]} if round_index == 0 else set()
            results = Parallel(n_jobs=-1)(
                delayed(_fit_and_score)(
                    pipeline, {f"{prefix}{k}": v for k, v in candidates[i].items()}, fold, scorer,
                    None if i in forced else deadline, on_all_rows,
                )
                for i, fold in tasks
            )
        by_candidate: dict[int, list[float]] = {}
        predicted: dict[int, list[np.ndarray | None]] = {}
        for (i, _), (score, predictions) in zip(tasks, results, strict=True):
            if score is not None:
                by_candidate.setdefault(i, []).append(score)
                predicted.setdefault(i, []).append(predictions)
        outcome.fits += sum(score is not None for score, _ in results)
        complete = [i for i in alive if len(by_candidate.get(i, [])) == len(folds)]
        if len(complete) < len(alive):
            outcome.stopped_by_budget = True
        for i in complete:
            values = np.asarray(by_candidate[i], dtype=float)
            finite = bool(np.isfinite(values).all())
            outcome.scores[i] = float(values.mean()) if finite else float("nan")
            outcome.spreads[i] = float(values.std()) if finite else float("nan")
            outcome.round_reached[i] = round_index
            if on_all_rows and finite:
                found = _out_of_fold(splits, y, predicted[i])
                if found is not None:
                    outcome.out_of_fold[i] = found
        outcome.folds = len(folds)
        ranked = sorted(
            (i for i in complete if math.isfinite(outcome.scores[i])), key=lambda i: (-outcome.scores[i], i)
        )
        if on_all_rows and ranked:  # only the best (and ties) and the configured candidate can be selected
            top = outcome.scores[ranked[0]]
            outcome.out_of_fold = {i: found for i, found in outcome.out_of_fold.items() if i == 0 or outcome.scores[i] == top}
        alive = ranked[: max(1, math.ceil(len(alive) / options.halving_factor))] if ranked else []
        if 0 in ranked and 0 not in alive:
            alive.append(0)  # the configured parameters go on to the last round (``HalvingOutcome.best``)
        if outcome.stopped_by_budget:
            break
    return outcome


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.time() >= deadline


def _sample(
    features: pd.DataFrame, target: pd.Series, rows: int, seed: int, stratified: bool = True
) -> tuple[pd.DataFrame, pd.Series]:
    """A sample of ``rows`` rows, stratified by class when ``stratified`` (all rows when that is as many)."""
    if rows >= len(features):
        return features, target
    x, y = resample(
        features, target, n_samples=rows, replace=False, stratify=target if stratified else None, random_state=seed
    )
    return x, y


def _preprocessed_fold(pipeline: Pipeline, x: pd.DataFrame, y: pd.Series, fold: tuple) -> tuple:
    """A fold's training and test rows through a copy of the pipeline's preprocessing fitted on its
    training part only (None when that fails: the fold's fits are then scored NaN)."""
    train, test = fold
    try:
        preprocess = clone(pipeline.named_steps[PREPROCESS_STEP]).fit(x.iloc[train], y.iloc[train])
        return preprocess.transform(x.iloc[train]), y.iloc[train], preprocess.transform(x.iloc[test]), y.iloc[test]
    except Exception:  # noqa: BLE001 - scored NaN, as scikit-learn's searches do
        return None


def _fit_and_score(
    pipeline: Pipeline,
    params: dict[str, Any],
    fold: tuple | None,
    scorer: Any,
    deadline: float | None,
    predict: bool = False,
) -> tuple[float | None, np.ndarray | None]:
    """The fold's score of a fresh copy of the pipeline's model with ``params`` on the fold's preprocessed
    rows, and with ``predict`` its predictions of the fold's test rows (class probabilities, or numbers;
    None for a classifier without ``predict_proba``). The score is None when ``deadline`` passed before
    it started, NaN when the fit or the scoring failed."""
    if _past(deadline):
        return None, None
    if fold is None:
        return float("nan"), None
    x_train, y_train, x_test, y_test = fold
    try:
        model = clone(pipeline).set_params(**params).named_steps[MODEL_STEP].fit(x_train, y_train)
        score = float(scorer(model, x_test, y_test))
    except Exception:  # noqa: BLE001 - a failed candidate is scored NaN, as scikit-learn's searches do
        return float("nan"), None
    if not predict:
        return score, None
    try:
        if isinstance(model, RegressorMixin):
            return score, np.asarray(model.predict(x_test), dtype="float64")
        if not hasattr(model, "predict_proba") or list(model.classes_) != list(np.unique(y_train)):
            return score, None
        return score, np.asarray(model.predict_proba(x_test), dtype="float64")
    except Exception:  # noqa: BLE001 - no predictions: the family is not blended (its score stands)
        return score, None


def _out_of_fold(splits: list[tuple], target: pd.Series, predictions: list[np.ndarray | None]) -> OutOfFold | None:
    """Every fold's test-row predictions put back in row order; None when a fold has none."""
    if any(found is None for found in predictions) or len(predictions) != len(splits):
        return None
    fold = np.empty(len(target), dtype="int64")
    first = predictions[0]
    rows = np.empty((len(target), *first.shape[1:]), dtype="float64")
    for number, ((_, test), found) in enumerate(zip(splits, predictions, strict=True)):
        if found.shape[1:] != first.shape[1:]:
            return None
        fold[test] = number
        rows[test] = found
    return OutOfFold(fold, target.reset_index(drop=True), rows)


def _candidate(
    family_name: str,
    estimator: BaseEstimator,
    params: dict[str, Any],
    score: float,
    std: float,
    metric: str,
    search: dict[str, Any] | None = None,
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
            search=dict(search or {}),
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
    # Each family's search summary (HalvingOutcome.summary): rounds, fits, stopped_by_budget, seconds.
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)

    # The blend of the two best families (``e2e_training.blend.BlendScore.as_metadata``) when it was
    # scored, selected or not; a selected blend is also in ``candidates`` under its name.
    blend: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, scores: Sequence[CandidateScore], best: int, blend: Any = None) -> Selection:
        """The selection of ``scores[best]``, or of ``blend`` (a ``BlendScore``) when it is selected."""
        winner = scores[best]
        candidates = {s.family: s.cv_score for s in scores}
        searches = {s.family: s.search for s in scores if s.search}
        recorded = blend.as_metadata() if blend is not None else {}
        if blend is None or not blend.selected:
            return cls(winner.family, winner.cv_score, winner.hyperparameters, candidates, winner.metric, searches, recorded)
        members = {s.family: s.hyperparameters for s in scores if s.family in blend.members}
        candidates[blend.name] = blend.cv_score
        return cls(blend.name, blend.cv_score, members, candidates, winner.metric, searches, recorded)

    @property
    def stopped_by_budget(self) -> list[str]:
        """The families whose search the time budget ended early."""
        return [family for family, search in self.searches.items() if search.get("stopped_by_budget")]

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)


def family_deadline(budget: float | None, spent: float, families_left: int, elapsed: float, now: float) -> float | None:
    """When a family's search must stop starting fits (a ``time.time()``), or None without a budget.

    The budget left after the search steps that finished (``spent`` seconds) is shared equally by
    the ``families_left`` steps still to run, this one included, so a family that finishes early
    leaves its time to the next; ``elapsed`` is what this step already spent before searching.
    """
    if budget is None:
        return None
    share = max(0.0, budget - spent) / max(1, families_left)
    return now + max(0.0, share - elapsed)


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
