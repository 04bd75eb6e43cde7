import subprocess
import sys

import pytest

from e2e_common.errors import QualityGateError, find_e2e_error

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
        ("UsageError", "UsageError('--test-size: must be below 1')", 2, "error: --test-size: must be below 1"),
        ("DataError", "DataError('data.csv: file not found')", 2, "error: data.csv: file not found"),
        ("QualityGateError", "QualityGateError('drift too high')", 3, "error: drift too high"),
        (
            "NoModelAtStageError",
            "NoModelAtStageError('m', 'staging')",
            4,
            "error: no version of model 'm' at stage 'staging'; run e2e-train first",
        ),
        (
            "E2EError",
            "ZeroDivisionError('boom')",
            1,
            "error: unexpected failure: ZeroDivisionError: boom (run again with --debug for the traceback)",
        ),
    ],
)
def test_one_line_on_stderr_and_the_documented_exit_code(name, raise_, code, line):
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(name=name, raise_=raise_)], capture_output=True, text=True
    )
    assert result.returncode == code
    assert result.stderr.strip().splitlines() == [line]


def test_debug_shows_the_traceback():
    program = PROGRAM.format(name="DataError", raise_="DataError('bad')")
    result = subprocess.run([sys.executable, "-c", program, "--debug"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and result.stderr.strip().endswith("error: bad")


def wrapped(inner: BaseException, explicit: bool) -> RuntimeError:
    """A RuntimeError raised while handling ``inner`` (``raise ... from`` when ``explicit``)."""
    try:
        try:
            raise inner
        except BaseException:
            if explicit:
                raise RuntimeError("step failed") from inner
            raise RuntimeError("step failed")  # noqa: B904 - the implicit context is the point
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("explicit", [True, False], ids=["cause", "context"])
def test_a_wrapped_error_is_found_behind_its_wrapper(explicit):
    inner = QualityGateError("gate")
    assert find_e2e_error(wrapped(inner, explicit)) is inner


def test_an_error_of_no_known_kind_is_not_found_even_in_a_cycle():
    outer = wrapped(ValueError("plain"), explicit=True)
    outer.__cause__.__context__ = outer
    assert find_e2e_error(outer) is None
