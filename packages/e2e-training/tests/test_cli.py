"""``e2e-train`` as users call it: help, usage errors and bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from e2e_training.cli import PROGRAM

pytestmark = pytest.mark.slow  # every test runs the CLI (or its --help) in a subprocess

SPEC_FLAGS = [
    "--data",
    "--target",
    "--config",
    "--model-name",
    "--target-env",
    "--promotion",
    "--no-hp-tuning",
    "--no-cache",
    "--no-drop-na",
    "--no-normalize",
    "--drop-columns",
    "--test-size",
    "--min-train-accuracy",
    "--min-test-accuracy",
    "--fail-on-accuracy-quality-gates",
    "--debug",
    # added since the first contract
    "--metric",
    "--min-improvement",
    "--baseline-margin",
    "--min-train-score",
    "--min-test-score",
    "--fail-on-quality-gates",
]


def test_help_lists_every_spec_option_without_importing_zenml_mlflow_or_sklearn():
    program = (
        "import sys\n"
        "import e2e_training.cli\n"
        "from e2e_training.settings import TrainingSettings\n"
        "try:\n    TrainingSettings.from_cli(['--help'], prog='e2e-train')\n"
        "except SystemExit as exit:\n"
        "    heavy = [m for m in ('zenml', 'mlflow', 'sklearn', 'pandas') if m in sys.modules]\n"
        "    print('HEAVY', heavy, 'CODE', exit.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.stdout.rstrip().endswith("HEAVY [] CODE 0"), result.stdout + result.stderr
    assert result.stdout.startswith(f"usage: {PROGRAM}")
    for flag in SPEC_FLAGS:
        assert flag in result.stdout, flag
    for hidden in ("--search-space", "--n-iter", "--cv-folds"):
        assert hidden not in result.stdout
    examples = result.stdout.split("\nexamples:\n", 1)[1]
    assert "e2e-train --data customers.csv --target churned" in examples and "--config train.yaml" in examples
    assert "{Path,null}" not in result.stdout and "default factory" not in result.stdout


def test_version_is_the_package_version():
    from e2e_training import __version__

    result = subprocess.run([sys.executable, "-m", "e2e_training.cli", "--version"], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, f"{PROGRAM} {__version__}"), result.stderr


def write(path, text: str | bytes):
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


BAD_INPUT = {
    "missing file": (lambda d: ["--data", str(d / "missing.csv")], "file not found"),
    "empty file": (lambda d: ["--data", write(d / "empty.csv", "")], "the file is empty"),
    "garbage bytes": (lambda d: ["--data", write(d / "garbage.parquet", bytes(range(256)) * 4)], "cannot be read"),
    "missing target": (lambda d: ["--data", write(d / "no_target.csv", "a,b\n1,2\n3,4\n")], "target column 'target'"),
    "single class": (
        lambda d: ["--data", write(d / "one_class.csv", "a,target\n" + "".join(f"{i},x\n" for i in range(20)))],
        "has one value ('x') in every row",
    ),
    "unknown column to drop": (lambda d: ["--drop-columns", "no such column"], "columns to drop not in the data"),
    "test size out of range": (lambda d: ["--test-size", "1.5"], "setting 'test_size'"),
    "unknown promotion mode": (lambda d: ["--promotion", "best"], "setting 'promotion'"),
    "unknown stage": (lambda d: ["--target-env", "prod"], "setting 'target_env'"),
    "unknown metric": (lambda d: ["--metric", "f1"], "setting 'metric'"),
    "unknown option": (lambda d: ["--bogus"], "unrecognized arguments: --bogus"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_error_line_and_changes_no_stage(
    case, first_run, run_train, staged_version, tmp_path
):
    arguments, message = BAD_INPUT[case]
    before = staged_version()
    result = run_train(*arguments(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert staged_version() == before is not None


def test_an_invalid_search_space_in_the_config_is_a_usage_error(run_train, tmp_path):
    config = write(tmp_path / "bad.yaml", "search_space:\n  forest:\n    estimator: sklearn.ensemble.NoSuchForest\n")
    result = run_train("--config", config, config=None)
    assert result.returncode == 2
    assert result.stderr.startswith("error: estimator 'sklearn.ensemble.NoSuchForest' of model family 'forest'")


def test_debug_shows_the_traceback(run_train, tmp_path):
    result = run_train("--data", str(tmp_path / "missing.csv"), "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and result.stderr.strip().splitlines()[-1].startswith("error: ")
