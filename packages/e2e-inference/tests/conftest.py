"""Shared fixtures: promoted fixture versions (session scope) and a way to run ``e2e-infer``."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["e2e_common.testing"]

E2E_INFER = Path(sys.executable).parent / "e2e-infer"

DEFAULT_MODEL = "inf_default"
CATEGORICAL_MODEL = "inf_categorical"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


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
    from fixtures import promote_fixture_version

    promote_fixture_version(DEFAULT_MODEL)
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def categorical_version() -> str:
    """``inf_categorical`` at staging: numeric, categorical and boolean features, three classes."""
    from fixtures import CATEGORICAL_DATA, promote_fixture_version

    promote_fixture_version(CATEGORICAL_MODEL, dataset=CATEGORICAL_DATA)
    return CATEGORICAL_MODEL


def artifact_versions(name: str) -> list[str]:
    """Versions of the artifact ``name`` in the store."""
    from zenml.client import Client

    return sorted(v.version for v in Client().list_artifact_versions(name=name, size=1000).items)


def predictions_of(model_name: str, version: str | int) -> list:
    """The ``predictions`` artifact versions linked to a model version."""
    from zenml.client import Client

    from e2e_common.contract import PREDICTIONS

    model_version = Client().get_model_version(model_name, str(version))
    links = Client().list_model_version_artifact_links(model_version_id=model_version.id, size=1000)
    return [link.artifact_version for link in links.items if link.artifact_version.name == PREDICTIONS]
