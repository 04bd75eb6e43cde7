"""``e2e-models`` as a user runs it, on versions trained by ``e2e-train``, with real ZenML and MLflow.

The model ``ops`` gets version 1 (staging), version 2 (``--promotion latest``, staging) and version 3
trained on other data; the tests then move stages by hand, roll back, kill a move half way, and
train twice at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from e2e_training import names

pytestmark = pytest.mark.slow  # e2e-train and e2e-models as subprocesses

MODEL = "ops"
E2E_MODELS = Path(sys.executable).with_name("e2e-models")
STUMP = {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": 1}}

# A move that dies between its two writes: the MLflow alias is set, then the process is killed (-9).
KILLED_AFTER_ALIAS = textwrap.dedent(
    """
    import os, signal, sys
    from e2e_training import stages
    original = stages.registry.point_alias
    def alias_then_die(*args, **kwargs):
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    stages.registry.point_alias = alias_then_die
    sys.argv = ["e2e-models", *sys.argv[1:]]
    from e2e_training.models_cli import main
    main()
    """
)


def other_data(path: Path) -> Path:
    """A table of other columns and classes than the default data."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.normal(10, 2, 300), "color": rng.choice(["red", "green"], 300)})
    frame["label"] = np.where(frame["size"] + (frame["color"] == "red") * 2 > 11, "high", "low")
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_models(workdir):
    def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(E2E_MODELS), *args], cwd=workdir, capture_output=True, text=True, timeout=timeout
        )

    return run


