"""``e2e-train`` on a numeric target, end to end on the session's ZenML store, with real MLflow.

The runs of the model ``prices`` build on each other: a decision stump (version 1, the first, so
promoted), the searched regressors (version 2: lower RMSE on the same holdout rows, promoted), the
stump again (version 3: higher RMSE, not promoted), and a classification of the same table under the
same name, refused before the pipeline even with ``--promotion latest``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from e2e_common import contract
from e2e_common.schemas import DataContract
from e2e_training import names

pytestmark = pytest.mark.slow  # every test runs e2e-train and its pipeline

MODEL = "prices"
ROWS = 400
WITHOUT_TARGET = 5
STUMP = {"estimator": "sklearn.tree.DecisionTreeRegressor", "params": {"max_depth": 1}}


def printed(result, label: str) -> str:
    """The text after ``label:`` in the CLI output."""
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


def model_version(number: int):
    from zenml.client import Client

    return Client().get_model_version(MODEL, number)


@pytest.fixture(scope="module")
def prices_csv(tmp_path_factory) -> str:
    """Prices that follow a size and an area, with a few missing values and five rows without a price."""
    rng = np.random.default_rng(21)
    frame = pd.DataFrame({"size": rng.normal(80, 20, ROWS), "area": rng.choice(["north", "south", "east"], ROWS)})
    area = frame["area"].map({"north": 40.0, "south": 0.0, "east": 15.0})
    frame["price"] = (2.5 * frame["size"] + area + rng.normal(0, 8, ROWS)).round(2)
    frame.loc[rng.choice(ROWS, 6, replace=False), "size"] = np.nan
    frame.loc[rng.choice(ROWS, 4, replace=False), "area"] = np.nan
    frame.loc[rng.choice(ROWS, WITHOUT_TARGET, replace=False), "price"] = np.nan
    path = tmp_path_factory.mktemp("data") / "prices.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def stump_config(tmp_path_factory, tiny_config):
    """The tiny config whose regression --no-hp-tuning model is a decision stump: better than the
    mean, worse than the searched regressors."""
    path = tmp_path_factory.mktemp("config") / "regression_stump.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(tiny_config.read_text()), "regression_no_hp_tuning_model": STUMP}))
    return path


@pytest.fixture(scope="module")
def stump_run(run_train, prices_csv, stump_config):
    return run_train("--data", prices_csv, "--target", "price", "--model-name", MODEL, "--no-hp-tuning", config=stump_config)


@pytest.fixture(scope="module")
def searched_run(stump_run, run_train, prices_csv):
    assert stump_run.returncode == 0, stump_run.stdout + stump_run.stderr
    return run_train("--data", prices_csv, "--target", "price", "--model-name", MODEL)


@pytest.fixture(scope="module")
def stump_again(searched_run, run_train, prices_csv, stump_config):
    assert searched_run.returncode == 0, searched_run.stdout + searched_run.stderr
    return run_train("--data", prices_csv, "--target", "price", "--model-name", MODEL, "--no-hp-tuning", config=stump_config)


def test_the_searched_regressor_is_trained_gated_and_promoted_with_its_task_metrics_and_predictions(
    searched_run, staged_version
):
    assert searched_run.returncode == 0, searched_run.stdout + searched_run.stderr
    assert staged_version(MODEL) == 2
    assert printed(searched_run, "Model version") == f"{MODEL} version 2 at stage 'staging'"
    assert printed(searched_run, "Metric").startswith("rmse (lower is better)")
    assert printed(searched_run, "Quality gates").startswith("passed: holdout rmse")
    assert "beats the mean baseline's" in printed(searched_run, "Quality gates")
    assert printed(searched_run, "Metrics").startswith("train rmse ")
    assert f"warning: {WITHOUT_TARGET} of {ROWS} rows have no value in the target column 'price'" in searched_run.stdout

    version = model_version(2)
    data_contract = DataContract.model_validate(version.get_artifact(contract.DATA_CONTRACT).load())
    assert data_contract.is_regression and data_contract.classes == [] and data_contract.task_reason
    assert data_contract.contract_version == contract.CONTRACT_VERSION

    metadata = version.run_metadata
    assert metadata[names.METADATA_TASK] == "regression"
    assert metadata[names.METADATA_TASK_REASON] == data_contract.task_reason
    recorded = metadata[names.METADATA_METRICS]
    assert recorded["metric"] == "rmse" and recorded["quality_gates"]["passed"] is True
    for data_set in ("train", "holdout", "baseline"):
        assert {"rmse", "mae", "r2", "mape"} <= set(recorded[data_set]), data_set
    assert recorded["baseline"]["strategy"] == "mean"
    assert recorded["holdout"]["rmse"] < 0.5 * recorded["baseline"]["rmse"] and recorded["holdout"]["r2"] > 0.7
    selection = metadata[names.METADATA_SELECTION]
    families = {"hist_gradient_boosting", "random_forest", "ridge"}
    assert families <= set(selection["candidates"]) <= families | {selection["selected"]}

    rows = metadata[names.METADATA_ROWS]
    assert rows["read"] == ROWS and rows["without_target"] == WITHOUT_TARGET and rows["with_missing_values"] > 0
    assert rows["train"] + rows["holdout"] + rows["with_missing_values"] == ROWS - WITHOUT_TARGET
    assert rows["holdout"] == recorded["holdout"]["rows"] == metadata[names.METADATA_SPLIT]["holdout_rows"]

    predictions = version.get_artifact(contract.HOLDOUT_PREDICTIONS).load()
    assert list(predictions.columns) == [contract.HOLDOUT_PREDICTION_COLUMN] and len(predictions) == rows["holdout"]
    assert predictions[contract.HOLDOUT_PREDICTION_COLUMN].dtype == "float64"
    assert predictions[contract.HOLDOUT_PREDICTION_COLUMN].nunique() > 10


def test_the_summary_page_says_which_task_and_why_and_the_rows_without_a_target(searched_run):
    from zenml.artifacts.utils import load_artifact_visualization
    from zenml.client import Client

    run_name = printed(searched_run, "Run").split()[0]
    step = Client().get_pipeline_run(run_name).steps["summarize_training"]
    page = load_artifact_visualization(step.outputs[names.TRAINING_SUMMARY][0], index=0).value
    assert "Task: regression: the target holds numbers with fractions" in page
    assert f"Rows: {ROWS} read, {WITHOUT_TARGET} without a target left out, " in page
    assert "| baseline (mean) | baseline (mean) rmse " in page and "beats the mean baseline's" in page


def test_the_registered_whole_model_scores_raw_rows_as_numbers_and_mlflow_has_the_regression_metrics(
    searched_run, prices_csv
):
    import mlflow
    from zenml.client import Client

    assert searched_run.returncode == 0, searched_run.stdout + searched_run.stderr
    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    aliased = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "staging")
    assert str(aliased.version) == str(model_version(2).run_metadata[names.METADATA_MLFLOW_REGISTRY_VERSION])
    tracked = mlflow.get_run(aliased.run_id).data.metrics
    assert {"holdout_rmse", "holdout_mae", "holdout_r2", "holdout_mape", "baseline_rmse", "train_rmse"} <= set(tracked)
    assert tracked["holdout_rmse"] < tracked["baseline_rmse"]

    rows = pd.read_csv(prices_csv).dropna().head(20)
    whole = mlflow.pyfunc.load_model(f"models:/{MODEL}@staging")
    predicted = np.asarray(whole.predict(rows[["size", "area"]]), dtype="float64")
    assert predicted.shape == (20,) and np.abs(predicted - rows["price"].to_numpy()).mean() < 20
    assert whole.metadata.metadata["task"] == "regression"


def test_a_better_regressor_replaces_the_stump_and_the_stump_does_not_come_back(
    stump_run, searched_run, stump_again, staged_version
):
    assert printed(stump_run, "Promotion").startswith("promoted to staging: first version")
    assert model_version(1).run_metadata[names.METADATA_SELECTION]["selected"] == "configured_model"

    replaced = printed(searched_run, "Promotion")
    assert replaced.startswith("promoted to staging: holdout rmse") and "is better than" in replaced
    assert "of version 1" in replaced
    promotion = model_version(2).run_metadata[names.METADATA_PROMOTION]
    assert promotion["new_score"] < promotion["current_score"] and promotion["metric"] == "rmse"

    assert stump_again.returncode == 0, stump_again.stdout + stump_again.stderr
    assert staged_version(MODEL) == 2
    kept = printed(stump_again, "Promotion")
    assert kept.startswith("not promoted to staging: holdout rmse") and "is worse than" in kept and "of version 2" in kept
    refused = model_version(3).run_metadata[names.METADATA_PROMOTION]
    assert refused["promoted"] is False and refused["new_score"] > refused["current_score"]
    assert refused["compared_rows"] == model_version(2).run_metadata[names.METADATA_SPLIT]["holdout_rows"]
    # split_data was served from the cache: its row counts still reach the new version
    assert "step split_data: (cached)" in stump_again.stdout
    assert model_version(3).run_metadata[names.METADATA_ROWS] == model_version(2).run_metadata[names.METADATA_ROWS]


def test_a_classification_of_the_same_name_is_refused_naming_both_tasks_even_with_latest(
    stump_again, run_train, prices_csv, staged_version
):
    assert stump_again.returncode == 0, stump_again.stdout + stump_again.stderr
    result = run_train("--data", prices_csv, "--target", "area", "--model-name", MODEL, "--promotion", "latest")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: model '{MODEL}' version 2 at stage 'staging' is a regression")
    assert "(target 'price')" in lines[0] and "this data is a classification (target 'area', classes east, north, south)" in lines[0]
    assert "a classifier never replaces a regressor" in lines[0] and "--model-name" in lines[0]
    assert "Training model" not in result.stdout
    assert staged_version(MODEL) == 2
