"""The drift check: an Evidently report of the rows to score against the training data, and the gate.

The decision is read from Evidently's test outcomes (``include_tests=True``), never from raw
scores, whose direction depends on the method Evidently picks for each column.

A regression version that has ``holdout_predictions`` adds one comparison to the report: the
distribution of the model's predictions for the rows checked (all rows of a small input, the drift
sample of a large one) against its predictions on the holdout rows (``compare_predictions``). It is
shown in the report and recorded in the metadata (``prediction_drift``) but never counts toward the
share of drifted columns nor any limit of the gate: the features decide, as for a classification.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from e2e_common.contract import DRIFT_REFERENCE, HOLDOUT_PREDICTION_COLUMN, HOLDOUT_PREDICTIONS
from e2e_common.errors import DataError, QualityGateError
from e2e_common.schemas import DataContract, FeatureKind
from e2e_inference.names import METADATA_PREDICTION_DRIFT, PREDICTION_COLUMN
from e2e_inference.settings import DriftOptions

SAMPLE_SEED = 0
FAILED = "FAIL"
SHOWN_COLUMNS = 5
MIN_OUT_OF_RANGE_ROWS = 3
# Evidently's tests whose statistic is a p-value, by the names they are configured with.
TEST_NAMES = {"ks": "K-S p_value", "chisquare": "chi-square p_value"}
P_VALUE_TESTS = frozenset({"ks", "chisquare", "z", "fisher_exact", "g_test", "t_test", "mannw", "cramer_von_mises"})


@dataclass(frozen=True)
class ColumnDrift:
    """Evidently's outcome for one column."""

    column: str
    drifted: bool
    method: str
    score: float | None
    threshold: float | None
    na_share_reference: float
    na_share_current: float
    na_moved: bool
    importance: float | None = None
    out_of_range_share: float = 0.0
    out_of_range_exceeded: bool = False

    @property
    def flagged(self) -> bool:
        return self.drifted or self.na_moved or self.out_of_range_exceeded

    def strongly_drifted(self, tested: int) -> bool:
        """Drifted with evidence that holds up when ``tested`` columns were tested at once.

        A p-value test at Evidently's 5% flags about one column in twenty by chance, and correlated
        columns move together; the importance-weighted check counts a column only when its p-value is
        below the threshold divided by the number of columns (Bonferroni). Distance tests, which
        Evidently uses on large samples, are not p-values and count as they are.
        """
        if not self.drifted:
            return False
        if not self.is_p_value or self.score is None or self.threshold is None:
            return True
        return self.score < self.threshold / max(tested, 1)

    @property
    def is_p_value(self) -> bool:
        """Whether the statistic is a p-value (drift below the threshold) rather than a distance."""
        method = self.method.lower()
        if "p_value" in method or method in P_VALUE_TESTS:
            return True
        if self.drifted and self.score is not None and self.threshold is not None:
            return self.score < self.threshold
        return False

    @property
    def severity(self) -> float:
        """How far past its threshold the column is, for ordering only (larger: more drifted)."""
        if self.score is None or not self.threshold:
            return 0.0
        if self.is_p_value:
            return self.threshold / max(self.score, 1e-300)
        return self.score / self.threshold

    def describe(self) -> str:
        parts = []
        if self.drifted:
            parts.append(f"{self.method} {_fmt(self.score)} vs threshold {_fmt(self.threshold)}")
        if self.importance is not None:
            parts.append(f"importance {self.importance:.2f}")
        if self.out_of_range_share:
            parts.append(f"{self.out_of_range_share:.1%} of rows outside training values")
        if self.na_moved:
            parts.append(f"missing {self.na_share_reference:.0%} -> {self.na_share_current:.0%}")
        return f"{self.column} ({', '.join(parts) or 'no drift'})"


