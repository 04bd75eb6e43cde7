"""The blend of the two best model families: their predictions averaged, chosen when cross-validation
cannot tell the two apart.

Each family's search keeps its best candidate's out-of-fold predictions on all train rows
(``search.OutOfFold``; every family uses the same folds). The two best families' predictions (class
probabilities, or numbers) are averaged row by row and scored fold by fold in the run's metric, beside
each family's own predictions on the same folds: no model is fitted again.

The blend is selected when the runner-up's mean fold score is within one standard error of the best
family's (the best family's fold scores' spread over the square root of the folds), and the blend's is
not worse than the best family's by more than that either. Cross-validation then cannot tell the two
families apart, and two different kinds of model (trees and a linear model, say) make different errors:
their average varies less from one sample of rows to another than either. When one family is better by
more than the folds' noise it is kept alone: averaging it with a clearly worse model costs accuracy
(docs/contract.md, "Model selection"; README, Benchmarks). The selected blend is both candidates
averaged (``e2e_common.preprocessing.AveragedClassifier``, the mean of their probabilities, or
``AveragedRegressor``), fitted on the train split as any selected model is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from e2e_common.preprocessing import AveragedClassifier, AveragedRegressor
from e2e_training import metrics
from e2e_training.search import CandidateScore, OutOfFold, select_best
from e2e_training.settings import REGRESSION

# The selected model's name when it is a blend: the families' names joined by it.
BLEND_JOINER = "+"


def blend_name(families: Sequence[str]) -> str:
    """``hist_gradient_boosting+logistic_regression``: the name of a blend of ``families``."""
    return BLEND_JOINER.join(families)


@dataclass(frozen=True)
class BlendScore:
    """The blend of ``members`` (best first) scored on their out-of-fold predictions, beside each member's
    score and the best member's standard error on the same folds; ``selected`` when the runner-up and the
    blend are both within that standard error of the best member."""

    members: tuple[str, ...]
    cv_score: float
    cv_score_std: float
    best_family_score: float
    runner_up_score: float
    best_family_standard_error: float
    selected: bool

    @property
    def name(self) -> str:
        return blend_name(self.members)

    def as_metadata(self) -> dict[str, Any]:
        return {**asdict(self), "members": list(self.members)}


def fold_scores(metric: str, out_of_fold: OutOfFold, predictions: np.ndarray) -> list[float] | None:
    """``predictions`` (one per train row, as ``out_of_fold``'s) scored fold by fold; None when a fold's
    score is not defined."""
    scores = []
    for fold in np.unique(out_of_fold.fold):
        rows = out_of_fold.fold == fold
        score = metrics.score_predictions(metric, out_of_fold.target[rows], predictions[rows], out_of_fold.classes)
        if score is None:
            return None
        scores.append(score)
    return scores


def aligned(first: OutOfFold, second: OutOfFold) -> bool:
    """Whether the two families' predictions are of the same rows, folds and classes."""
    return (
        len(first.fold) == len(second.fold)
        and np.array_equal(first.fold, second.fold)
        and first.target.equals(second.target)
        and first.predictions.shape == second.predictions.shape
    )


def score_blend(
    scores: Sequence[CandidateScore], out_of_fold: Sequence[OutOfFold | None]
) -> BlendScore | None:
    """The blend of the two best families (``select_best``'s order), or None when there are fewer than
    two, or either has no out-of-fold predictions (its search did not reach all train rows, or a
    classifier without ``predict_proba``), or a score is not defined."""
    if len(scores) < 2:
        return None
    first = select_best(scores)
    second = select_best([score for i, score in enumerate(scores) if i != first])
    second += second >= first
    best, runner_up = out_of_fold[first], out_of_fold[second]
    if best is None or runner_up is None or not aligned(best, runner_up):
        return None
    metric = scores[first].metric
    averaged = (best.predictions + runner_up.predictions) / 2
    alone = fold_scores(metric, best, best.predictions)
    second_alone = fold_scores(metric, runner_up, runner_up.predictions)
    blended = fold_scores(metric, best, averaged)
    if alone is None or second_alone is None or blended is None:
        return None
    cv_score, best_family_score = float(np.mean(blended)), float(np.mean(alone))
    runner_up_score = float(np.mean(second_alone))
    standard_error = float(np.std(alone)) / math.sqrt(len(alone))
    indistinct = not metrics.better(metric, best_family_score, runner_up_score, standard_error)
    blend_as_good = not metrics.better(metric, best_family_score, cv_score, standard_error)
    return BlendScore(
        members=(scores[first].family, scores[second].family),
        cv_score=cv_score,
        cv_score_std=float(np.std(blended)),
        best_family_score=best_family_score,
        runner_up_score=runner_up_score,
        best_family_standard_error=standard_error,
        selected=indistinct and blend_as_good,
    )


def blended_estimator(members: Sequence[tuple[str, BaseEstimator]], task: str) -> BaseEstimator:
    """The unfitted average of ``members`` (name, unfitted estimator): probabilities averaged (soft
    voting) for a classification, predictions for a regression."""
    if str(task) == REGRESSION:
        return AveragedRegressor(list(members))
    return AveragedClassifier(list(members))
