"""``e2e-train`` end to end: the majority-class baseline gate, --fail-on-quality-gates and its old name,
a tie that is not promoted (with --metric log_loss), and a model of other data under the same name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from e2e_common import contract
from e2e_training import names

pytestmark = pytest.mark.slow  # every test runs e2e-train

NOISE_MODEL = "noise_gate"
TIE_MODEL = "tie_log_loss"


def printed(result, label: str) -> str:
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


def versions_of(model_name: str) -> list:
    from zenml.client import Client

    try:
        return list(Client().list_model_versions(model_name, size=100).items)
    except KeyError:
        return []


def promotion_of(model_name: str, number: int) -> dict:
    from zenml.client import Client

    return Client().get_model_version(model_name, number).run_metadata[names.METADATA_PROMOTION]


@pytest.fixture(scope="module")
def noise_csv(tmp_path_factory) -> str:
    """A target independent of the features: 75 % of one class."""
    rng = np.random.default_rng(11)
    rows = 600
    frame = pd.DataFrame({name: rng.normal(size=rows) for name in ("a", "b", "c")})
    frame["plan"] = rng.choice(["basic", "plus"], size=rows)
    frame["churned"] = rng.choice(["no", "yes"], size=rows, p=[0.75, 0.25])
    path = tmp_path_factory.mktemp("data") / "noise.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def signal_csv(tmp_path_factory) -> str:
    rng = np.random.default_rng(12)
    rows = 300
    frame = pd.DataFrame({"x": rng.normal(size=rows), "z": rng.normal(size=rows)})
    frame["label"] = np.where(frame["x"] + rng.normal(scale=0.5, size=rows) > 0, "good", "bad")
    path = tmp_path_factory.mktemp("data") / "signal.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_a_model_no_better_than_the_majority_class_is_registered_but_not_promoted(run_train, noise_csv, staged_version):
    result = run_train("--data", noise_csv, "--target", "churned", "--model-name", NOISE_MODEL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert staged_version(NOISE_MODEL) is None and len(versions_of(NOISE_MODEL)) == 1
    assert printed(result, "Promotion").startswith("not promoted to staging: quality gate: holdout accuracy")
    assert "does not beat the majority-class baseline" in printed(result, "Quality gates")
    assert "pass --fail-on-quality-gates to exit 3" in result.stdout
    decision = promotion_of(NOISE_MODEL, 1)
    assert decision["promoted"] is False and decision["metric"] == "accuracy"
    assert decision["reason"].startswith("quality gate: holdout accuracy")


@pytest.mark.parametrize("flag", ["--fail-on-quality-gates", "--fail-on-accuracy-quality-gates"])
def test_fail_on_quality_gates_and_its_old_name_exit_3(flag, run_train, noise_csv, staged_version):
    before = len(versions_of(NOISE_MODEL))
    result = run_train("--data", noise_csv, "--target", "churned", "--model-name", NOISE_MODEL, flag)
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: holdout accuracy"), result.stderr
    assert "does not beat the majority-class baseline" in lines[0] and lines[0].endswith("not promoted")
    assert staged_version(NOISE_MODEL) is None
    assert len(versions_of(NOISE_MODEL)) == before + 1  # kept, with the refusal recorded
    assert promotion_of(NOISE_MODEL, before + 1)["reason"].startswith("quality gate:")


def test_a_retrain_that_ties_in_log_loss_is_not_promoted(run_train, signal_csv, staged_version):
    arguments = ("--data", signal_csv, "--target", "label", "--model-name", TIE_MODEL, "--metric", "log_loss")
    first = run_train(*arguments)
    assert first.returncode == 0, first.stdout + first.stderr
    assert staged_version(TIE_MODEL) == 1
    assert printed(first, "Metric").startswith("log_loss (lower is better)")
    assert printed(first, "Quality gates").startswith("passed: holdout log_loss")
    assert "log_loss" in printed(first, "Metrics")

    from zenml.client import Client

    metadata = Client().get_model_version(TIE_MODEL, 1).run_metadata
    selection = metadata[names.METADATA_SELECTION]
    assert selection["metric"] == "log_loss" and selection["cv_score"] > 0
    best_family = min(score for name, score in selection["candidates"].items() if "+" not in name)
    if selection["blend"].get("selected"):  # within the best family's standard error (docs/contract.md)
        assert selection["cv_score"] <= best_family + selection["blend"]["best_family_standard_error"]
    else:
        assert selection["cv_score"] == best_family
    recorded = metadata[names.METADATA_METRICS]
    assert recorded["metric"] == "log_loss" and recorded["holdout"]["log_loss"] < recorded["baseline"]["log_loss"]

    again = run_train(*arguments)
    assert again.returncode == 0, again.stdout + again.stderr
    assert staged_version(TIE_MODEL) == 1
    decision = printed(again, "Promotion")
    assert decision.startswith("not promoted to staging: holdout log_loss") and "ties with" in decision
    assert "of version 1" in decision
    assert promotion_of(TIE_MODEL, 2)["new_score"] == promotion_of(TIE_MODEL, 2)["current_score"]


def test_other_data_under_the_default_model_name_exits_2_before_the_pipeline(
    first_run, run_train, signal_csv, staged_version
):
    before = (staged_version(), len(versions_of(contract.DEFAULT_MODEL_NAME)))
    result = run_train("--data", signal_csv, "--target", "label")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: model '{contract.DEFAULT_MODEL_NAME}' version {before[0]} ")
    assert "target 'target'" in lines[0] and "mean radius" in lines[0]
    assert "target 'label'" in lines[0] and "x, z" in lines[0]
    assert "--model-name" in lines[0] and "--promotion latest" in lines[0]
    assert "Training model" not in result.stdout
    assert (staged_version(), len(versions_of(contract.DEFAULT_MODEL_NAME))) == before
