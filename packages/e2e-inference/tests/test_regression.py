"""A regression version: numbers in the predictions, the predictions' drift in the report (never in the
gate), numbers from ``e2e-serve``. Fast tests on tiny in-memory versions first, then ``e2e-infer`` on
promoted fixture versions (slow)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fixture_versions import (
    REGRESSION_TARGET,
    fit_tiny_regression,
    promote_regression_version,
    regression_frame,
)
from inference_helpers import predictions_of

from e2e_common.contract import DRIFT_REFERENCE, HOLDOUT_PREDICTION_COLUMN, Task
from e2e_common.errors import DataError
from e2e_common.schemas import DataContract
from e2e_inference.drift import (
    PREDICTION_SECTION,
    ColumnDrift,
    DriftDecision,
    PredictionDrift,
    PredictionReference,
    check_against_version,
)
from e2e_inference.names import (
    METADATA_DRIFT,
    METADATA_INFERENCE,
    METADATA_PREDICTION_DRIFT,
    METADATA_PREDICTION_SUMMARY,
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTION_COLUMN,
    PREDICTION_ID_COLUMN,
    PREDICTIONS,
)
from e2e_inference.predict import score_chunk
from e2e_inference.report import PREDICTIONS_HEADING, summary_markdown
from e2e_inference.settings import DriftOptions
from e2e_inference.summary import PredictionSummary

REGRESSION_COLUMNS = [PREDICTION_ID_COLUMN, PREDICTION_COLUMN, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN]


@pytest.fixture(scope="module")
def tiny():
    """A fitted regression version in memory: contract, preprocessing, model, reference, holdout predictions."""
    stored, preprocess, model, _, _, reference, holdout = fit_tiny_regression()
    return DataContract.model_validate(stored), preprocess, model, reference, holdout


def new_rows(rows: int = 60, seed: int = 1) -> pd.DataFrame:
    return regression_frame(rows, seed=seed).drop(columns=REGRESSION_TARGET)


# --- fast: scoring ----------------------------------------------------------------------------------------


def test_a_regression_scores_one_float_per_row_without_probabilities(tiny):
    contract, preprocess, model, *_ = tiny
    rows = new_rows()
    predictions = score_chunk(rows, preprocess, model, model_name="m", model_version="4", task=contract.task)
    assert list(predictions.columns) == REGRESSION_COLUMNS
    assert predictions[PREDICTION_COLUMN].dtype == np.float64
    np.testing.assert_array_equal(predictions[PREDICTION_COLUMN], model.predict(preprocess.transform(rows)))
    assert predictions[PREDICTION_ID_COLUMN].tolist() == list(range(len(rows)))
    assert set(predictions[MODEL_VERSION_COLUMN]) == {"4"} and set(predictions[MODEL_NAME_COLUMN]) == {"m"}
    chunks = [
        score_chunk(rows.iloc[start : start + 7], preprocess, model, model_name="m", model_version="4",
                    first_row=start, task=Task.REGRESSION)
        for start in range(0, len(rows), 7)
    ]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), predictions)
    keyed = score_chunk(rows.assign(key=[f"k{i}" for i in range(len(rows))]), preprocess, model, model_name="m",
                        model_version="4", id_column="key", task="regression")
    assert list(keyed.columns) == ["key", *REGRESSION_COLUMNS[1:]] and keyed["key"].iloc[-1] == "k59"


def test_the_task_comes_from_the_contract_not_the_model(tiny):
    """A regressor scored as a classification (no task given) keeps the classification's columns: the
    caller passes the contract's task, nothing reads it off the model."""
    _, preprocess, model, *_ = tiny
    predictions = score_chunk(new_rows(5), preprocess, model, model_name="m", model_version="1")
    assert PREDICTION_COLUMN not in predictions and "predicted_class" in predictions


def test_a_non_finite_prediction_is_an_error_naming_rows_not_values(tiny):
    from sklearn.linear_model import Ridge

    contract, preprocess, *_ = tiny
    train = regression_frame()
    ridge = Ridge().fit(preprocess.transform(train), train[REGRESSION_TARGET])
    rows = new_rows(8)
    assert score_chunk(rows, preprocess, ridge, model_name="m", model_version="1", task=contract.task).shape == (8, 4)
    ridge.coef_ = ridge.coef_.copy()
    ridge.coef_[list(ridge.feature_names_in_).index("size")] = np.inf  # a size of 0 gives NaN, others infinity
    with pytest.raises(DataError, match=r"predicted 8 value\(s\) that are not finite numbers .* row\(s\) numbered "
                                        r"10, 11, 12, 13, 14, \+3 more"):
        score_chunk(rows, preprocess, ridge, model_name="m", model_version="1", first_row=10, task=contract.task)


