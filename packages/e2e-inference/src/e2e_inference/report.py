"""The drift report as people see it: a summary table that renders anywhere, and Evidently's full report.

The ZenML dashboard shows HTML in a sandbox without scripts, where Evidently's report is blank; the
Markdown summary (the gate's decision, then one row per column) is the artifact's first view and the
full report its second. ``e2e-infer --report FILE`` writes the full report for a browser.

A regression's report ends with its predictions against those on the holdout rows: a section of the
summary (``PREDICTIONS_HEADING``) and of the full report, outside the gate's decision.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer

from e2e_inference.drift import ColumnDrift, DriftDecision, PredictionDrift

SUMMARY_FILE = "summary.md"
PREDICTIONS_HEADING = "## Predictions against the holdout (not part of the gate)"
REPORT_FILE = "report.html"


class DriftReport(BaseModel):
    """Evidently's HTML report and the Markdown summary of the decision."""

    model_config = ConfigDict(frozen=True)

    summary: str
    html: str


def summary_markdown(decision: DriftDecision) -> str:
    """The decision on top, then each column: test, statistic, threshold, drifted, importance,
    missing-value shares and the share of rows outside the training values; flagged columns first."""
    verdict = "**Refused**" if decision.refused else "**Passed**"
    reasons = "".join(f"\n- {reason}" for reason in decision.reasons)
    lines = [
        f"# Drift check: {verdict}",
        "",
        f"{decision.current_rows} rows compared with {decision.reference_rows} training rows "
        f"({decision.reference_kind} columns).{reasons}",
        "",
        "| column | test | statistic | threshold | drifted | importance | missing (training → now) "
        "| outside training values |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    flagged = decision.most_drifted(limit=len(decision.columns))
    rest = [column for column in decision.columns if column not in flagged]
    lines += [_row(column) for column in [*flagged, *rest]]
    if decision.prediction_drift is not None:
        lines += ["", *_prediction_lines(decision.prediction_drift)]
    return "\n".join(lines) + "\n"


def _prediction_lines(drift: PredictionDrift) -> list[str]:
    """A regression's section: the test of its predictions for these rows against those on the holdout."""
    if drift.skipped is not None:
        return [PREDICTIONS_HEADING, "", f"Not compared: {drift.skipped}."]
    return [
        PREDICTIONS_HEADING,
        "",
        f"The model's predictions for {drift.current_rows} of these rows compared with its predictions for "
        f"{drift.reference_rows} holdout rows; shown, never counted by the gate.",
        "",
        "| column | test | statistic | threshold | drifted |",
        "| --- | --- | --- | --- | --- |",
        f"| prediction | {drift.method or 'n/a'} | {_number(drift.score)} | {_number(drift.threshold)} "
        f"| {'**yes**' if drift.drifted else 'no'} |",
    ]


def _row(column: ColumnDrift) -> str:
    importance = "" if column.importance is None else f"{column.importance:.3f}"
    drifted = "**yes**" if column.drifted else "no"
    outside = f"{column.out_of_range_share:.1%}" + (" **over limit**" if column.out_of_range_exceeded else "")
    missing = f"{column.na_share_reference:.0%} → {column.na_share_current:.0%}" + (
        " **moved**" if column.na_moved else ""
    )
    return (
        f"| {column.column} | {column.method or 'n/a'} | {_number(column.score)} | {_number(column.threshold)} "
        f"| {drifted} | {importance} | {missing} | {outside} |"
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


class DriftReportMaterializer(BaseMaterializer):
    """Stores a DriftReport as two files; the dashboard shows the summary first, the full report second."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (DriftReport,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def load(self, data_type: type[Any]) -> DriftReport:
        with self.artifact_store.open(os.path.join(self.uri, SUMMARY_FILE), "r") as summary:
            text = summary.read()
        with self.artifact_store.open(os.path.join(self.uri, REPORT_FILE), "r") as report:
            return DriftReport(summary=text, html=report.read())

    def save(self, data: DriftReport) -> None:
        with self.artifact_store.open(os.path.join(self.uri, SUMMARY_FILE), "w") as summary:
            summary.write(data.summary)
        with self.artifact_store.open(os.path.join(self.uri, REPORT_FILE), "w") as report:
            report.write(data.html)

    def save_visualizations(self, data: DriftReport) -> dict[str, VisualizationType]:
        return {
            os.path.join(self.uri, SUMMARY_FILE).replace("\\", "/"): VisualizationType.MARKDOWN,
            os.path.join(self.uri, REPORT_FILE).replace("\\", "/"): VisualizationType.HTML,
        }
