"""``e2e-train`` end to end on the session's ZenML store, with real MLflow.

The runs build on each other: the default model (version 1), a much weaker one on the same
columns (a decision stump) that is not promoted, the stump again with ``--promotion latest``, and a
run refused by an absolute floor (``--min-test-accuracy``, the old name of ``--min-test-score``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from e2e_common import contract
from e2e_common.data import default_inference_data
from e2e_common.schemas import DataContract, FeatureKind
from e2e_training import names

pytestmark = pytest.mark.slow  # every test runs e2e-train and its pipeline

STUMP = {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": 1}}


def model_version(number: int, model_name: str = contract.DEFAULT_MODEL_NAME):
    from zenml.client import Client

    return Client().get_model_version(model_name, number)


def step_statuses(run_name: str) -> dict[str, str]:
    from zenml.client import Client

    return {name: step.status.value for name, step in Client().get_pipeline_run(run_name).steps.items()}


def summary_of(run_name: str):
    """The first visualization of the run's training_summary artifact, as the dashboard shows it."""
    from zenml.artifacts.utils import load_artifact_visualization
    from zenml.client import Client

    step = Client().get_pipeline_run(run_name).steps["summarize_training"]
    return load_artifact_visualization(step.outputs[names.TRAINING_SUMMARY][0], index=0)


def printed(result, label: str) -> str:
    """The text after ``label:`` in the CLI output."""
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


@pytest.fixture(scope="module")
def stump_config(tmp_path_factory, tiny_config):
    """The tiny config whose --no-hp-tuning model is a decision stump: weaker than version 1, better
    than the majority class, on the same columns (so the versions are comparable)."""
    path = tmp_path_factory.mktemp("config") / "stump.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(tiny_config.read_text()), "no_hp_tuning_model": STUMP}))
    return path


@pytest.fixture(scope="module")
def weak_run(first_run, run_train, stump_config):
    return run_train("--no-hp-tuning", config=stump_config)


@pytest.fixture(scope="module")
def latest_run(weak_run, run_train, stump_config):
    return run_train("--no-hp-tuning", "--promotion", "latest", "--notify-on-success", config=stump_config)


def test_first_run_promotes_version_1_with_every_contract_artifact(first_run, staged_version):
    assert staged_version() == 1
    assert printed(first_run, "Model version") == f"{contract.DEFAULT_MODEL_NAME} version 1 at stage 'staging'"
    summary = first_run.stdout.split("Model version:", 1)
    assert summary[0].count("step ") >= 9 and summary[1].lstrip().startswith(contract.DEFAULT_MODEL_NAME)
    assert "step load_data: " in first_run.stdout and "\x1b[" not in first_run.stdout + first_run.stderr
    assert "promoted to staging: first version" in printed(first_run, "Promotion")
    assert printed(first_run, "Run").startswith(names.TRAINING_PIPELINE)
    assert printed(first_run, "ZenML dashboard") == "zenml login --local"
    assert printed(first_run, "MLflow UI").startswith("mlflow ui --backend-store-uri sqlite:///")
    assert first_run.stderr == ""
    summary = summary_of(printed(first_run, "Run").split()[0])
    assert summary.type == "markdown" and summary.value.startswith(f"# Training: model {contract.DEFAULT_MODEL_NAME} version 1")
    for expected in ("## Model families", "| random_forest |", "**yes**", "## Quality gates", "## Features"):
        assert expected in summary.value, expected

    version = model_version(1)
    for name in (
        contract.PREPROCESS_PIPELINE,
        contract.MODEL,
        contract.DATASET_TRN,
        contract.DATASET_TST,
        contract.DATA_CONTRACT,
        contract.DRIFT_REFERENCE,
    ):
        assert version.get_artifact(name) is not None, name
    assert version.get_model_artifact(contract.MODEL) is not None

    data_contract = DataContract.model_validate(version.get_artifact(contract.DATA_CONTRACT).load())
    assert data_contract.target == "target" and data_contract.classes == [0, 1]
    reference = version.get_artifact(contract.DRIFT_REFERENCE).load()
    assert list(reference.columns) == data_contract.feature_names and 0 < len(reference) <= 200

    rows = default_inference_data()
    features = version.get_artifact(contract.PREPROCESS_PIPELINE).load().transform(rows)
    predicted = version.get_model_artifact(contract.MODEL).load().predict(features)
    assert set(np.unique(predicted)) <= {0, 1} and len(predicted) == len(rows)

    metadata = version.run_metadata
    assert metadata[names.METADATA_METRICS]["holdout"]["accuracy"] > 0.85
    assert metadata[names.METADATA_METRICS]["metric"] == "accuracy"
    assert metadata[names.METADATA_METRICS]["quality_gates"]["passed"] is True
    assert printed(first_run, "Metric").startswith("accuracy (higher is better)")
    assert printed(first_run, "Quality gates").startswith("passed: holdout accuracy")
    assert {"accuracy", "f1", "roc_auc"} <= set(metadata[names.METADATA_METRICS]["train"])
    assert metadata[names.METADATA_SPLIT]["holdout_fraction"] == 0.2
    assert metadata[names.METADATA_PROMOTION]["promoted"] is True
    assert metadata[contract.METADATA_CONTRACT_VERSION] == contract.CLASSIFICATION_CONTRACT_VERSION
    selection = metadata[names.METADATA_SELECTION]
    families = {"random_forest", "decision_tree", "logistic_regression"}
    assert set(selection["candidates"]) - {selection["selected"]} <= families <= set(selection["candidates"])
    best_family = max(score for name, score in selection["candidates"].items() if name in families)
    assert selection.get("blend"), f"the two best families' blend was not scored: {selection}"
    assert selection["cv_score"] >= best_family - selection["blend"]["best_family_standard_error"]
    # the two best families' blend was scored; selected, it is a candidate of its own name
    assert set(selection["blend"]["members"]) <= families and len(selection["blend"]["members"]) == 2
    assert (selection["selected"] == "+".join(selection["blend"]["members"])) == selection["blend"]["selected"]
    assert metadata[names.METADATA_MLFLOW_REGISTRY_VERSION]


