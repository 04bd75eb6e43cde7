"""The promotion decision: the new version against the version at the target stage, on the same rows,
in the metric users picked; and whether the two versions' data contracts can be compared at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from e2e_common.contract import DATA_CONTRACT, MODEL, PREPROCESS_PIPELINE
from e2e_common.errors import DataError, E2EError, one_line
from e2e_common.schemas import DataContract
from e2e_training import metrics
from e2e_training.names import METADATA_SPLIT
from e2e_training.settings import PromotionOptions, SplitOptions
from e2e_training.split import SplitInfo, rows_held_out_by_both

LATEST = "latest"
SHOWN_COLUMNS = 4


@dataclass(frozen=True)
class Scorer:
    """A model version as it scores raw rows: its own preprocessing, then its own model."""

    preprocess: Any
    model: Any
    holdout_fraction: float | None

    def score(self, rows: pd.DataFrame, target: str, metric: str) -> float | None:
        features = self.preprocess.transform(rows.drop(columns=[target]))
        return metrics.score(metric, self.model, features, rows[target])


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
    # What the stage's repair put right before deciding (an interrupted move, an alias moved by hand).
    repairs: list[str] | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def compare(
    holdout: pd.DataFrame,
    target: str,
    new: Scorer,
    current: Scorer,
    current_version: int,
    metric: str = metrics.DEFAULT_METRIC,
) -> Comparison:
    """Score both versions in ``metric`` on the holdout rows neither of them trained on."""
    note = None
    if current.holdout_fraction is None:
        rows = holdout
        note = f"version {current_version} records no split, so it was scored on this run's whole holdout"
    else:
        rows = rows_held_out_by_both(holdout, new.holdout_fraction, current.holdout_fraction)
    if rows.empty:
        return Comparison(current_version, 0, problem="no holdout rows that neither version trained on")
    new_score = new.score(rows, target, metric)
    try:
        current_score = current.score(rows, target, metric)
    except (E2EError, ValueError, KeyError) as exc:
        return Comparison(
            current_version, len(rows), new_score, problem=f"it cannot score these rows ({one_line(exc)})"
        )
    if new_score is None or current_score is None:
        return Comparison(
            current_version, len(rows), new_score, current_score, problem=f"{metric} is not defined on these rows"
        )
    return Comparison(current_version, len(rows), new_score, current_score, note=note)


def decide(
    mode: str,
    stage: str,
    new_version: int,
    comparison: Comparison | None,
    metric: str = metrics.DEFAULT_METRIC,
    min_improvement: float = 0.0,
) -> PromotionDecision:
    """Promote on the first run, always with ``latest``, else when the new version beats the current
    one in ``metric`` by more than ``min_improvement``: a tie is not promoted."""
    common = {"stage": stage, "mode": mode, "metric": metric, "new_version": new_version}
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
    new, old = comparison.new_score, comparison.current_score
    gain = metrics.gain(metric, new, old)
    verdict = metrics.better(metric, new, old, min_improvement)
    same_rows = f"on the same {comparison.rows} rows"
    if verdict:
        relation = f"is better than {old:.4f} of {current} by {gain:.4f} (more than --min-improvement {min_improvement})"
    elif abs(gain) <= metrics.TOLERANCE:
        relation = f"ties with {old:.4f} of {current}; a tie is not promoted"
    elif gain > 0:
        relation = f"is better than {old:.4f} of {current} by only {gain:.4f} (not more than --min-improvement {min_improvement})"
    else:
        relation = f"is worse than {old:.4f} of {current}"
    reason = f"holdout {metric} {new:.4f} {relation}, {same_rows}"
    if comparison.note:
        reason = f"{reason} ({comparison.note})"
    return PromotionDecision(verdict, reason=reason, **common, **scores)


def refused_by_gates(
    options: PromotionOptions, new_version: int, holdout_score: float | None, failures: list[str]
) -> PromotionDecision:
    """The decision recorded when the quality gates refused the new version (whatever the mode)."""
    return PromotionDecision(
        False,
        stage=options.target_env,
        mode=options.promotion,
        reason=f"quality gate: {'; '.join(failures)}",
        metric=options.metric,
        new_version=new_version,
        new_score=holdout_score,
    )


def describe_target(contract: DataContract) -> str:
    """``target 'churned' (classes no, yes)``, or ``target 'price' (a number)`` for a regression."""
    if contract.is_regression:
        return f"target '{contract.target}' (a number)"
    return f"target '{contract.target}' (classes {', '.join(map(str, contract.classes))})"


def describe_contract(contract: DataContract) -> str:
    """``target 'churned' (classes no, yes), 12 feature columns: age, plan, tenure, ...``; a regression's
    target is ``target 'price' (a number)``."""
    names = contract.feature_names
    shown = ", ".join(names[:SHOWN_COLUMNS]) + (", ..." if len(names) > SHOWN_COLUMNS else "")
    return f"{describe_target(contract)}, {len(names)} feature columns: {shown}"


def incompatibility(new: DataContract, current: DataContract) -> str | None:
    """What differs between two data contracts that makes their versions incomparable, or None:
    the task, the target, its classes or the set of feature columns."""
    if new.task is not current.task:
        return "another task"
    if new.target != current.target:
        return "another target"
    if list(new.classes) != list(current.classes):
        return "other classes"
    if set(new.feature_names) != set(current.feature_names):
        return "other feature columns"
    return None


def task_change(new: DataContract, current: DataContract) -> str | None:
    """``a regressor never replaces a classifier`` (or the reverse) when the two contracts' tasks
    differ; None when they are the same. Such a change is refused whatever the options: the stage's
    consumers read one kind of output (classes and probabilities, or numbers)."""
    if new.task is current.task:
        return None
    return f"a {_predictor(new)} never replaces a {_predictor(current)}"


def describe_task(contract: DataContract) -> str:
    """``a classification (target 'y', classes 0, 1)`` or ``a regression (target 'price')``."""
    if contract.is_regression:
        return f"a regression (target '{contract.target}')"
    return f"a classification (target '{contract.target}', classes {', '.join(map(str, contract.classes))})"


def _predictor(contract: DataContract) -> str:
    return "regressor" if contract.is_regression else "classifier"


def contract_of(version: Any) -> DataContract | None:
    """The data contract of a Model Control Plane version, or None when it has none."""
    artifact = version.get_artifact(DATA_CONTRACT)
    if artifact is None:
        return None
    loaded = artifact.load()
    return loaded if isinstance(loaded, DataContract) else DataContract.model_validate(loaded)


def check_comparable(model_name: str, options: PromotionOptions, new: DataContract, current: Any | None) -> None:
    """DataError (exit 2) when the new version could replace the version at the stage only by
    changing the task (whatever ``--promotion``), or when ``--promotion metric`` would compare it with
    a version whose data contract is otherwise incompatible: a model of other data under the same name."""
    if current is None:
        return
    existing = contract_of(current)
    if existing is None:
        return
    where = f"model '{model_name}' version {current.number} at stage '{options.target_env}'"
    changed = task_change(new, existing)
    if changed is not None:
        raise DataError(
            f"{where} is {describe_task(existing)}; this data is {describe_task(new)}: {changed}; "
            "pass --model-name to train a model of its own"
        )
    if options.promotion == LATEST:
        return
    problem = incompatibility(new, existing)
    if problem is None:
        return
    raise DataError(
        f"{where} was trained on other data "
        f"({problem}): it has {describe_contract(existing)}; this data has {describe_contract(new)}. "
        f"Pass --model-name to train a model of its own, or --promotion latest to replace version "
        f"{current.number} on purpose"
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
            comparison = compare(holdout, target, new, current_scorer, current.number, options.metric)
    return decide(
        options.promotion, options.target_env, new_version, comparison, options.metric, options.min_improvement
    )