@dataclass(frozen=True)
class PredictionDrift:
    """A regression's predictions for the rows checked against its predictions on the holdout rows:
    Evidently's test of the ``prediction`` column. Reported, never gated. ``skipped`` says why no
    comparison was made (a version trained without ``holdout_predictions``)."""

    drifted: bool = False
    method: str = ""
    score: float | None = None
    threshold: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    skipped: str | None = None

    @classmethod
    def not_compared(cls, reason: str) -> PredictionDrift:
        return cls(skipped=reason)

    def describe(self) -> str:
        """One phrase: the outcome, the test and its statistic, or why it was skipped."""
        if self.skipped is not None:
            return f"prediction drift not checked: {self.skipped}"
        outcome = "drifted" if self.drifted else "no drift"
        return (
            f"predictions of {self.current_rows} rows vs {self.reference_rows} on the holdout: {outcome} "
            f"({self.method} {_fmt(self.score)}, threshold {_fmt(self.threshold)}; not part of the gate)"
        )

    def metadata(self) -> dict[str, Any]:
        if self.skipped is not None:
            return {"skipped": self.skipped}
        return {
            "method": self.method,
            "score": self.score,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
        }


@dataclass(frozen=True)
class DriftDecision:
    """What the drift gate decided, with every column's outcome."""

    drifted_share: float
    drift_share_limit: float
    drift_share_exceeded: bool
    na_drift_tolerance: float
    columns: list[ColumnDrift]
    reference_rows: int
    current_rows: int
    reference_kind: str = "raw"
    unseen_categories: dict[str, int] = field(default_factory=dict)
    weighted_drift_share: float | None = None
    weighted_drift_limit: float = 1.0
    out_of_range_limit: float = 1.0
    rows_checked_for_range: int = 0
    # Rows outside the training values per raw column, also where the drift check compared
    # preprocessed columns (a version without drift_reference).
    out_of_range_rows: dict[str, int] = field(default_factory=dict)
    # A regression only: its predictions against those on the holdout (never part of ``refused``).
    prediction_drift: PredictionDrift | None = None

    @property
    def na_moved_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.na_moved]

    @property
    def weighted_drift_exceeded(self) -> bool:
        return self.weighted_drift_share is not None and self.weighted_drift_share > self.weighted_drift_limit

    def out_of_range_share(self, column: str) -> float:
        rows = self.rows_checked_for_range
        return self.out_of_range_rows.get(column, 0) / rows if rows else 0.0

    @property
    def out_of_range_columns(self) -> list[str]:
        """Columns with more than the limit's share of rows outside the training values (and at
        least ``MIN_OUT_OF_RANGE_ROWS`` of them), the largest share first."""
        over = [
            name
            for name, count in self.out_of_range_rows.items()
            if out_of_range_exceeded(count, self.rows_checked_for_range, self.out_of_range_limit)
        ]
        return sorted(over, key=self.out_of_range_share, reverse=True)

    @property
    def reasons(self) -> list[str]:
        """Each limit crossed, as a phrase naming the measure and the limit."""
        reasons = []
        if self.drift_share_exceeded:
            reasons.append(f"share of drifted columns {self.drifted_share:.2f} > --drift-share {self.drift_share_limit}")
        if self.weighted_drift_exceeded:
            reasons.append(
                f"importance of drifted columns {self.weighted_drift_share:.2f} > --weighted-drift-share "
                f"{self.weighted_drift_limit}"
            )
        if self.out_of_range_columns:
            worst = self.out_of_range_columns[0]
            reasons.append(
                f"{len(self.out_of_range_columns)} column(s) with more than --out-of-range-share "
                f"{self.out_of_range_limit} of rows outside training values (worst {worst}: "
                f"{self.out_of_range_share(worst):.1%} of {self.rows_checked_for_range} rows)"
            )
        if self.na_moved_columns:
            reasons.append(
                f"{len(self.na_moved_columns)} column(s) whose share of missing values moved by more than "
                f"--na-drift-tolerance {self.na_drift_tolerance}"
            )
        return reasons

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def most_drifted(self, limit: int = SHOWN_COLUMNS) -> list[ColumnDrift]:
        """Flagged columns (drifted, out of range or NA-moved), the most harmful first."""
        flagged = [c for c in self.columns if c.flagged]
        return sorted(flagged, key=_drift_order, reverse=True)[:limit]

    def summary(self) -> str:
        """One line: the decision and why, the measures against their limits, the worst columns."""
        verdict = "refused" if self.refused else "passed"
        weighted = (
            ""
            if self.weighted_drift_share is None
            else f", carrying {self.weighted_drift_share:.2f} of the importance, limit {self.weighted_drift_limit:.2f}"
        )
        if self.refused:
            text = f"drift check {verdict}: " + "; ".join(self.reasons)
        else:
            text = (
                f"drift check {verdict}: {len(self.drifted_columns)} of {len(self.columns)} columns drifted "
                f"(share {self.drifted_share:.2f}, limit {self.drift_share_limit:.2f}{weighted}); "
                f"{len(self.out_of_range_columns)} column(s) with more than {self.out_of_range_limit:.2f} of rows "
                f"outside training values; "
                f"{len(self.na_moved_columns)} column(s) with missing values moved by more than "
                f"{self.na_drift_tolerance:.2f}"
            )
        shown = self.most_drifted()
        if shown:
            more = len([c for c in self.columns if c.flagged]) - len(shown)
            text += "; worst: " + ", ".join(c.describe() for c in shown) + (f", +{more} more" if more else "")
        return text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refused"] = self.refused
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftDecision:
        fields = {k: v for k, v in data.items() if k != "refused"}
        fields["columns"] = [ColumnDrift(**column) for column in data["columns"]]
        if fields.get("prediction_drift") is not None:
            fields["prediction_drift"] = PredictionDrift(**fields["prediction_drift"])
        return cls(**fields)

    def metadata(self) -> dict[str, Any]:
        """Per-column results and the decision, as ZenML metadata (plain types); a regression adds
        ``prediction_drift`` (``PredictionDrift.metadata``)."""
        extra = {} if self.prediction_drift is None else {METADATA_PREDICTION_DRIFT: self.prediction_drift.metadata()}
        return extra | {
            "refused": self.refused,
            "reasons": self.reasons,
            "weighted_drift_share": self.weighted_drift_share,
            "weighted_drift_limit": self.weighted_drift_limit,
            "out_of_range_limit": self.out_of_range_limit,
            "out_of_range_columns": self.out_of_range_columns,
            "drifted_share": self.drifted_share,
            "drift_share_limit": self.drift_share_limit,
            "na_drift_tolerance": self.na_drift_tolerance,
            "drifted_columns": self.drifted_columns,
            "na_moved_columns": self.na_moved_columns,
            "reference_kind": self.reference_kind,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": {
                c.column: {
                    "drifted": c.drifted,
                    "method": c.method,
                    "score": c.score,
                    "threshold": c.threshold,
                    "na_share_reference": c.na_share_reference,
                    "na_share_current": c.na_share_current,
                    "importance": c.importance,
                    "out_of_range_share": c.out_of_range_share,
                }
                for c in self.columns
            },
        }


