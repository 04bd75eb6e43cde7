"""Cross-package tests: the CLIs as a user runs them, talking only through the Model Control Plane.

The session's private ZenML store comes from the ``e2e_testing`` pytest plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
TINY_SEARCH = Path(__file__).with_name("tiny_search.yaml")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the CLIs run: outside the checkout, as for a user."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="session")
def cli(workdir: Path):
    """Run ``e2e-train`` or ``e2e-infer`` in the session's private store; the completed process.
    ``e2e-train`` searches ``tiny_search.yaml``'s space unless ``tiny_search=False`` (the package's own)."""

    def run(
        program: str, *args: str, env: dict[str, str] | None = None, tiny_search: bool = True
    ) -> subprocess.CompletedProcess:
        extra = ["--config", str(TINY_SEARCH)] if program == "e2e-train" and tiny_search else []
        return subprocess.run(
            [str(BIN / program), *args, *extra],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, **(env or {})},
        )

    return run
