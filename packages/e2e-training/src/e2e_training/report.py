"""Sentences about a training run, shared by the CLI output and the notifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from e2e_training import metrics as metric_registry
from e2e_training.evaluate import HOLDOUT, TRAIN, RegressionScores, Scores, baseline_name
from e2e_training.names import (
    METADATA_ROWS,
    METADATA_TASK,
    METADATA_TASK_REASON,
    METRICS_BASELINE,
    METRICS_METRIC,
    METRICS_QUALITY_GATES,
    ROWS_HOLDOUT,
    ROWS_READ,
    ROWS_TRAIN,
    ROWS_WITH_MISSING_VALUES,
    ROWS_WITHOUT_TARGET,
)

SCORE_NAMES = [field.name for kind in (Scores, RegressionScores) for field in fields(kind) if field.name != "rows"]


def describe_scores(name: str, scores: Mapping[str, Any]) -> str:
    """``holdout accuracy 0.9630, f1 0.9710, roc_auc 0.9950 (108 rows)``, then any other metric (``log_loss``);
    a regressor's ``holdout rmse 1.2345, mae 0.9876, r2 0.8765, mape 0.1234 (80 rows)``."""
    names = [name for name in SCORE_NAMES if name in scores]
    names += [name for name in scores if name not in names and name != "rows" and isinstance(scores[name], float)]
    values = ", ".join(f"{metric} {scores[metric]:.4f}" for metric in names)
    return f"{name} {values} ({scores.get('rows', '?')} rows)"


def describe_task(metadata: Mapping[str, Any]) -> str | None:
    """``regression: the target holds numbers with fractions (e.g. 3.25)`` from a version's metadata;
    None for versions that record no task (before regression was supported)."""
    task = metadata.get(METADATA_TASK)
    if not task:
        return None
    reason = metadata.get(METADATA_TASK_REASON)
    return f"{task}: {reason}" if reason else str(task)


def describe_rows(metadata: Mapping[str, Any]) -> str | None:
    """``400 read, 5 without a target left out, 3 with missing values left out: 314 train, 78 holdout``
    from a version's metadata; None for versions that record no row counts."""
    rows = metadata.get(METADATA_ROWS)
    if not isinstance(rows, Mapping) or ROWS_READ not in rows:
        return None
    parts = [f"{rows[ROWS_READ]} read"]
    if rows.get(ROWS_WITHOUT_TARGET):
        parts.append(f"{rows[ROWS_WITHOUT_TARGET]} without a target left out")
    if rows.get(ROWS_WITH_MISSING_VALUES):
        parts.append(f"{rows[ROWS_WITH_MISSING_VALUES]} with missing values left out")
    text = ", ".join(parts)
    if ROWS_TRAIN in rows and ROWS_HOLDOUT in rows:
        text += f": {rows[ROWS_TRAIN]} train, {rows[ROWS_HOLDOUT]} holdout"
    return text


def describe_metrics(metrics: Mapping[str, Any]) -> list[str]:
    """One line per data set."""
    return [describe_scores(name, metrics[name]) for name in (TRAIN, HOLDOUT) if name in metrics]


def describe_metric(metrics: Mapping[str, Any]) -> str | None:
    """``log_loss (lower is better): selects, gates and promotes``; None for metrics recorded without it."""
    name = metrics.get(METRICS_METRIC)
    if name not in metric_registry.METRICS:
        return None
    return f"{name} ({metric_registry.metric(name).direction}): selects, gates and promotes the model"


def describe_gates(metrics: Mapping[str, Any]) -> str | None:
    """``passed: holdout accuracy 0.9725 beats the majority-class baseline's 0.6330 (needs above 0.6514)``
    (a regression metric against ``the mean baseline``), then the error limits met (``; within --max-rmse
    2.0``), or ``refused: <failures>``; None for metrics recorded without gates."""
    gates = metrics.get(METRICS_QUALITY_GATES)
    name = metrics.get(METRICS_METRIC)
    if not isinstance(gates, Mapping) or name not in metric_registry.METRICS:
        return None
    if gates.get("failures"):
        return "refused: " + "; ".join(gates["failures"])
    holdout = metrics.get(HOLDOUT, {}).get(name)
    baseline = metrics.get(METRICS_BASELINE, {}).get(name)
    limits = gates.get("limits") or {}
    within = "within " + ", ".join(f"{limit['flag']} {limit['limit']}" for limit in limits.values()) if limits else ""
    if holdout is None or baseline is None:
        return "passed" + (f": {within}" if within else "")
    side = "above" if metric_registry.metric(name).higher_is_better else "below"
    return (
        f"passed: holdout {name} {holdout:.4f} beats {baseline_name(name)}'s {baseline:.4f} "
        f"(needs {side} {gates.get('required', baseline):.4f})" + (f"; {within}" if within else "")
    )


