"""What the inference tests import besides fixtures: the ``e2e-infer`` script and store queries.

A plain module on the tests' ``pythonpath`` (see pyproject.toml), with a name no other package's
tests use, so that one pytest run over the whole repository imports it unambiguously.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

E2E_INFER = Path(sys.executable).parent / "e2e-infer"

DEFAULT_MODEL = "inf_default"
REGRESSION_MODEL = "inf_regression"
CATEGORICAL_MODEL = "inf_categorical"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def artifact_versions(name: str) -> list[str]:
    """Versions of the artifact ``name`` in the store."""
    from zenml.client import Client

    return sorted(v.version for v in Client().list_artifact_versions(name=name, size=1000).items)


def predictions_of(model_name: str, version: str | int) -> list:
    """The ``predictions`` artifact versions linked to a model version."""
    from zenml.client import Client

    from e2e_inference.names import PREDICTIONS

    model_version = Client().get_model_version(model_name, str(version))
    links = Client().list_model_version_artifact_links(model_version_id=model_version.id, size=1000)
    return [link.artifact_version for link in links.items if link.artifact_version.name == PREDICTIONS]
