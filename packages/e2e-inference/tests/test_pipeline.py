"""The inference pipeline in process, on real ZenML and Evidently, with fixture model versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixture_versions import categorical_frame, promote_fixture_version
from inference_helpers import predictions_of

from e2e_common.data import default_inference_data
from e2e_common.errors import QualityGateError
from e2e_inference.cli import run_inference
from e2e_inference.names import (
    DRIFT_REPORT,
    METADATA_DRIFT,
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTIONS,
    probability_column,
)
from e2e_inference.settings import InferenceSettings

pytestmark = pytest.mark.slow  # every test runs the inference pipeline


def infer(*args: str):
    said: list[str] = []
    result = run_inference(InferenceSettings.from_cli(list(args)), say=said.append)
    return result, "\n".join(said)


def load_predictions(version: str) -> pd.DataFrame:
    from zenml.client import Client

    return Client().get_artifact_version(PREDICTIONS, version).load()


@pytest.fixture(scope="module")
def shifted_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("shifted") / "shifted.csv"
    (default_inference_data() * 3 + 5).to_csv(path, index=False)
    return path


def test_no_drift_check_scores_drifted_rows(default_version, shifted_csv, capfd):
    result, said = infer(
        "--model-name", default_version, "--data", str(shifted_csv), "--no-drift-check", "--notify-on-success"
    )
    assert "Drift check: skipped (--no-drift-check)" in said
    assert "notification: e2e-infer run" in capfd.readouterr().out
    assert result.drift_summary is None and result.rows_scored == 28
    assert len(load_predictions(result.predictions_version)) == 28


def test_two_runs_against_one_version_make_two_predictions_versions(default_version, tmp_path):
    rows = default_inference_data()
    first_rows, second_rows = tmp_path / "first.csv", tmp_path / "second.parquet"
    rows.iloc[:20].to_csv(first_rows, index=False)
    rows.iloc[8:].to_parquet(second_rows)
    before = {a.id for a in predictions_of(default_version, 1)}
    first, _ = infer("--model-name", default_version, "--data", str(first_rows))
    second, _ = infer("--model-name", default_version, "--data", str(second_rows))
    assert first.predictions_version != second.predictions_version
    assert not first.cached and not second.cached
    new = {a.id for a in predictions_of(default_version, 1)} - before
    assert len(new) == 2
    assert len(load_predictions(first.predictions_version)) == 20
    assert len(load_predictions(second.predictions_version)) == 20


def test_cache_reuses_work_only_for_same_version_and_input_and_predictions_are_new_every_run(tmp_path):
    model = "inf_caching"
    promote_fixture_version(model)
    rows = tmp_path / "rows.csv"
    default_inference_data().to_csv(rows, index=False)
    first, _ = infer("--model-name", model, "--data", str(rows))
    again, _ = infer("--model-name", model, "--data", str(rows))
    assert again.drift_report_version == first.drift_report_version
    assert again.predictions_version != first.predictions_version
    forced, _ = infer("--model-name", model, "--data", str(rows), "--no-cache")
    assert forced.drift_report_version != first.drift_report_version
    default_inference_data().iloc[::-1].to_csv(rows, index=False)
    changed, _ = infer("--model-name", model, "--data", str(rows))
    assert changed.drift_report_version not in {first.drift_report_version, forced.drift_report_version}

    promote_fixture_version(model, c=0.05)
    newer, said = infer("--model-name", model, "--data", str(rows))
    assert newer.model_version == "2" and newer.drift_report_version != changed.drift_report_version
    assert f"model '{model}' version 2 at stage 'staging'" in said
    predictions = load_predictions(newer.predictions_version)
    assert set(predictions[MODEL_VERSION_COLUMN]) == {"2"}
    assert [a.version for a in predictions_of(model, 2)] == [newer.predictions_version]


def test_unseen_category_is_scored_and_counted(categorical_version, tmp_path):
    rows = categorical_frame(rows=60, seed=1).drop(columns=["label"])
    rows.loc[:4, "color"] = "purple"
    rows.loc[5, "color"] = None
    rows.insert(0, "order_id", [f"o-{i}" for i in range(len(rows))])
    path = tmp_path / "rows.parquet"
    rows.to_parquet(path)
    output = tmp_path / "scored.parquet"
    result, said = infer(
        "--model-name", categorical_version, "--data", str(path), "--id-column", "order_id", "--output", str(output),
        "--out-of-range-share", "0.1",  # 5 of 60 rows (8%) are unseen: refused at the default 0.05
    )
    assert result.unseen_categories == {"color": 5}
    assert "Unseen categories (scored as unknown), rows per column: color: 5" in said
    assert "Drift check passed" in said
    written = pd.read_parquet(output)
    assert written["order_id"].tolist() == rows["order_id"].tolist()
    classes = ["high", "low", "mid"]
    assert list(written.columns) == [
        "order_id", PREDICTED_CLASS_COLUMN, *map(probability_column, classes), MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN
    ]
    assert set(written[PREDICTED_CLASS_COLUMN]) <= set(classes)
    np.testing.assert_allclose(written[[probability_column(c) for c in classes]].sum(axis=1), 1.0)


def test_drift_report_is_a_summary_and_evidently_html_with_per_column_metadata(default_version):
    from zenml.artifacts.utils import load_artifact_visualization
    from zenml.client import Client

    result, _ = infer("--model-name", default_version, "--no-cache")
    report = Client().get_artifact_version(DRIFT_REPORT, result.drift_report_version)
    assert report.load().html.startswith("<!DOCTYPE html>")
    summary = load_artifact_visualization(report, index=0)
    assert summary.type == "markdown" and summary.value.startswith("# Drift check: **Passed**")
    assert "| mean radius | K-S p_value |" in summary.value
    assert load_artifact_visualization(report, index=1).type == "html"
    drift = report.run_metadata[METADATA_DRIFT]
    assert drift["refused"] is False
    assert len(drift["columns"]) == 30
    assert {"drifted", "method", "score", "threshold", "na_share_current"} <= set(drift["columns"]["mean radius"])
    model_version = Client().get_model_version(default_version, 1)
    links = Client().list_model_version_artifact_links(model_version_id=model_version.id, size=1000)
    assert result.drift_report_version in {
        link.artifact_version.version for link in links.items if link.artifact_version.name == DRIFT_REPORT
    }


def test_version_without_drift_reference_falls_back_to_dataset_trn(shifted_csv, tmp_path):
    model = "inf_no_reference"
    promote_fixture_version(model, with_drift_reference=False)
    passed, said = infer("--model-name", model)
    assert "Drift check passed" in said
    with pytest.raises(QualityGateError, match="drift check refused"):
        infer("--model-name", model, "--data", str(shifted_csv))
    mostly_missing = tmp_path / "mostly_missing.csv"
    rows = default_inference_data()
    rows.mask(np.random.default_rng(1).random(rows.shape) < 0.7).to_csv(mostly_missing, index=False)
    with pytest.raises(QualityGateError, match="missing 0% -> "):
        infer("--model-name", model, "--data", str(mostly_missing))
    assert [a.version for a in predictions_of(model, 1)] == [passed.predictions_version]
