import subprocess
import sys

import pytest

from e2e_common.errors import DataError, NoModelAtStageError, QualityGateError, UsageError, find_e2e_error

PROGRAM = """
import sys
from e2e_common.errors import run_cli, {name}
def main():
    raise {raise_}
run_cli(main, debug=lambda: "--debug" in sys.argv)
"""


@pytest.mark.parametrize(
    ("name", "raise_", "code", "line"),
    [
        ("DataError", "DataError('data.csv: file not found')", 2, "error: data.csv: file not found"),
        ("QualityGateError", "QualityGateError('drift too high')", 3, "error: drift too high"),
        (
            "NoModelAtStageError",
            "NoModelAtStageError('m', 'staging')",
            4,
            "error: no version of model 'm' at stage 'staging'; run e2e-train first",
        ),
        ("UsageError", "ZeroDivisionError('boom')", 1, "error: unexpected failure: ZeroDivisionError: boom"),
    ],
)
def test_one_line_on_stderr_and_the_documented_exit_code(name, raise_, code, line):
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(name=name, raise_=raise_)], capture_output=True, text=True
    )
    assert result.returncode == code
    assert result.stderr.strip().splitlines() == [line] if code != 1 else result.stderr.startswith(line)
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback():
    program = PROGRAM.format(name="DataError", raise_="DataError('bad')")
    result = subprocess.run([sys.executable, "-c", program, "--debug"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and result.stderr.strip().endswith("error: bad")


def test_a_wrapped_error_keeps_its_exit_code():
    try:
        try:
            raise QualityGateError("gate")
        except QualityGateError as inner:
            raise RuntimeError("step failed") from inner
    except RuntimeError as outer:
        assert find_e2e_error(outer).exit_code == 3
    assert issubclass(DataError, UsageError) and NoModelAtStageError("m", "s").exit_code == 4