@dataclass(frozen=True)
class DriftCheck:
    """The report as standalone HTML and the decision read from it."""

    html: str
    decision: DriftDecision


def sample_rows(frame: pd.DataFrame, max_rows: int, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame``: the same rows for the same frame, every time."""
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


def out_of_range_counts(features: pd.DataFrame, contract: DataContract, unseen: dict[str, int]) -> dict[str, int]:
    """Rows per column outside the training values: a number beyond the training range, or a category
    never seen in training (``unseen``, as the contract's check counted it). ``features`` are validated."""
    counts = dict(unseen)
    for spec in contract.features:
        if spec.kind is FeatureKind.NUMERIC and spec.minimum is not None and spec.maximum is not None:
            values = features[spec.name]
            outside = int(((values < spec.minimum) | (values > spec.maximum)).sum())
            if outside:
                counts[spec.name] = outside
    return counts


class RangeCount(BaseModel):
    """Rows outside the training values per column, out of ``rows`` rows checked."""

    model_config = ConfigDict(frozen=True)

    counts: dict[str, int]
    rows: int

    @classmethod
    def of_chunks(cls, chunks: Iterable[pd.DataFrame], contract: DataContract) -> RangeCount:
        counts: dict[str, int] = {}
        rows = 0
        for chunk in chunks:
            validated = contract.validate(chunk)
            for name, count in out_of_range_counts(validated.features, contract, validated.unseen_categories).items():
                counts[name] = counts.get(name, 0) + count
            rows += len(chunk)
        return cls(counts=counts, rows=rows)

    @staticmethod
    def total(parts: Sequence[RangeCount]) -> tuple[dict[str, int], int]:
        counts: dict[str, int] = {}
        for part in parts:
            for name, count in part.counts.items():
                counts[name] = counts.get(name, 0) + count
        return counts, sum(part.rows for part in parts)


def report_location(run_id: Any) -> str:
    """Where the drift report of a run is: its artifact version, and the flag that writes it to a file."""
    from zenml.client import Client

    from e2e_inference.names import DRIFT_REPORT

    for step_run in Client().get_pipeline_run(run_id).steps.values():
        if DRIFT_REPORT in step_run.outputs:
            version = step_run.outputs[DRIFT_REPORT][0].version
            return f"artifact '{DRIFT_REPORT}' version {version} (or run again with --report FILE)"
    return f"artifact '{DRIFT_REPORT}' of this run (or run again with --report FILE)"


def apply_feature_profile(
    decision: DriftDecision,
    contract: DataContract,
    out_of_range: dict[str, int],
    rows_checked: int,
    options: DriftOptions,
) -> DriftDecision:
    """Add what the version's contract knows (importance, training values) to Evidently's decision:
    the importance-weighted share of drifted columns and each column's share of rows outside the
    training values, against their limits. A contract without importance (version 1), or a check on
    preprocessed columns, leaves the weighted share out."""
    importance = {spec.name: spec.importance for spec in contract.features if spec.importance is not None}
    weighted = decision.reference_kind == "raw" and bool(importance)
    columns = []
    for column in decision.columns:
        count = out_of_range.get(column.column, 0)
        columns.append(
            replace(
                column,
                importance=importance.get(column.column) if weighted else None,
                out_of_range_share=count / rows_checked if rows_checked else 0.0,
                out_of_range_exceeded=out_of_range_exceeded(count, rows_checked, options.out_of_range_share),
            )
        )
    tested = len(columns)
    weighted_share = sum(c.importance or 0.0 for c in columns if c.strongly_drifted(tested)) if weighted else None
    return replace(
        decision,
        columns=columns,
        weighted_drift_share=weighted_share,
        weighted_drift_limit=options.weighted_drift_share,
        out_of_range_limit=options.out_of_range_share,
        rows_checked_for_range=rows_checked,
        out_of_range_rows=dict(out_of_range),
    )


def out_of_range_exceeded(count: int, rows: int, limit: float) -> bool:
    """More than ``limit`` of ``rows`` outside the training values, and at least a few rows.

    New rows from the training distribution fall outside the range of a few hundred training rows
    about once in 200 per column; in a small batch one such row alone would cross a share limit.
    """
    return rows > 0 and count >= MIN_OUT_OF_RANGE_ROWS and count / rows > limit


@dataclass(frozen=True)
class PredictionReference:
    """What the prediction part of a regression's drift check needs: the version's fitted preprocessing
    and model (to predict the rows checked) and its ``holdout_predictions``."""

    preprocess_pipeline: Any
    model: Any
    holdout_predictions: pd.DataFrame


def check_against_version(
    rows: pd.DataFrame,
    contract: DataContract,
    preprocess_pipeline: Any,
    reference: pd.DataFrame,
    reference_artifact: str,
    options: DriftOptions,
    out_of_range: tuple[dict[str, int], int] | None = None,
    predictions: PredictionReference | None = None,
) -> DriftCheck:
    """The drift check of rows to score against a model version's reference: Evidently's comparison
    (``compare_with_reference``) with what the version's contract adds (``with_feature_profile``).

    ``out_of_range`` gives the counts over all rows to score and their number when ``rows`` is only
    a sample of them. ``predictions``: a regression's prediction part (``compare_predictions``).
    """
    compared = compare_with_reference(
        rows, contract, preprocess_pipeline, reference, reference_artifact, options, predictions
    )
    return with_prediction_note(with_feature_profile(compared, rows, contract, options, out_of_range), contract)


def compare_with_reference(
    rows: pd.DataFrame,
    contract: DataContract,
    preprocess_pipeline: Any,
    reference: pd.DataFrame,
    reference_artifact: str,
    options: DriftOptions,
    predictions: PredictionReference | None = None,
) -> DriftCheck:
    """Evidently's report and decision on ``rows`` against the version's reference.

    With the version's ``drift_reference`` (raw training features) the raw columns are compared;
    a version that only has ``dataset_trn`` is compared on preprocessed columns. With ``predictions``
    (a regression version's), the report adds its predictions for ``rows`` against those on the
    holdout (``compare_predictions``), outside the decision's share and limits.
    """
    validated = contract.validate(rows)
    if reference_artifact == DRIFT_REFERENCE:
        current = validated.features
        reference = reference[contract.feature_names]
        categorical = [
            *contract.columns_of_kind(FeatureKind.CATEGORICAL),
            *contract.columns_of_kind(FeatureKind.BOOLEAN),
        ]
        kind = "raw"
    else:
        reference = reference.drop(columns=[contract.target], errors="ignore")
        current = _preprocessed_with_missing(preprocess_pipeline, rows, validated.features)
        categorical = []
        kind = "preprocessed"
    arguments = dict(
        drift_share=options.drift_share,
        na_drift_tolerance=options.na_drift_tolerance,
        categorical_columns=categorical,
        sample_size=options.drift_sample_rows,
        reference_kind=kind,
        unseen_categories=validated.unseen_categories,
    )
    if predictions is None:
        return run_drift_check(reference, current, **arguments)
    snapshot, decision = _feature_comparison(reference, current, **arguments)
    prediction_snapshot, prediction_drift = compare_predictions(rows, predictions, options.drift_sample_rows)
    return DriftCheck(
        html=combined_html(snapshot, prediction_snapshot),
        decision=replace(decision, prediction_drift=prediction_drift),
    )


PREDICTION_SECTION = "Predictions of these rows against the predictions on the holdout rows (not part of the gate)"


def holdout_prediction_values(holdout: pd.DataFrame) -> pd.Series | None:
    """The holdout predictions as numbers (missing ones dropped), or None when the artifact holds none."""
    if not isinstance(holdout, pd.DataFrame) or HOLDOUT_PREDICTION_COLUMN not in holdout.columns:
        return None
    values = pd.to_numeric(holdout[HOLDOUT_PREDICTION_COLUMN], errors="coerce").astype("float64")
    values = values[values.notna() & values.abs().lt(float("inf"))]
    return None if values.empty else values.reset_index(drop=True)


def compare_predictions(
    rows: pd.DataFrame, predictions: PredictionReference, sample_size: int
) -> tuple[Any, PredictionDrift]:
    """Evidently's snapshot and outcome of the model's predictions for ``rows`` against its predictions
    on the holdout rows, on bounded deterministic samples (K-S for small samples, as for features).
    The snapshot is None when they could not be compared, and the outcome says why: the holdout
    predictions hold no number, a prediction of the rows is not a finite number (scoring then names the
    rows, with their numbers in the input), or Evidently could not compare them. This part never
    decides the gate, so it never fails the drift check either."""
    from e2e_inference.predict import predicted_numbers

    reference_values = holdout_prediction_values(predictions.holdout_predictions)
    if reference_values is None:
        return None, PredictionDrift.not_compared(
            f"the version's {HOLDOUT_PREDICTIONS} artifact has no numbers in a column '{HOLDOUT_PREDICTION_COLUMN}'"
        )
    checked = sample_rows(rows, sample_size)  # predict only the rows the comparison keeps
    try:
        current_values = predicted_numbers(predictions.model, predictions.preprocess_pipeline.transform(checked))
    except DataError:
        return None, PredictionDrift.not_compared(
            "some predictions of the rows checked are not finite numbers (scoring names the rows)"
        )
    reference = sample_rows(pd.DataFrame({PREDICTION_COLUMN: reference_values}), sample_size)
    current = pd.DataFrame({PREDICTION_COLUMN: current_values})
    try:
        snapshot = _run_prediction_report(reference, current)
    except Exception as exc:  # noqa: BLE001 - e.g. predictions too close together for Evidently's bins
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, PredictionDrift.not_compared(
            f"Evidently could not compare them ({type(exc).__name__}{': ' + reason if reason else ''})"
        )
    column = decide(json.loads(snapshot.json()), reference, current, drift_share=1.0, na_drift_tolerance=1.0).columns[0]
    return snapshot, PredictionDrift(
        drifted=column.drifted,
        method=column.method,
        score=column.score,
        threshold=column.threshold,
        reference_rows=len(reference),
        current_rows=len(current),
    )


def with_prediction_note(check: DriftCheck, contract: DataContract) -> DriftCheck:
    """A regression's check that compared no predictions says why: its version has no holdout predictions."""
    if not contract.is_regression or check.decision.prediction_drift is not None:
        return check
    note = PredictionDrift.not_compared(
        f"the version has no {HOLDOUT_PREDICTIONS} artifact (trained before e2e-train recorded them)"
    )
    return replace(check, decision=replace(check.decision, prediction_drift=note))


def combined_html(features: Any, predictions: Any | None) -> str:
    """One standalone Evidently page: the features' report, then the predictions' section.

    Evidently renders a snapshot's widgets into a page; both snapshots' widgets go into one page
    (a group titled ``PREDICTION_SECTION`` for the predictions). Without a prediction snapshot, the
    features' page as ``run_drift_check`` renders it.
    """
    if predictions is None:
        return features.get_html_str(as_iframe=False).strip()
    from evidently.core.metric_types import render_widgets
    from evidently.legacy.renderers.html_widgets import group_widget

    widgets = [
        group_widget(title="", widgets=features._widgets),
        *features._tests_widgets,
        group_widget(title=PREDICTION_SECTION, widgets=predictions._widgets),
    ]
    return render_widgets(widgets, as_iframe=False).strip()


def with_feature_profile(
    compared: DriftCheck,
    rows: pd.DataFrame,
    contract: DataContract,
    options: DriftOptions,
    out_of_range: tuple[dict[str, int], int] | None = None,
) -> DriftCheck:
    """Evidently's check with the contract's importance and training ranges applied; the out-of-range
    counts are taken on ``rows`` unless ``out_of_range`` gives them for all rows to score."""
    if out_of_range is None:
        validated = contract.validate(rows)
        out_of_range = (out_of_range_counts(validated.features, contract, validated.unseen_categories), len(rows))
    counts, rows_checked = out_of_range
    return replace(compared, decision=apply_feature_profile(compared.decision, contract, counts, rows_checked, options))


def early_comparison(
    rows: pd.DataFrame,
    contract: DataContract,
    reference: pd.DataFrame,
    options: DriftOptions,
    model_version_id: str,
    predictions: PredictionReference | None = None,
) -> tuple[str, DriftCheck]:
    """``compare_with_reference`` against the version's drift reference, with its ``check_key``: the
    drift worker's job that ``e2e-infer`` starts before the pipeline (a regression's with its
    ``predictions``)."""
    key = check_key(rows, model_version_id, DRIFT_REFERENCE, options, with_predictions=predictions is not None)
    return key, compare_with_reference(rows, contract, None, reference, DRIFT_REFERENCE, options, predictions)


def early_sampled_comparison(
    source: Any,
    contract: DataContract,
    reference: pd.DataFrame,
    options: DriftOptions,
    model_version_id: str,
    id_column: str | None,
    predictions: PredictionReference | None = None,
) -> tuple[str, DriftCheck]:
    """``early_comparison`` of the drift sample of an input recorded by reference (the rows the
    ``sample_rows`` step takes)."""
    from e2e_inference.inputs import drift_sample

    rows = drift_sample(source, contract, id_column, options.drift_sample_rows)
    return early_comparison(rows, contract, reference, options, model_version_id, predictions)


def _preprocessed_with_missing(preprocess_pipeline: Any, rows: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """Preprocessed rows, with the raw rows' missing values put back where a column kept its name."""
    transformed = preprocess_pipeline.transform(rows)
    for name in transformed.columns:
        if name in features.columns:
            transformed[name] = transformed[name].where(features[name].notna())
    return transformed


def run_drift_check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    drift_share: float,
    na_drift_tolerance: float,
    categorical_columns: Sequence[str] = (),
    sample_size: int,
    reference_kind: str = "raw",
    unseen_categories: dict[str, int] | None = None,
) -> DriftCheck:
    """Compare ``current`` with ``reference`` (same columns) on bounded deterministic samples."""
    snapshot, decision = _feature_comparison(
        reference, current, drift_share=drift_share, na_drift_tolerance=na_drift_tolerance,
        categorical_columns=categorical_columns, sample_size=sample_size, reference_kind=reference_kind,
        unseen_categories=unseen_categories,
    )
    return DriftCheck(html=snapshot.get_html_str(as_iframe=False).strip(), decision=decision)


def _feature_comparison(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    drift_share: float,
    na_drift_tolerance: float,
    categorical_columns: Sequence[str] = (),
    sample_size: int,
    reference_kind: str = "raw",
    unseen_categories: dict[str, int] | None = None,
) -> tuple[Any, DriftDecision]:
    """Evidently's snapshot of ``current`` against ``reference`` (same columns, bounded samples) and
    the decision read from it."""
    columns = [str(c) for c in reference.columns]
    missing = [c for c in columns if c not in current.columns]
    if missing:
        raise ValueError(f"current rows lack reference columns: {', '.join(missing)}")
    reference = sample_rows(reference[columns], sample_size)
    current = sample_rows(current[columns], sample_size)
    snapshot = _run_report(reference, current, drift_share, na_drift_tolerance, categorical_columns)
    decision = decide(
        json.loads(snapshot.json()),
        reference,
        current,
        drift_share=drift_share,
        na_drift_tolerance=na_drift_tolerance,
        reference_kind=reference_kind,
        unseen_categories=unseen_categories or {},
    )
    return snapshot, decision


SMALL_SAMPLE_ROWS = 1_000


def tests_for_sizes(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, str]:
    """Statistical tests when either side is small: K-S and chi-squared, whose p-values account for size.

    Evidently picks the test from the reference's size alone: with a large reference it uses distance
    measures (Wasserstein, Jensen-Shannon) against a fixed 0.1 threshold, which a batch of a few hundred
    rows from the very same distribution crosses by chance. Evidently's own rule, applied to the smaller
    side, keeps false alarms at the tests' 5%.
    """
    if min(len(reference), len(current)) > SMALL_SAMPLE_ROWS:
        return {}
    return {"num_method": "ks", "cat_method": "chisquare"}


def check_key(
    rows: pd.DataFrame,
    model_version_id: str,
    reference_artifact: str,
    options: DriftOptions,
    with_predictions: bool = False,
) -> str:
    """What Evidently's comparison of ``rows`` depends on, as one string: the rows' content (values,
    columns, types and order), the model version, its reference artifact, the options and whether a
    regression's predictions are compared too. Two with the same key make the same decision: the
    command starts one early and the step takes its result."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(rows, index=True).to_numpy().tobytes())
    digest.update(json.dumps([[str(c), str(t)] for c, t in rows.dtypes.items()]).encode())
    digest.update(f"{model_version_id}\0{reference_artifact}\0{options.model_dump_json()}".encode())
    if with_predictions:
        digest.update(f"\0{HOLDOUT_PREDICTIONS}".encode())
    return digest.hexdigest()


def import_evidently() -> None:
    """Import what the report needs (seconds: the drift worker does it ahead of time)."""
    import evidently.metrics  # noqa: F401
    import evidently.tests  # noqa: F401
    from evidently import Report  # noqa: F401


def _run_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    drift_share: float,
    na_drift_tolerance: float,
    categorical_columns: Sequence[str],
) -> Any:
    from evidently import DataDefinition, Dataset, Report
    from evidently.core.tests import Reference
    from evidently.metrics import DatasetMissingValueCount, DriftedColumnsCount, MissingValueCount, ValueDrift
    from evidently.tests import eq, lte

    categorical = [c for c in reference.columns if c in set(categorical_columns)]
    numerical = [c for c in reference.columns if c not in set(categorical)]
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    # A column with no value on either side has no distribution to compare: its missing-value
    # test speaks for it.
    comparable = [c for c in reference.columns if reference[c].notna().any() and current[c].notna().any()]
    methods = tests_for_sizes(reference, current)
    # The metrics of Evidently's DataDriftPreset without the preset's own rendering, which computes
    # every column's drift twice more for its overview table (half the report's time). The share
    # test fails only when the share *exceeds* the limit; both use the same tests per column.
    drift = [
        DriftedColumnsCount(columns=comparable, drift_share=drift_share, share_tests=[lte(drift_share)], **methods),
        *(ValueDrift(column=c, method=_column_method(c, categorical, methods)) for c in comparable),
    ]
    metrics = [
        *(drift if comparable else []),
        DatasetMissingValueCount(tests=[]),
        *(
            MissingValueCount(column=c, share_tests=[eq(Reference(absolute=na_drift_tolerance))])
            for c in reference.columns
        ),
    ]
    return Report(metrics, include_tests=True).run(
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
        current_data=Dataset.from_pandas(current, data_definition=definition),
    )


def _run_prediction_report(reference: pd.DataFrame, current: pd.DataFrame) -> Any:
    """Evidently's drift test of the one ``prediction`` column (numeric), with ``tests_for_sizes``' test."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    definition = DataDefinition(numerical_columns=[PREDICTION_COLUMN])
    method = tests_for_sizes(reference, current).get("num_method")
    return Report([ValueDrift(column=PREDICTION_COLUMN, method=method)], include_tests=True).run(
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
        current_data=Dataset.from_pandas(current, data_definition=definition),
    )


def _column_method(column: str, categorical: Sequence[str], methods: dict[str, str]) -> str | None:
    """The test ``tests_for_sizes`` chose for the column's kind, or None for Evidently's own choice."""
    return methods.get("cat_method" if column in categorical else "num_method")


def decide(
    snapshot: dict[str, Any],
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    drift_share: float,
    na_drift_tolerance: float,
    reference_kind: str = "raw",
    unseen_categories: dict[str, int] | None = None,
) -> DriftDecision:
    """Read the decision from the tests of an Evidently snapshot (its ``json()``, parsed)."""
    metric_values = {m["id"]: m for m in snapshot["metrics"]}
    share_failed = False
    drifted_share = 0.0
    drift_status: dict[str, bool] = {}
    na_status: dict[str, bool] = {}
    for test in snapshot["tests"]:
        config = test["metric_config"]
        kind = config["params"]["type"].rsplit(":", 1)[-1]
        column = config["params"].get("column")
        failed = test["status"] == FAILED
        if kind == "DriftedColumnsCount":
            share_failed = share_failed or failed
            drifted_share = float(metric_values[config["metric_id"]]["value"]["share"])
        elif kind == "ValueDrift":
            drift_status[column] = failed
        elif kind == "MissingValueCount":
            na_status[column] = na_status.get(column, False) or failed
    drift_config = {
        m["config"]["column"]: m for m in snapshot["metrics"] if m["config"]["type"].endswith(":ValueDrift")
    }
    columns = []
    for name in reference.columns:
        metric = drift_config.get(name, {})
        config = metric.get("config", {})
        method = str(config.get("method", ""))
        columns.append(
            ColumnDrift(
                column=str(name),
                drifted=drift_status.get(name, False),
                method=TEST_NAMES.get(method, method),
                score=_number(metric.get("value")),
                threshold=_number(config.get("threshold")),
                na_share_reference=float(reference[name].isna().mean()) if len(reference) else 0.0,
                na_share_current=float(current[name].isna().mean()) if len(current) else 0.0,
                na_moved=na_status.get(name, False),
            )
        )
    return DriftDecision(
        drifted_share=drifted_share,
        drift_share_limit=drift_share,
        drift_share_exceeded=share_failed,
        na_drift_tolerance=na_drift_tolerance,
        columns=columns,
        reference_rows=len(reference),
        current_rows=len(current),
        reference_kind=reference_kind,
        unseen_categories=dict(unseen_categories or {}),
    )


def enforce(decision: DriftDecision, report: str) -> None:
    """Raise QualityGateError (exit 3) when the decision refuses the rows: why, the worst columns,
    where the full report is (``report``), and how to override."""
    if decision.refused:
        limits = ["--drift-share"]
        if decision.weighted_drift_share is not None:
            limits.append("--weighted-drift-share")
        limits += ["--out-of-range-share", "--na-drift-tolerance"]
        raise QualityGateError(
            f"{decision.summary()}; full report: {report}; check the data, raise a limit ({', '.join(limits)}) "
            "or score anyway with --no-drift-check"
        )


def _drift_order(column: ColumnDrift) -> tuple[float, bool, float, float]:
    """Harm first: importance of a drifted or out-of-range column, then the evidence."""
    na_delta = abs(column.na_share_current - column.na_share_reference)
    harmful = (column.drifted or column.out_of_range_exceeded) * (column.importance or 0.0)
    return (harmful, column.drifted or column.out_of_range_exceeded, column.severity + column.out_of_range_share, na_delta)


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