def test_an_id_column_named_prediction_is_refused():
    from e2e_inference.columns import check_id_column, default_id_column

    with pytest.raises(DataError, match="id column 'prediction' has the name of a column of the predictions"):
        check_id_column(PREDICTION_COLUMN, ["x", PREDICTION_COLUMN], "rows.csv")
    assert default_id_column({PREDICTION_COLUMN: "identifier"}, [PREDICTION_COLUMN]) is None


def test_prediction_summaries_of_parts_add_up():
    values = np.array([3.0, -1.0, 10.0, 4.0, 0.5])
    whole = PredictionSummary.of(values)
    parts = PredictionSummary.of(values[:2]).combine(PredictionSummary()).combine(PredictionSummary.of(values[2:]))
    assert parts.rows == whole.rows == 5 and (parts.minimum, parts.maximum) == (-1.0, 10.0)
    assert parts.mean == pytest.approx(whole.mean) == pytest.approx(3.3)
    assert PredictionSummary.from_metadata(whole.metadata()) == whole
    assert whole.describe() == "min -1, mean 3.3, max 10 (5 rows)"


# --- fast: the drift report's prediction part (real Evidently) ------------------------------------------


def check(tiny, rows, holdout=None):
    contract, preprocess, model, reference, stored_holdout = tiny
    predictions = PredictionReference(preprocess, model, stored_holdout if holdout is None else holdout)
    return check_against_version(rows, contract, preprocess, reference, DRIFT_REFERENCE, DriftOptions(),
                                 predictions=predictions)


def test_the_report_adds_the_predictions_against_the_holdout(tiny):
    result = check(tiny, new_rows(80, seed=1))
    drift = result.decision.prediction_drift
    assert (drift.method, drift.threshold, drift.reference_rows, drift.current_rows) == ("K-S p_value", 0.05, 200, 80)
    assert not drift.drifted and drift.score > 0.05 and not result.decision.refused
    assert result.decision.metadata()[METADATA_PREDICTION_DRIFT] == {
        "method": "K-S p_value", "score": drift.score, "threshold": 0.05, "drifted": False,
        "reference_rows": 200, "current_rows": 80,
    }
    assert DriftDecision.from_dict(result.decision.to_dict()) == result.decision
    assert PREDICTION_COLUMN not in [c.column for c in result.decision.columns]  # not a feature of the share
    summary = summary_markdown(result.decision)
    assert summary.index("| size |") < summary.index(PREDICTIONS_HEADING)
    assert "| prediction | K-S p_value |" in summary
    assert result.html.startswith("<!DOCTYPE html>") and PREDICTION_SECTION in result.html


def test_predictions_that_drift_are_reported_but_never_refuse(tiny):
    """Every feature within its training distribution, the predictions far from the holdout's: the
    report says the predictions drifted, the gate passes (the features decide)."""
    contract, preprocess, model, reference, holdout = tiny
    moved = holdout.assign(**{HOLDOUT_PREDICTION_COLUMN: holdout[HOLDOUT_PREDICTION_COLUMN] + 30})
    result = check(tiny, new_rows(80, seed=1), holdout=moved)
    assert result.decision.prediction_drift.drifted and result.decision.prediction_drift.score < 1e-6
    assert not result.decision.refused and result.decision.reasons == []
    assert "| prediction | K-S p_value |" in summary_markdown(result.decision) and "| **yes** |" in summary_markdown(
        result.decision
    )


class _Overflowing:
    """A regressor whose prediction is infinite for rows far outside its training values."""

    def __init__(self, model):
        self.model = model

    def predict(self, features):
        predicted = self.model.predict(features)
        return np.where(features["size"].to_numpy() > 1.5, np.inf, predicted)


