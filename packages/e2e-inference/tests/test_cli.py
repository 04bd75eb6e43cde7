"""``e2e-infer`` as a user runs it: exit codes, one ``error:`` line, nothing written on refusal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from inference_helpers import artifact_versions, predictions_of

from e2e_common.contract import CONTRACT_VERSION
from e2e_common.data import default_inference_data
from e2e_inference.names import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTION_ID_COLUMN,
    PREDICTIONS,
    probability_column,
)

pytestmark = pytest.mark.slow  # every test runs e2e-infer as a subprocess


def assert_one_error_line(run, *fragments: str) -> str:
    errors = [line for line in run.stderr_lines if line.startswith("error: ")]
    assert run.stderr_lines == errors and len(errors) == 1, run.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def test_help_lists_every_option(run_e2e_infer):
    """What --help says; how fast it answers is measured by ``hatch run bench:cli``."""
    run = run_e2e_infer("--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: e2e-infer")
    for flag in ("--data", "--output", "--id-column", "--stage", "--no-drift-check", "--drift-share",
                 "--na-drift-tolerance", "--no-cache", "--model-name", "--config", "--debug"):
        assert flag in run.stdout
    examples = run.stdout.split("\nexamples:\n", 1)[1]
    assert "--id-column customer_id --output scored.parquet" in examples and "--stage production" in examples
    assert "--config inference.yaml" in examples and "{Path,null}" not in run.stdout


def test_version_is_the_package_version(run_e2e_infer):
    from e2e_inference import __version__

    run = run_e2e_infer("--version")
    assert (run.returncode, run.stdout.strip()) == (0, f"e2e-infer {__version__}"), run.stderr


def test_before_any_training_exits_4_and_writes_nothing(run_e2e_infer, tmp_path):
    from zenml.client import Client

    output = tmp_path / "predictions.csv"
    run = run_e2e_infer("--model-name", "never_trained", "--output", str(output))
    assert run.returncode == 4
    assert_one_error_line(run, "error: no model named 'never_trained' in this ZenML store (models: ")
    assert not output.exists()
    assert "never_trained" not in [m.name for m in Client().list_models(size=1000).items]
    assert not [r for r in Client().list_pipeline_runs(size=1000).items if r.name.startswith("inference")]


@pytest.fixture
def bad_inputs(tmp_path):
    rows = default_inference_data()
    missing = tmp_path / "missing_column.csv"
    rows.drop(columns=["mean radius", "worst area"]).to_csv(missing, index=False)
    text = tmp_path / "text_in_numeric.csv"
    rows.assign(**{"mean texture": rows["mean texture"].astype(object).where(rows.index != 3, "abc")}).to_csv(
        text, index=False
    )
    unsupported = tmp_path / "rows.txt"
    rows.to_csv(unsupported, index=False)
    return {"missing": missing, "text": text, "unsupported": unsupported}


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("missing", ["missing feature columns: mean radius, worst area"]),
        ("text", ["mean texture", "'abc'"]),
        ("unsupported", ["rows.txt", "unsupported file extension '.txt'"]),
    ],
)
def test_bad_input_exits_2_without_predictions(run_e2e_infer, default_version, bad_inputs, tmp_path, case, fragments):
    output = tmp_path / "out.parquet"
    before = artifact_versions(PREDICTIONS)
    run = run_e2e_infer("--model-name", default_version, "--data", str(bad_inputs[case]), "--output", str(output))
    assert run.returncode == 2
    assert_one_error_line(run, *fragments)
    assert not output.exists()
    assert artifact_versions(PREDICTIONS) == before


@pytest.fixture
def drifted_inputs(tmp_path):
    rows = default_inference_data()
    shifted = tmp_path / "shifted.parquet"
    (rows * 3 + 5).to_parquet(shifted)
    mostly_missing = tmp_path / "mostly_missing.csv"
    rows.mask(np.random.default_rng(0).random(rows.shape) < 0.7).to_csv(mostly_missing, index=False)
    return {"shifted": shifted, "mostly_missing": mostly_missing}


@pytest.mark.parametrize(
    ("case", "fragment"),
    [("shifted", "share of drifted columns 1.00 > --drift-share 0.5"), ("mostly_missing", "missing 0% -> ")],
)
def test_drifted_rows_are_refused_with_exit_3(run_e2e_infer, default_version, drifted_inputs, tmp_path, case, fragment):
    output, report = tmp_path / "out.csv", tmp_path / "drift.html"
    before = predictions_of(default_version, 1)
    run = run_e2e_infer(
        "--model-name", default_version, "--data", str(drifted_inputs[case]), "--output", str(output),
        "--report", str(report),
    )
    assert run.returncode == 3, run.stderr
    assert report.read_text().startswith("<!DOCTYPE html>") and f"Drift report written to {report}" in run.stdout
    line = assert_one_error_line(run, "error: drift check refused", fragment, "--no-drift-check")
    assert "worst:" in line and "full report: artifact 'drift_report' version" in line
    assert "notification: pipeline 'inference_pipeline'" in run.stdout and "QualityGateError" in run.stdout
    assert not output.exists()
    assert [a.id for a in predictions_of(default_version, 1)] == [a.id for a in before]


def test_unsupported_contract_version_exits_2_naming_both(run_e2e_infer, tmp_path):
    from fixture_versions import promote_fixture_version

    future = CONTRACT_VERSION + 1
    promote_fixture_version("inf_future_contract", contract_version=future)
    output = tmp_path / "out.csv"
    run = run_e2e_infer("--model-name", "inf_future_contract", "--output", str(output))
    assert run.returncode == 2
    assert_one_error_line(run, f"data contract version {future}", f"supports versions 1, 2, {CONTRACT_VERSION}")
    assert not output.exists()
    assert predictions_of("inf_future_contract", 1) == []


def test_default_slice_is_scored_and_written(run_e2e_infer, default_version, tmp_path):
    output = tmp_path / "predictions.csv"
    run = run_e2e_infer("--model-name", default_version, "--output", str(output), "--no-cache")
    assert run.returncode == 0, run.stderr
    assert run.stderr_lines == []
    out = run.stdout
    assert f"model '{default_version}' version 1 at stage 'staging' (classification, data contract v1)" in out
    assert "Prediction drift" not in out and "Predicted values" not in out
    assert "step load_rows: " in out and "step predict: " in out and "\x1b[" not in out + run.stderr
    summary = out.split("step predict: ", 1)[1].splitlines()[1:]
    assert summary[0] == f"Model: '{default_version}' version 1 at stage 'staging'" and summary[1].startswith("Run: ")
    assert "Drift check passed" in out
    assert "Scored 28 rows" in out
    assert "Unseen categories: none" in out
    assert "Predictions: artifact 'predictions' version " in out
    assert f"Predictions written to {output}" in out
    written = pd.read_csv(output)
    assert list(written.columns) == [
        PREDICTION_ID_COLUMN, PREDICTED_CLASS_COLUMN, probability_column(0), probability_column(1),
        MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN,
    ]
    assert written[PREDICTION_ID_COLUMN].tolist() == list(range(28))
    assert set(written[MODEL_VERSION_COLUMN]) == {1} and set(written[MODEL_NAME_COLUMN]) == {default_version}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
