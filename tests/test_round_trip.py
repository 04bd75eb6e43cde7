"""Train, promote, infer: the two CLIs meet only at the model version at a stage."""

from __future__ import annotations

import pandas as pd
import pytest

from e2e_common.contract import DEFAULT_MODEL_NAME
from e2e_common.data import default_inference_data
from e2e_inference.names import MODEL_VERSION_COLUMN, PREDICTIONS, probability_column


def staging_number(model_name: str) -> int:
    from e2e_common.registry import version_at_stage

    return version_at_stage(model_name, "staging").number


def linked_predictions(model_name: str, number: int) -> int:
    from zenml.client import Client

    version = Client().get_model_version(model_name, number)
    links = Client().list_model_version_artifact_links(model_version_id=version.id, size=1000)
    return sum(1 for link in links.items if link.artifact_version.artifact.name == PREDICTIONS)


pytestmark = pytest.mark.slow  # every test runs the CLIs as subprocesses


@pytest.fixture(scope="module")
def first_training(cli):
    """``e2e-train`` on the default data, once: version 1 of the default model at staging."""
    trained = cli("e2e-train")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    return trained


def test_infer_before_training_exits_4_and_writes_nothing(cli, tmp_path):
    output = tmp_path / "predictions.csv"
    result = cli("e2e-infer", "--model-name", "never_trained", "--output", str(output))
    assert result.returncode == 4, result.stderr
    assert result.stderr.strip().startswith("error: no model named 'never_trained' in this ZenML store (models: ")
    assert not output.exists()


def test_train_then_infer_on_the_default_data(cli, first_training, tmp_path):
    assert "first version" in first_training.stdout
    assert staging_number(DEFAULT_MODEL_NAME) == 1

    output = tmp_path / "predictions.parquet"
    inferred = cli("e2e-infer", "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    predictions = pd.read_parquet(output)
    expected_rows = len(default_inference_data())
    assert len(predictions) == expected_rows
    assert {probability_column(0), probability_column(1), MODEL_VERSION_COLUMN} <= set(predictions.columns)
    assert set(predictions[MODEL_VERSION_COLUMN].astype(str)) == {"1"}
    assert predictions[[probability_column(0), probability_column(1)]].sum(axis=1).round(6).eq(1).all()
    assert linked_predictions(DEFAULT_MODEL_NAME, 1) == 1
    assert set(predictions["model_name"]) == {DEFAULT_MODEL_NAME} and "id" in predictions

    from zenml.client import Client

    names = {artifact.name for artifact in Client().list_artifacts(size=1000).items}
    assert PREDICTIONS in names and not [name for name in names if name.startswith("external_")], names


def test_infer_from_a_stage_no_version_is_at_says_how_to_promote_one(cli, first_training):
    result = cli("e2e-infer", "--stage", "production")
    assert result.returncode == 4, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"error: model '{DEFAULT_MODEL_NAME}' has no version at stage 'production'"), line
    assert f"zenml model version update {DEFAULT_MODEL_NAME} " in line and "--target-env production" in line
    assert "\n" not in line


def test_a_new_promotion_is_what_the_next_inference_uses(cli, first_training, tmp_path):
    assert staging_number(DEFAULT_MODEL_NAME) == 1, "version 1 of the first training is not at staging"
    retrained = cli("e2e-train", "--no-hp-tuning", "--promotion", "latest")
    assert retrained.returncode == 0, retrained.stdout + retrained.stderr
    assert staging_number(DEFAULT_MODEL_NAME) == 2

    output = tmp_path / "predictions.csv"
    inferred = cli("e2e-infer", "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    assert "version 2" in inferred.stdout
    assert set(pd.read_csv(output)[MODEL_VERSION_COLUMN].astype(str)) == {"2"}
    assert linked_predictions(DEFAULT_MODEL_NAME, 2) == 1
    assert linked_predictions(DEFAULT_MODEL_NAME, 1) == 1


def test_categorical_multiclass_csv_round_trip_with_model_name_from_the_environment(cli, tmp_path):
    frame = pd.DataFrame(
        {
            "size": [float(i % 17) for i in range(240)],
            "color": [["red", "green", "blue"][i % 3] for i in range(240)],
            "member": [i % 2 == 0 for i in range(240)],
            "species": [["setosa", "versicolor", "virginica"][(i % 17) // 6] for i in range(240)],
        }
    )
    frame.loc[::11, "size"] = None
    training_file = tmp_path / "flowers.csv"
    frame.to_csv(training_file, index=False)
    environment = {"E2E_MODEL_NAME": "flowers"}

    trained = cli("e2e-train", "--data", str(training_file), "--target", "species", env=environment)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert staging_number("flowers") == 1

    rows = frame.drop(columns="species").head(40).assign(row_id=range(100, 140))
    rows.loc[0, "color"] = "purple"
    rows_file = tmp_path / "rows.csv"
    rows.to_csv(rows_file, index=False)
    output = tmp_path / "scored.csv"
    inferred = cli(
        "e2e-infer", "--data", str(rows_file), "--id-column", "row_id", "--output", str(output),
        "--no-drift-check", env=environment,
    )
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    scored = pd.read_csv(output)
    assert scored["row_id"].tolist() == list(range(100, 140)) and scored.columns[0] == "row_id"
    assert {probability_column(c) for c in ("setosa", "versicolor", "virginica")} <= set(scored.columns)
    assert "purple" not in set(scored.iloc[:, 1])
