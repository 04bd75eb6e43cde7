"""The promotion decision: the new version against the version at the target stage, on the same rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score

from e2e_common.contract import MODEL, PREPROCESS_PIPELINE
from e2e_common.errors import E2EError, one_line
from e2e_training import registry
from e2e_training.names import METADATA_MLFLOW_REGISTRY_VERSION, METADATA_SPLIT
from e2e_training.settings import PromotionOptions, SplitOptions
from e2e_training.split import SplitInfo, rows_held_out_by_both

METRIC = "accuracy"
LATEST = "latest"


@dataclass(frozen=True)
class Scorer:
    """A model version as it scores raw rows: its own preprocessing, then its own model."""

    preprocess: Any
    model: Any
    holdout_fraction: float | None

    def accuracy(self, rows: pd.DataFrame, target: str) -> float:
        features = self.preprocess.transform(rows.drop(columns=[target]))
        return float(accuracy_score(rows[target], self.model.predict(features)))


@dataclass(frozen=True)
class Comparison:
    """Both versions scored on rows that neither trained on, or why that was not possible."""

    current_version: int
    rows: int
    new_score: float | None = None
    current_score: float | None = None
    problem: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class PromotionDecision:
    """What promotion did and why; stored as model-version metadata and printed."""

    promoted: bool
    stage: str
    mode: str
    reason: str
    metric: str
    new_version: int
    new_score: float | None = None
    current_version: int | None = None
    current_score: float | None = None
    compared_rows: int | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def compare(holdout: pd.DataFrame, target: str, new: Scorer, current: Scorer, current_version: int) -> Comparison:
    """Score both versions on the holdout rows neither of them trained on."""
    note = None
    if current.holdout_fraction is None:
        rows = holdout
        note = f"version {current_version} records no split, so it was scored on this run's whole holdout"
    else:
        rows = rows_held_out_by_both(holdout, new.holdout_fraction, current.holdout_fraction)
    if rows.empty:
        return Comparison(current_version, 0, problem="no holdout rows that neither version trained on")
    new_score = new.accuracy(rows, target)
    try:
        current_score = current.accuracy(rows, target)
    except (E2EError, ValueError, KeyError) as exc:
        return Comparison(
            current_version, len(rows), new_score, problem=f"it cannot score these rows ({one_line(exc)})"
        )
    return Comparison(current_version, len(rows), new_score, current_score, note=note)


def decide(mode: str, stage: str, new_version: int, comparison: Comparison | None) -> PromotionDecision:
    """Promote on the first run, always with ``latest``, else when at least as accurate as the current."""
    common = {"stage": stage, "mode": mode, "metric": METRIC, "new_version": new_version}
    if comparison is None:
        return PromotionDecision(True, reason=f"first version at stage '{stage}'", **common)
    scores = {
        "new_score": comparison.new_score,
        "current_version": comparison.current_version,
        "current_score": comparison.current_score,
        "compared_rows": comparison.rows,
    }
    current = f"version {comparison.current_version}"
    if mode == LATEST:
        return PromotionDecision(True, reason=f"--promotion latest replaces {current} without a condition", **common, **scores)
    if comparison.problem is not None:
        return PromotionDecision(
            False,
            reason=f"{current} at stage '{stage}' cannot be compared: {comparison.problem}; "
            "pass --promotion latest to promote anyway",
            **common,
            **scores,
        )
    verdict = comparison.new_score >= comparison.current_score
    relation = "at least as high as" if verdict else "below"
    reason = (
        f"holdout {METRIC} {comparison.new_score:.4f} is {relation} {comparison.current_score:.4f} of {current} "
        f"on the same {comparison.rows} rows"
    )
    if comparison.note:
        reason = f"{reason} ({comparison.note})"
    return PromotionDecision(verdict, reason=reason, **common, **scores)


def refused_by_gates(
    options: PromotionOptions, new_version: int, holdout_accuracy: float, failures: list[str]
) -> PromotionDecision:
    """The decision recorded when the accuracy gates refused the new version."""
    return PromotionDecision(
        False,
        stage=options.target_env,
        mode=options.promotion,
        reason=f"quality gate: {'; '.join(failures)}",
        metric=METRIC,
        new_version=new_version,
        new_score=holdout_accuracy,
    )


def scorer_of(version: Any) -> Scorer | None:
    """A Model Control Plane version as a Scorer, from its own artifacts; None when it lacks them."""
    preprocess = version.get_artifact(PREPROCESS_PIPELINE)
    model = version.get_artifact(MODEL)
    if preprocess is None or model is None:
        return None
    fraction = SplitInfo.holdout_fraction_of(version.run_metadata.get(METADATA_SPLIT))
    return Scorer(preprocess.load(), model.load(), fraction)


def decide_against_stage(
    options: PromotionOptions,
    split: SplitOptions,
    preprocess: Any,
    model: Any,
    new_version: int,
    current: Any | None,
    holdout: pd.DataFrame,
    target: str,
) -> PromotionDecision:
    """Compare the new version with ``current`` (the version at the target stage, if any); decide."""
    comparison = None
    if current is not None:
        new = Scorer(preprocess, model, split.test_size)
        current_scorer = scorer_of(current)
        if current_scorer is None:
            comparison = Comparison(
                current.number, 0, problem=f"it has no '{PREPROCESS_PIPELINE}' or '{MODEL}' artifact"
            )
        else:
            comparison = compare(holdout, target, new, current_scorer, current.number)
    return decide(options.promotion, options.target_env, new_version, comparison)


def promote_version(model_name: str, version_id: Any, stage: str) -> None:
    """Move the alias in the MLflow registry first, then the stage in the Model Control Plane."""
    from zenml.client import Client

    version = Client().get_model_version(model_name, version_id)
    registry.move_stage_alias(model_name, version.run_metadata.get(METADATA_MLFLOW_REGISTRY_VERSION), stage)
    version.set_stage(stage, force=True)