def describe_search(selection: Mapping[str, Any], time_budget: float | None = None) -> str | None:
    """``2 families, 31 cross-validation fits by successive halving; selected hist_gradient_boosting``
    (or ``selected the blend random_forest+hist_gradient_boosting``), then ``; --time-budget 5 s stopped
    the search of hist_gradient_boosting`` when it did; None when the selection records no searches."""
    searches = selection.get("searches")
    if not isinstance(searches, Mapping) or not searches:
        return None
    fits = sum(int(search.get("fits", 0)) for search in searches.values())
    text = f"{len(searches)} families, {fits} cross-validation fits by successive halving"
    selected = selection.get("selected")
    if selected:
        is_blend = bool((selection.get("blend") or {}).get("selected"))
        text += f"; selected {'the blend ' if is_blend else ''}{selected}"
    if time_budget is not None:
        stopped = [family for family, search in searches.items() if search.get("stopped_by_budget")]
        text += f"; --time-budget {time_budget:g} s " + (
            f"stopped the search of {', '.join(stopped)} (best candidate so far kept)" if stopped else "was not reached"
        )
    return text


def describe_decision(decision: Mapping[str, Any]) -> str:
    """``promoted to staging: <reason>`` or ``not promoted to staging: <reason>``."""
    verdict = "promoted" if decision.get("promoted") else "not promoted"
    return f"{verdict} to {decision.get('stage')}: {decision.get('reason')}"


def describe_comparison(decision: Mapping[str, Any]) -> str | None:
    """Both metrics of the promotion decision, when there was a version to compare with."""
    if decision.get("current_version") is None:
        return None
    metric = decision.get("metric", "accuracy")
    new = _number(decision.get("new_score"))
    current = _number(decision.get("current_score"))
    rows = decision.get("compared_rows")
    return (
        f"{metric}: new version {decision.get('new_version')} {new}, "
        f"version {decision['current_version']} at {decision.get('stage')} {current}"
        + (f" (on {rows} holdout rows neither trained on)" if rows else "")
    )


def success_message(model_name: str, run_name: str, metrics: Mapping[str, Any], decision: Mapping[str, Any]) -> str:
    """The notification sent when a training run succeeds."""
    parts = [f"training run '{run_name}' of model '{model_name}' version {decision.get('new_version')}"]
    parts += describe_metrics(metrics)
    parts.append(describe_decision(decision))
    comparison = describe_comparison(decision)
    if comparison:
        parts.append(comparison)
    return "; ".join(parts)


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "n/a"


def summary_markdown(
    model_name: str,
    version: int,
    metrics: Mapping[str, Any],
    decision: Mapping[str, Any],
    selection: Mapping[str, Any],
    search_seconds: Mapping[str, float | None],
    contract: Any,
    rows: Mapping[str, Any] | None = None,
) -> str:
    """The training run as a page: the decision, the task and why, the rows used, each family's CV score
    and search time, the winner, the holdout scores of the new version, its baseline and the current
    version, the gates, and the features' importance. ``rows`` is the version's ``rows`` metadata."""
    metric = selection.get("metric") or metrics.get(METRICS_METRIC, "accuracy")
    task = getattr(contract, "task", None)
    about = describe_task(
        {} if task is None else {METADATA_TASK: str(task), METADATA_TASK_REASON: getattr(contract, "task_reason", "")}
    )
    counted = describe_rows({METADATA_ROWS: rows}) if rows else None
    lines = [
        f"# Training: model {model_name} version {version}",
        "",
        f"**{describe_decision(decision)}**",
        "",
        *([f"Task: {about}", ""] if about else []),
        *([f"Rows: {counted}", ""] if counted else []),
        f"## Model families (cross-validated {metric} on the train split)",
        "",
        "| family | CV score | search time | selected |",
        "| --- | --- | --- | --- |",
    ]
    blended = (selection.get("blend") or {}).get("selected") and selection.get("selected")
    for family, cv_score in (selection.get("candidates") or {}).items():
        seconds = search_seconds.get(family)
        took = "— (the average of two families)" if family == blended else "cached" if seconds is None else f"{seconds:.1f} s"
        chosen = "**yes**" if family == selection.get("selected") else ""
        lines.append(f"| {family} | {_number(cv_score)} | {took} | {chosen} |")
    lines += ["", "## Holdout", "", "| data set | scores |", "| --- | --- |"]
    lines += [f"| {name} | {describe_scores(name, metrics[name])} |" for name in (TRAIN, HOLDOUT) if name in metrics]
    baseline = metrics.get(METRICS_BASELINE)
    if isinstance(baseline, Mapping) and any(isinstance(value, float) for value in baseline.values()):
        named = f"baseline ({baseline['strategy']})" if baseline.get("strategy") else "baseline"
        lines.append(f"| {named} | {describe_scores(named, {'rows': metrics.get(HOLDOUT, {}).get('rows', '?'), **baseline})} |")
    comparison = describe_comparison(decision)
    if comparison:
        lines += ["", f"Compared with the version at the stage: {comparison}"]
    gates = describe_gates(metrics)
    lines += ["", "## Quality gates", "", gates or "not recorded"]
    lines += ["", "## Features", "", "| feature | kind | importance | training range |", "| --- | --- | --- | --- |"]
    for spec in sorted(contract.features, key=lambda spec: -(spec.importance or 0.0)):
        span = "" if spec.minimum is None else f"{spec.minimum:.4g} to {spec.maximum:.4g}"
        importance = "" if spec.importance is None else f"{spec.importance:.3f}"
        lines.append(f"| {spec.name} | {spec.kind.value} | {importance} | {span} |")
    for column, reason in (getattr(contract, "excluded_columns", None) or {}).items():
        lines.append(f"| {column} | not a feature: {reason} | | |")
    return "\n".join(lines) + "\n"
