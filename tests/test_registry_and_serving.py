"""The model as MLflow users and HTTP clients meet it: the registry's whole model, and e2e-serve
following stage moves made with e2e-models.

For the default data and a table with categoricals and missing values, the registry model at the
stage's alias gives the classes ``e2e-infer`` gives, row by row.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from e2e_common.data import default_inference_data
from e2e_inference.names import PREDICTED_CLASS_COLUMN
from e2e_testing.http import get_json, post_rows, serving, wait_for

pytestmark = pytest.mark.slow  # the CLIs and a server as subprocesses

BIN = Path(sys.executable).parent
DEFAULT_MODEL = "registry_default"
MIXED_MODEL = "registry_mixed"


def mixed_frame(rows: int, seed: int) -> pd.DataFrame:
    """Numbers, categories and flags with missing values in each kind of column, and a 3-class label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "weight": rng.normal(50, 5, rows),
            "color": rng.choice(["red", "green", "blue"], rows).astype(object),
            "fragile": rng.choice([True, False], rows).astype(object),
        }
    )
    score = frame["size"] + (frame["color"] == "red") * 3
    frame["label"] = np.where(score > 12, "high", np.where(score > 9, "mid", "low"))
    frame.loc[frame.index % 7 == 0, "size"] = np.nan
    frame.loc[frame.index % 11 == 0, "color"] = None
    frame.loc[frame.index % 13 == 0, "fragile"] = None
    return frame


def registry_model(model_name: str, alias: str):
    import mlflow
    from zenml.client import Client

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    return mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")


@pytest.fixture(scope="module")
def trained_default(cli):
    trained = cli("e2e-train", "--model-name", DEFAULT_MODEL)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    return DEFAULT_MODEL


def test_the_registry_model_scores_raw_rows_as_e2e_infer_does(cli, trained_default, tmp_path):
    output = tmp_path / "predictions.csv"
    inferred = cli("e2e-infer", "--model-name", trained_default, "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    expected = pd.read_csv(output)[PREDICTED_CLASS_COLUMN]
    model = registry_model(trained_default, "staging")
    rows = default_inference_data()
    assert list(model.predict(rows)) == list(expected)
    signature = model.metadata.signature.inputs.to_dict()
    assert len(signature) == 30 and {column["name"] for column in signature} <= set(rows.columns)
    assert {column["type"] for column in signature} == {"double"}


def test_the_registry_model_of_categoricals_and_missing_values(cli, tmp_path):
    import mlflow

    data = tmp_path / "mixed.csv"
    mixed_frame(400, 0).to_csv(data, index=False)
    trained = cli("e2e-train", "--model-name", MIXED_MODEL, "--data", str(data), "--target", "label", "--no-drop-na")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    batch = mixed_frame(80, 1).drop(columns="label")
    batch.loc[3, "color"] = "purple"  # a category the model never saw
    batch_file = tmp_path / "batch.csv"
    batch.to_csv(batch_file, index=False)
    output = tmp_path / "predictions.csv"
    inferred = cli(
        "e2e-infer", "--model-name", MIXED_MODEL, "--data", str(batch_file), "--output", str(output), "--no-drift-check"
    )
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    expected = pd.read_csv(output)[PREDICTED_CLASS_COLUMN]

    model = registry_model(MIXED_MODEL, "staging")
    assert list(model.predict(pd.read_csv(batch_file))) == list(expected)
    types = {column["name"]: column["type"] for column in model.metadata.signature.inputs.to_dict()}
    assert types == {"size": "double", "weight": "double", "color": "string", "fragile": "boolean"}
    whole = mlflow.sklearn.load_model(f"models:/{MIXED_MODEL}@staging")
    probabilities = whole.predict_proba(pd.read_csv(batch_file))
    assert probabilities.shape == (80, 3) and np.allclose(probabilities.sum(axis=1), 1)
    with pytest.raises(Exception, match="color"):
        model.predict(pd.read_csv(batch_file).drop(columns="color"))


def models_cli(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "e2e-models"), *args], cwd=workdir, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def server(trained_default, workdir):
    """e2e-serve for the production stage of the default model (none there yet), stopped by process id."""
    command = [str(BIN / "e2e-serve"), "--model-name", trained_default, "--stage", "production", "--port", "0",
               "--poll-interval", "1"]
    with serving(command, workdir) as url:
        yield url


def served_version(url: str) -> str | None:
    return get_json(f"{url}/health")[1].get("version")


def test_e2e_serve_follows_promotions_and_rollbacks_made_with_e2e_models(server, cli, workdir, trained_default):
    status, answer = post_rows(f"{server}/invocations", default_inference_data().head(2))
    assert status == 503 and "production" in answer["message"]

    promoted = models_cli(workdir, "promote", "1", "--to", "production", "--model-name", trained_default)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    wait_for(lambda: served_version(server) == "1", 30, "version 1 served after e2e-models promote")
    rows = default_inference_data()
    status, answer = post_rows(f"{server}/invocations", rows)
    assert status == 200
    champion = registry_model(trained_default, "champion")
    assert [record[PREDICTED_CLASS_COLUMN] for record in answer["predictions"]] == list(champion.predict(rows))

    retrained = cli("e2e-train", "--model-name", trained_default, "--promotion", "latest")
    assert retrained.returncode == 0, retrained.stdout + retrained.stderr
    promoted = models_cli(workdir, "promote", "2", "--to", "production", "--model-name", trained_default)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    wait_for(lambda: served_version(server) == "2", 30, "version 2 served after e2e-models promote")

    rolled_back = models_cli(workdir, "rollback", "--stage", "production", "--model-name", trained_default)
    assert rolled_back.returncode == 0, rolled_back.stdout + rolled_back.stderr
    wait_for(lambda: served_version(server) == "1", 30, "version 1 served again after e2e-models rollback")
    health = get_json(f"{server}/health")[1]
    assert health["behind"] is False and health["stage"] == "production" and health["model_name"] == trained_default
