"""``hatch run main`` is the demo: it takes no arguments and says how to use one's own data."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs hatch, which starts the default environment's processes

ROOT = Path(__file__).resolve().parents[1]


def test_main_with_arguments_exits_2_and_points_to_the_two_commands():
    hatch = shutil.which("hatch")
    assert hatch, "hatch is not on PATH; the README's commands need it"
    result = subprocess.run(
        [hatch, "run", "main", "--data", "my.csv", "--target", "y"], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: hatch run main is the demo and takes no arguments")
    assert "hatch run e2e-train --data FILE --target COLUMN" in line and "hatch run e2e-infer --data FILE" in line
    assert "Training model" not in result.stdout