@pytest.fixture(scope="module")
def versions(run_train, tmp_path_factory):
    """Versions 1 and 2 of the default data at staging in turn, version 3 of other data (unpromoted)."""
    for args in ((), ("--promotion", "latest")):
        result = run_train("--model-name", MODEL, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    data = other_data(tmp_path_factory.mktemp("other") / "other.csv")
    result = run_train("--model-name", MODEL, "--data", str(data), "--target", "label", "--target-env", "production")
    assert result.returncode == 0, result.stdout + result.stderr
    return MODEL


def as_json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def stage_status(run_models, stage: str) -> dict:
    statuses = as_json(run_models("status", "--model-name", MODEL, "--json"))["result"]
    return next(status for status in statuses if status["stage"] == stage)


def aliased_registry_version(stage_alias: str, model_name: str = MODEL) -> str | None:
    import mlflow
    from mlflow.exceptions import MlflowException
    from zenml.client import Client

    mlflow.set_tracking_uri(Client().active_stack.experiment_tracker.get_tracking_uri())
    try:
        return str(mlflow.MlflowClient().get_model_version_by_alias(model_name, stage_alias).version)
    except MlflowException:
        return None


def registry_version_of(number: int, model_name: str = MODEL) -> str:
    from zenml.client import Client

    return str(Client().get_model_version(model_name, number).run_metadata[names.METADATA_MLFLOW_REGISTRY_VERSION])


def test_list_and_status_show_the_stages_and_the_aliases_agree(versions, run_models):
    listed = as_json(run_models("list", "--json"))["result"]
    ops = next(model for model in listed if model["name"] == MODEL)
    assert ops == {"name": MODEL, "versions": 3, "stages": {"staging": 2, "production": 3}}
    text = run_models("list")
    assert text.returncode == 0 and any(line.split()[:4] == [MODEL, "3", "2", "3"] for line in text.stdout.splitlines())

    staging = stage_status(run_models, "staging")
    assert staging["version"] == 2 and staging["metric"] == "accuracy" and staging["holdout"]["accuracy"] > 0.85
    assert staging["contract_version"] == 2 and staging["trained_at"].endswith("Z")
    assert staging["alias"] == "staging" and staging["alias_agrees"] is True
    assert staging["alias_version"] == staging["registry_version"] == registry_version_of(2)
    human = run_models("status", "--model-name", MODEL).stdout
    assert "staging:    version 2" in human and "MLflow alias 'staging' of registry version" in human and "agrees" in human


def test_promote_refuses_a_missing_version_and_other_data(versions, run_models):
    missing = run_models("promote", "99", "--to", "production", "--model-name", MODEL)
    assert missing.returncode == 2 and "has no version '99'" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    other = run_models("promote", "2", "--to", "production", "--model-name", MODEL)
    assert other.returncode == 2, other.stdout + other.stderr
    assert "trained on other data than version 3 at stage 'production'" in other.stderr and "--force" in other.stderr
    assert stage_status(run_models, "production")["version"] == 3
    unknown = run_models("status", "--model-name", "no_such_model")
    assert unknown.returncode == 4 and "no model named 'no_such_model'" in unknown.stderr


def test_promote_rollback_and_history(versions, run_models):
    forced = run_models("promote", "2", "--to", "production", "--model-name", MODEL, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "stage 'production' now holds version 2 (version 3 left it)" in forced.stdout
    assert stage_status(run_models, "production")["version"] == 2
    assert aliased_registry_version("champion") == registry_version_of(2)
    assert stage_status(run_models, "staging")["version"] is None  # version 2 moved on from staging
    assert aliased_registry_version("staging") is None

    back = run_models("rollback", "--stage", "production", "--model-name", MODEL, "--force")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "stage 'production' now holds version 3 (version 2 left it)" in back.stdout
    assert aliased_registry_version("champion") == registry_version_of(3)

    moves = as_json(run_models("history", "--model-name", MODEL, "--json"))["result"]
    assert [(m["stage"], m["came"], m["left"], m["kind"]) for m in moves] == [
        ("staging", 1, None, "training"),
        ("staging", 2, 1, "training"),
        ("production", 3, None, "training"),
        ("production", 2, 3, "promote"),
        ("staging", None, 2, "promote"),
        ("production", 3, 2, "rollback"),
    ]
    assert moves == sorted(moves, key=lambda move: move["at"])
    assert "--promotion latest replaces version 1" in moves[1]["why"]
    empty_stage = run_models("rollback", "--stage", "staging", "--model-name", MODEL)
    assert empty_stage.returncode == 4 and "no version at stage 'staging'" in empty_stage.stderr


def test_a_move_killed_between_its_two_writes_is_repaired_by_the_next_command(
    versions, run_models, workdir, run_train, stump
):
    script = workdir / "killed_move.py"
    script.write_text(KILLED_AFTER_ALIAS)
    holder = stage_status(run_models, "production")["version"]
    killed = subprocess.run(
        [sys.executable, str(script), "promote", "1", "--to", "production", "--model-name", MODEL, "--force"],
        cwd=workdir, capture_output=True, text=True, timeout=180,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert aliased_registry_version("champion") == registry_version_of(1)  # the alias moved, the stage did not

    status = run_models("status", "--model-name", MODEL)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"repaired: MLflow alias 'champion' pointed at registry version {registry_version_of(1)}" in status.stdout
    assert stage_status(run_models, "production")["version"] == holder
    assert aliased_registry_version("champion") == registry_version_of(holder)

    # The same half-done move, then a training run: e2e-train repairs it before promoting.
    killed = subprocess.run(
        [sys.executable, str(script), "promote", "1", "--to", "staging", "--model-name", MODEL, "--force"],
        cwd=workdir, capture_output=True, text=True, timeout=180,
    )
    assert killed.returncode == -9 and aliased_registry_version("staging") == registry_version_of(1)
    trained = run_train("--model-name", MODEL, "--no-hp-tuning", config=stump)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "Repaired:" in trained.stdout and "MLflow alias 'staging' pointed at registry version" in trained.stdout
    assert stage_status(run_models, "staging")["alias_agrees"] in (True, None)


@pytest.fixture(scope="module")
def stump(tiny_config, tmp_path_factory) -> Path:
    """The tiny config whose --no-hp-tuning model is a decision stump (weaker on the same columns)."""
    path = tmp_path_factory.mktemp("stump") / "stump.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(tiny_config.read_text()), "no_hp_tuning_model": STUMP}))
    return path


def test_two_trainings_at_once_leave_the_stage_at_the_better_version(run_train, run_models, stump):
    model = "race"
    results: dict[str, subprocess.CompletedProcess] = {}

    def train(label: str, *args: str, **config: Path) -> None:
        results[label] = run_train("--model-name", model, *args, timeout=600, **config)

    runs = [
        threading.Thread(target=train, args=("good",)),
        threading.Thread(target=train, args=("stump", "--no-hp-tuning"), kwargs={"config": stump}),
    ]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    for result in results.values():
        assert result.returncode == 0, result.stdout + result.stderr
    moves = as_json(run_models("history", "--model-name", model, "--json"))["result"]
    statuses = as_json(run_models("status", "--model-name", model, "--json"))["result"]
    staging = next(status for status in statuses if status["stage"] == "staging")
    from zenml.client import Client

    scores = {
        version.number: version.run_metadata[names.METADATA_METRICS]["holdout"]["accuracy"]
        for version in Client().list_model_versions(model, hydrate=True).items
    }
    assert staging["version"] == max(scores, key=scores.get)
    assert staging["alias_agrees"] is True
    decisions = [Client().get_model_version(model, n).run_metadata[names.METADATA_PROMOTION] for n in scores]
    assert sum(decision["promoted"] for decision in decisions) >= 1
    assert [move["came"] for move in moves if move["stage"] == "staging"][-1] == staging["version"]


def test_a_deleted_mlflow_store_is_exit_5_until_a_version_replaces_the_stage(tiny_config, tmp_path):
    """Its own ZenML store: the MLflow database is deleted between two trainings."""
    import os

    from e2e_testing.plugin import isolated_zenml_environment

    env = {**os.environ, **isolated_zenml_environment(tmp_path)}

    def run(program: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).with_name(program)), *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)

    first = run("e2e-train", "--config", str(tiny_config))
    assert first.returncode == 0, first.stdout + first.stderr
    databases = list((tmp_path / "zenml").rglob("mlflow.db"))
    assert len(databases) == 1
    databases[0].unlink()

    second = run("e2e-train", "--config", str(tiny_config))
    assert second.returncode == 5, second.stdout + second.stderr
    message = second.stderr.strip()
    assert len(message.splitlines()) == 1 and "records MLflow registry version 1, which the MLflow registry" in message
    assert "e2e-train --promotion latest" in message
    status = run("e2e-models", "status")
    assert status.returncode == 5 and "does not hold" in status.stderr

    replaced = run("e2e-train", "--config", str(tiny_config), "--promotion", "latest")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert "Promotion:       promoted to staging" in replaced.stdout
    status = run("e2e-models", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    staging = json.loads(status.stdout)["result"][0]
    assert staging["alias_agrees"] is True and staging["version"] > 1  # the refused run's version was deleted