def test_a_failing_prediction_part_never_replaces_the_gate_s_decision(tiny):
    """Drifted rows whose predictions are not finite: the gate still refuses on the features (exit 3),
    and the prediction part says it was not compared instead of failing the check."""
    contract, preprocess, model, reference, holdout = tiny
    rows = new_rows(80, seed=5)
    rows["size"] += 8
    result = check((contract, preprocess, _Overflowing(model), reference, holdout), rows)
    assert result.decision.refused and "size" in " ".join(result.decision.reasons)
    assert "not finite numbers" in result.decision.prediction_drift.skipped


def test_predictions_too_close_for_evidently_are_noted_not_a_crash(tiny):
    """Predictions one float step apart make Evidently's histogram fail ("Too many bins"): the part
    says so, and the features' decision stands."""
    contract, preprocess, _, reference, _ = tiny
    value = 123456.789

    class Constantish:
        def predict(self, features):
            predicted = np.full(len(features), value)
            predicted[0] = np.nextafter(value, np.inf)
            return predicted

    holdout = np.full(300, value)
    holdout[-1] = np.nextafter(value, np.inf)
    predictions = PredictionReference(preprocess, Constantish(), pd.DataFrame({HOLDOUT_PREDICTION_COLUMN: holdout}))
    result = check_against_version(new_rows(80, seed=1), contract, preprocess, reference, DRIFT_REFERENCE,
                                   DriftOptions(), predictions=predictions)
    assert not result.decision.refused
    assert result.decision.prediction_drift.skipped.startswith("Evidently could not compare them (ValueError")


def test_holdout_predictions_without_numbers_are_noted_not_compared(tiny):
    result = check(tiny, new_rows(40), holdout=pd.DataFrame({"other": [1.0, 2.0]}))
    assert result.decision.prediction_drift.skipped.startswith("the version's holdout_predictions artifact has no")
    assert PREDICTION_SECTION not in result.html


def test_a_regression_without_holdout_predictions_is_noted_and_a_classification_has_no_prediction_part(tiny):
    contract, preprocess, model, reference, _ = tiny
    rows = new_rows(40)
    result = check_against_version(rows, contract, preprocess, reference, DRIFT_REFERENCE, DriftOptions())
    assert result.decision.prediction_drift == PredictionDrift.not_compared(
        "the version has no holdout_predictions artifact (trained before e2e-train recorded them)"
    )
    assert result.decision.metadata()[METADATA_PREDICTION_DRIFT] == {"skipped": result.decision.prediction_drift.skipped}
    assert "Not compared: the version has no holdout_predictions artifact" in summary_markdown(result.decision)
    classification = DriftDecision(0.0, 0.5, False, 0.1, [ColumnDrift("x", False, "K-S p_value", 0.5, 0.05, 0, 0, False)],
                                   10, 10)
    assert METADATA_PREDICTION_DRIFT not in classification.metadata()
    assert PREDICTIONS_HEADING not in summary_markdown(classification)
    assert DriftDecision.from_dict({k: v for k, v in classification.to_dict().items() if k != "prediction_drift"}) == (
        classification
    )  # a decision stored before regressions existed


# --- fast: serving -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tiny):
    from e2e_inference.serve import ServedModel

    contract, preprocess, model, *_ = tiny
    return ServedModel("tiny_price", "production", "3", "id-3", contract, preprocess, model)


def test_serving_a_regression_answers_numbers(served):
    rows = new_rows(4)
    body = json.dumps({"dataframe_records": rows.to_dict(orient="records")}).encode()
    answer = served.answer(body, "application/json")
    records = answer["predictions"]
    assert [list(record) for record in records] == [REGRESSION_COLUMNS] * 4
    expected = served.model.predict(served.preprocess_pipeline.transform(rows))
    assert [record[PREDICTION_COLUMN] for record in records] == pytest.approx(expected.tolist(), rel=1e-12)
    assert all(isinstance(record[PREDICTION_COLUMN], float) for record in records)
    json.dumps(answer, allow_nan=False)