def test_first_run_is_registered_and_aliased_in_mlflow(first_run):
    import mlflow
    from zenml.client import Client

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    registry_version = model_version(1).run_metadata[names.METADATA_MLFLOW_REGISTRY_VERSION]
    aliased = mlflow.MlflowClient().get_model_version_by_alias(contract.DEFAULT_MODEL_NAME, "staging")
    assert str(aliased.version) == str(registry_version)
    metrics = mlflow.get_run(aliased.run_id).data.metrics
    assert {"holdout_accuracy", "train_accuracy", "holdout_f1"} <= set(metrics)


def test_a_much_weaker_model_is_not_promoted_and_the_output_says_why(weak_run, staged_version):
    assert weak_run.returncode == 0, weak_run.stdout + weak_run.stderr
    assert staged_version() == 1
    decision = printed(weak_run, "Promotion")
    assert decision.startswith("not promoted to staging: holdout accuracy")
    assert "is worse than" in decision and "of version 1, on the same" in decision
    assert printed(weak_run, "Quality gates").startswith("passed")
    assert "version 1 at staging" in weak_run.stdout
    promotion = model_version(2).run_metadata[names.METADATA_PROMOTION]
    assert promotion["promoted"] is False and promotion["new_score"] < promotion["current_score"]
    assert promotion["compared_rows"] == model_version(1).run_metadata[names.METADATA_SPLIT]["holdout_rows"]
    assert model_version(2).run_metadata[names.METADATA_SELECTION]["selected"] == "configured_model"


def test_promotion_latest_promotes_and_is_never_served_from_cache(latest_run, staged_version):
    assert latest_run.returncode == 0, latest_run.stdout + latest_run.stderr
    assert staged_version() == 3
    assert printed(latest_run, "Promotion").startswith("promoted to staging: --promotion latest")
    statuses = step_statuses(printed(latest_run, "Run").split()[0])
    assert statuses["load_data"] == "cached" and statuses["score_configured_model"] == "cached"
    assert "step load_data: (cached)" in latest_run.stdout and "step score_configured_model: (cached)" in latest_run.stdout
    assert "step train_model: (cached)" not in latest_run.stdout and "step train_model: " in latest_run.stdout
    for name in ("select_model", "train_model", "evaluate_model", "promote_model", "notify_success"):
        assert statuses[name] == "completed", name


