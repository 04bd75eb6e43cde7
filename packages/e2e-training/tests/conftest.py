"""Fixtures of the training tests: tiny search spaces (classification and regression) and ``e2e-train``
as a subprocess.

Every test of the session shares one temporary ZenML store (the ``e2e_testing`` pytest plugin).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from e2e_common.contract import DEFAULT_MODEL_NAME

E2E_TRAIN = Path(sys.executable).with_name("e2e-train")

TINY_CONFIG = {
    "n_iter": 2,
    "cv_folds": 2,
    "drift_reference_rows": 200,
    "search_space": {
        "random_forest": {
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "search": {"n_estimators": {"int": [5, 10]}, "max_depth": [2, 4]},
        },
        "decision_tree": {
            "estimator": "sklearn.tree.DecisionTreeClassifier",
            "search": {"max_depth": {"int": [2, 4]}},
        },
        "logistic_regression": {
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 500},
            "search": {"C": {"log": [0.1, 10.0]}},
        },
    },
    "no_hp_tuning_model": {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"n_estimators": 10}},
    # A regression's families: the three of the default regression space, smaller.
    "regression_search_space": {
        "hist_gradient_boosting": {
            "estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
            "params": {"max_iter": 60},
            "search": {"learning_rate": {"log": [0.05, 0.2]}},
        },
        "random_forest": {
            "estimator": "sklearn.ensemble.RandomForestRegressor",
            "search": {"n_estimators": {"int": [5, 10]}, "max_depth": [4, 8]},
        },
        "ridge": {"estimator": "sklearn.linear_model.Ridge", "search": {"alpha": {"log": [0.1, 10.0]}}},
    },
    "regression_no_hp_tuning_model": {
        "estimator": "sklearn.ensemble.RandomForestRegressor",
        "params": {"n_estimators": 10},
    },
}


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``--config`` file with a search space small enough for tests."""
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working directory of the CLI runs: outside the checkout, so no ``.zen`` is found."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="session")
def run_train(workdir: Path, tiny_config: Path):
    """Run ``e2e-train`` with the tiny config and the given arguments; the completed process."""

    def run(*args: str, config: Path | None = tiny_config, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [str(E2E_TRAIN), *args, *(["--config", str(config)] if config else [])]
        return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def first_run(run_train) -> subprocess.CompletedProcess:
    """The first training run of the session's store, on the default data."""
    result = run_train()
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def staged_version():
    """Number of the version of a model at a stage in the session's store, or None."""

    def number(model_name: str = DEFAULT_MODEL_NAME, stage: str = "staging") -> int | None:
        from e2e_common.registry import version_at_stage_or_none

        version = version_at_stage_or_none(model_name, stage)
        return None if version is None else version.number

    return number