def test_serving_a_regression_refuses_a_missing_column_and_reports_its_task(served):
    from fastapi.testclient import TestClient

    from e2e_inference.serve import HEALTH_KEYS, ModelHolder, StageVersion, create_app

    holder = ModelHolder(
        "tiny_price", "production", find=lambda name, stage: StageVersion("id-3", "3"), load=lambda name, stage: served,
        say=lambda line: None,
    )
    holder.check()
    client = TestClient(create_app(holder))
    health = client.get("/health").json()
    assert tuple(health) == HEALTH_KEYS and health["task"] == "regression"
    missing = client.post(
        "/invocations", json={"dataframe_records": new_rows(3).drop(columns=["weight"]).to_dict(orient="records")}
    )
    assert (missing.status_code, missing.json()) == (400, {"error_code": "BAD_REQUEST", "message": "missing feature column: weight"})
    text = new_rows(3).astype(object)
    text.loc[1, "size"] = "SECRET"
    typed = client.post("/invocations", content=text.to_csv(index=False).encode(), headers={"content-type": "text/csv"})
    assert typed.status_code == 400 and "size (1 value(s) not a number)" in typed.json()["message"]
    assert "SECRET" not in typed.text


def test_serving_a_regressor_that_predicts_nan_is_400_naming_rows(served):
    from dataclasses import replace

    from sklearn.linear_model import Ridge

    from e2e_inference.serve import RequestError

    train = regression_frame()
    ridge = Ridge().fit(served.preprocess_pipeline.transform(train), train[REGRESSION_TARGET])
    ridge.intercept_ = np.nan
    broken = replace(served, model=ridge)
    with pytest.raises(RequestError) as refused:
        broken.answer(new_rows(2).to_csv(index=False).encode(), "text/csv")
    assert refused.value.status == 400 and "row(s) numbered 0, 1" in refused.value.message


# --- slow: e2e-infer on promoted regression versions -------------------------------------------------------

NO_HOLDOUT_MODEL = "inf_regression_no_holdout"


def drift_report_of(version: str):
    from zenml.client import Client

    from e2e_inference.names import DRIFT_REPORT

    return Client().get_artifact_version(DRIFT_REPORT, version)


@pytest.mark.slow
def test_e2e_infer_scores_a_regression_version_with_its_prediction_drift(regression_version, run_e2e_infer, tmp_path):
    from zenml.client import Client

    rows = new_rows(50, seed=4)
    rows.insert(0, "item", [f"i-{n}" for n in range(len(rows))])
    data, output, report = tmp_path / "rows.csv", tmp_path / "scored.parquet", tmp_path / "drift.html"
    rows.to_csv(data, index=False)
    run = run_e2e_infer("--model-name", regression_version, "--data", str(data), "--id-column", "item",
                        "--output", str(output), "--report", str(report))
    assert run.returncode == 0, run.stderr
    assert run.stderr_lines == []
    assert f"Scoring with model '{regression_version}' version 1 at stage 'staging' (regression, data contract v3)" in (
        run.stdout
    )
    assert "Drift check passed" in run.stdout
    assert "Prediction drift: predictions of 50 rows vs 200 on the holdout: no drift (K-S p_value " in run.stdout
    assert "Predicted values (regression): min " in run.stdout and "(50 rows)" in run.stdout

    written = pd.read_parquet(output)
    assert list(written.columns) == ["item", PREDICTION_COLUMN, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN]
    assert written[PREDICTION_COLUMN].dtype == np.float64 and np.isfinite(written[PREDICTION_COLUMN]).all()
    assert written["item"].tolist() == rows["item"].tolist()
    assert set(written[MODEL_VERSION_COLUMN]) == {"1"} and set(written[MODEL_NAME_COLUMN]) == {regression_version}
    _, preprocess, model, *_ = fit_tiny_regression()  # the same fit, deterministic
    np.testing.assert_allclose(written[PREDICTION_COLUMN], model.predict(preprocess.transform(rows)), rtol=1e-12)

    run_record = Client().get_pipeline_run(run.stdout.split("Run: ", 1)[1].split()[0])
    report_artifact = run_record.steps["drift_report"].outputs["drift_report"][0]
    drift = report_artifact.run_metadata[METADATA_DRIFT]
    assert drift["refused"] is False and PREDICTION_COLUMN not in drift["columns"]
    assert drift[METADATA_PREDICTION_DRIFT]["method"] == "K-S p_value"
    assert drift[METADATA_PREDICTION_DRIFT]["drifted"] is False
    assert (drift[METADATA_PREDICTION_DRIFT]["reference_rows"], drift[METADATA_PREDICTION_DRIFT]["current_rows"]) == (200, 50)
    stored = report_artifact.load()
    assert PREDICTIONS_HEADING in stored.summary and PREDICTION_SECTION in stored.html
    assert PREDICTION_SECTION in report.read_text()
    predictions = run_record.steps["predict"].outputs[PREDICTIONS][0]
    summary = predictions.run_metadata[METADATA_INFERENCE][METADATA_PREDICTION_SUMMARY]
    assert summary["rows"] == 50 and summary["min"] == pytest.approx(written[PREDICTION_COLUMN].min())
    pd.testing.assert_frame_equal(predictions.load(), written)