def test_success_is_notified_with_the_decision_and_the_metrics(latest_run):
    notification = next(line for line in latest_run.stdout.splitlines() if line.startswith("notification: "))
    assert "version 3" in notification and "holdout accuracy" in notification
    assert "promoted to staging: --promotion latest" in notification


def test_an_absolute_floor_by_its_old_names_with_the_fail_flag_exits_3_and_changes_no_stage(
    latest_run, run_train, staged_version, stump_config
):
    before = staged_version()
    result = run_train(
        "--no-hp-tuning",
        "--min-test-accuracy",
        "0.99",
        "--fail-on-accuracy-quality-gates",
        "--no-cache",
        config=stump_config,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: holdout accuracy")
    assert "is below --min-test-score 0.99: not promoted" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert staged_version() == before
    assert "failed in step 'evaluate_model': QualityGateError" in result.stdout
    run_name = result.stdout.split(": run ", 1)[1].split()[0]
    assert "cached" not in step_statuses(run_name).values()
    refused = model_version(4).run_metadata[names.METADATA_PROMOTION]
    assert refused["promoted"] is False and refused["reason"].startswith("quality gate: holdout accuracy")


@pytest.fixture(scope="module")
def multiclass_csv(tmp_path_factory) -> str:
    rng = np.random.default_rng(7)
    rows = 240
    species = rng.choice(["setosa", "versicolor", "virginica"], size=rows)
    offset = pd.Series(species).map({"setosa": 0.0, "versicolor": 2.0, "virginica": 4.0}).to_numpy()
    frame = pd.DataFrame(
        {
            "length": offset + rng.normal(0, 0.5, rows),
            "width": rng.normal(0, 1, rows),
            "colour": np.where(species == "virginica", "purple", rng.choice(["white", "blue"], size=rows)),
            "wild": rng.choice([True, False], size=rows),
            "species": species,
        }
    )
    frame.loc[rng.choice(rows, 20, replace=False), "length"] = np.nan
    frame.loc[rng.choice(rows, 20, replace=False), "colour"] = np.nan
    path = tmp_path_factory.mktemp("data") / "flowers.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_a_csv_with_categories_missing_values_and_a_multiclass_text_target_trains_and_is_promoted(
    run_train, multiclass_csv, staged_version
):
    result = run_train("--data", multiclass_csv, "--target", "species", "--model-name", "flowers", "--no-drop-na")
    assert result.returncode == 0, result.stdout + result.stderr
    assert staged_version("flowers") == 1
    assert "promoted to staging: first version" in printed(result, "Promotion")
    version = model_version(1, "flowers")
    data_contract = DataContract.model_validate(version.get_artifact(contract.DATA_CONTRACT).load())
    assert data_contract.classes == ["setosa", "versicolor", "virginica"]
    assert data_contract.feature("colour").kind is FeatureKind.CATEGORICAL
    assert data_contract.feature("wild").kind is FeatureKind.BOOLEAN
    metrics = version.run_metadata[names.METADATA_METRICS]["holdout"]
    assert metrics["accuracy"] > 0.6 and "roc_auc" in metrics and "f1" in metrics
    assert version.run_metadata[names.METADATA_SPLIT]["train_rows"] + metrics["rows"] == 240



def test_a_time_budget_that_is_spent_at_once_keeps_the_first_candidates_and_says_so(run_train):
    result = run_train("--time-budget", "0.001", "--no-cache", "--model-name", "budget_model")
    assert result.returncode == 0, result.stderr
    assert "--time-budget 0.001 s stopped the search of" in printed(result, "Search")
    selection = model_version(1, "budget_model").run_metadata[names.METADATA_SELECTION]
    assert all(search["stopped_by_budget"] for search in selection["searches"].values())
    assert {search["candidates_scored"] for search in selection["searches"].values()} == {1}


def test_a_time_budget_of_zero_is_exit_2_before_the_pipeline(run_train):
    result = run_train("--time-budget", "0", "--model-name", "budget_model_refused")
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "time_budget" in result.stderr
    assert "Training model" not in result.stdout
