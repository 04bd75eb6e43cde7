"""Shared fixtures: promoted fixture versions (session scope) and a way to run ``e2e-infer``.

The session's private ZenML store comes from the ``e2e_testing`` pytest plugin.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from inference_helpers import CATEGORICAL_MODEL, DEFAULT_MODEL, E2E_INFER, REGRESSION_MODEL, CliRun


@pytest.fixture(scope="session")
def run_e2e_infer():
    """Run the console script as a user does, in the session's private ZenML store."""

    # Bytecode caching spares every CLI process compiling ZenML and Evidently again (about 3 s).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(*args: str, timeout: float = 180) -> CliRun:
        done = subprocess.run([str(E2E_INFER), *args], capture_output=True, text=True, timeout=timeout, env=env)
        return CliRun(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def default_version() -> str:
    """``inf_default`` version 1 at staging: a tiny classifier of the default data, with a drift reference."""
    from fixture_versions import promote_fixture_version

    promote_fixture_version(DEFAULT_MODEL)
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def regression_version() -> str:
    """``inf_regression`` at staging: a gradient-boosting regressor of numeric, categorical and boolean
    features, with ``holdout_predictions``."""
    from fixture_versions import promote_regression_version

    promote_regression_version(REGRESSION_MODEL)
    return REGRESSION_MODEL


@pytest.fixture(scope="session")
def categorical_version() -> str:
    """``inf_categorical`` at staging: numeric, categorical and boolean features, three classes."""
    from fixture_versions import CATEGORICAL_DATA, promote_fixture_version

    promote_fixture_version(CATEGORICAL_MODEL, dataset=CATEGORICAL_DATA)
    return CATEGORICAL_MODEL