@pytest.mark.slow
def test_a_drifted_batch_is_refused_by_the_feature_gate_and_leaves_no_output(regression_version, run_e2e_infer, tmp_path):
    rows = new_rows(60, seed=5)
    rows["size"] += 8  # outside the training range, and a shift of the strongest feature
    data, output = tmp_path / "shifted.csv", tmp_path / "scored.csv"
    rows.to_csv(data, index=False)
    before = [a.id for a in predictions_of(regression_version, 1)]
    run = run_e2e_infer("--model-name", regression_version, "--data", str(data), "--output", str(output))
    assert run.returncode == 3, run.stderr
    errors = [line for line in run.stderr_lines if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: drift check refused: ") and "size" in errors[0]
    assert "prediction" not in errors[0].split("full report:")[0]  # the predictions never make the decision
    assert not output.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert [a.id for a in predictions_of(regression_version, 1)] == before


@pytest.mark.slow
def test_a_large_regression_input_scored_in_partitions_equals_one_pass(regression_version, tmp_path):
    from zenml.client import Client

    from e2e_inference.cli import run_inference
    from e2e_inference.settings import InferenceSettings

    data = tmp_path / "many.parquet"
    new_rows(500, seed=6).to_parquet(data)

    def infer(*args: str):
        said: list[str] = []
        return run_inference(InferenceSettings.from_cli(list(args)), say=said.append), "\n".join(said)

    whole, _ = infer("--model-name", regression_version, "--data", str(data), "--output", str(tmp_path / "a.csv"))
    parts, said = infer(
        "--model-name", regression_version, "--data", str(data), "--output", str(tmp_path / "b.csv"),
        "--reference-above-bytes", "0", "--chunk-size", "70", "--partitions", "3", "--drift-sample-rows", "300",
    )
    assert parts.by_reference and parts.rows_scored == whole.rows_scored == 500
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "b.csv"), pd.read_csv(tmp_path / "a.csv"))
    assert list(pd.read_csv(tmp_path / "b.csv").columns) == REGRESSION_COLUMNS
    assert parts.prediction_summary == whole.prediction_summary and "(500 rows)" in parts.prediction_summary
    assert "Prediction drift: predictions of 300 rows vs 200 on the holdout" in said  # the drift sample's
    stored = Client().get_artifact_version(PREDICTIONS, parts.predictions_version)
    assert stored.run_metadata[METADATA_INFERENCE][METADATA_PREDICTION_SUMMARY]["rows"] == 500


@pytest.mark.slow
def test_a_regression_version_without_holdout_predictions_scores_and_notes_the_skipped_part(run_e2e_infer, tmp_path):
    promote_regression_version(NO_HOLDOUT_MODEL, with_holdout_predictions=False)
    data, output = tmp_path / "rows.csv", tmp_path / "scored.csv"
    new_rows(40, seed=7).to_csv(data, index=False)
    run = run_e2e_infer("--model-name", NO_HOLDOUT_MODEL, "--data", str(data), "--output", str(output))
    assert run.returncode == 0, run.stderr
    assert "Prediction drift: not checked: the version has no holdout_predictions artifact" in run.stdout
    assert list(pd.read_csv(output).columns) == REGRESSION_COLUMNS
    version = run.stdout.split("Drift report: artifact 'drift_report' version ", 1)[1].split()[0]
    report = drift_report_of(version)
    assert report.run_metadata[METADATA_DRIFT][METADATA_PREDICTION_DRIFT] == {
        "skipped": "the version has no holdout_predictions artifact (trained before e2e-train recorded them)"
    }
    assert "Not compared: the version has no holdout_predictions artifact" in report.load().summary
