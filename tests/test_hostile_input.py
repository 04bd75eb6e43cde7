"""Hostile input, end to end: the real CLIs on odd files, odd values, odd configs and odd variables.

Each row of ``CASES`` runs ``e2e-train`` or ``e2e-infer`` once and asserts the exit code; that
stderr holds one ``error:`` line with the expected fragment and no traceback (or, for a run that
succeeds, that stdout holds the expected ``warning:`` line); and what must not change: the
version at the stage, the ``predictions`` artifact versions (one more only for a scoring run that
succeeds), the input files' bytes, and no ``--output`` file from a refused run. Refusals that the
check makes before the pipeline (``upfront``) must come within ``UPFRONT_SECONDS``.

One model (``hostile_input``) is trained once for the module, on a Parquet file that is itself
hostile (infinite values, list and struct columns, free text, missing labels): the ``trained`` rows
check what that run said and recorded.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow  # the CLIs run as subprocesses

BIN = Path(sys.executable).parent
TINY_SEARCH = Path(__file__).with_name("tiny_search.yaml")
MODEL = "hostile_input"
STAGE = "staging"
PREDICTIONS = "predictions"
TARGET = "churned"
UPFRONT_SECONDS = 20  # generous for a loaded 2-core CI machine; typically 2-5 s (see the report)
TRAINING_ROWS = 2000


# ------------------------------------------------------------------------------------------------ data


def customers(rows: int, seed: int = 0) -> pd.DataFrame:
    """Customers with a signal: an id, two numbers, a categorical, the label."""
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=rows)
    tenure = rng.normal(50, 10, size=rows)
    return pd.DataFrame(
        {
            "customer_id": np.arange(10_000, 10_000 + rows),
            "usage": usage.round(6),
            "tenure": tenure.round(3),
            "plan": np.where(tenure > 50, "pro", "basic"),
            TARGET: ((usage + (tenure - 50) / 10) > 0).astype(int),
        }
    )


def hostile_training_data() -> pd.DataFrame:
    """Trainable, but hostile: 3 infinities, a list, a struct and a free-text column, boolean labels of
    which 5 are missing."""
    frame = customers(TRAINING_ROWS)
    rng = np.random.default_rng(1)
    frame.loc[[3, 30, 300], "usage"] = [np.inf, -np.inf, np.inf]
    frame["tags"] = [[int(i % 3), 1] for i in range(TRAINING_ROWS)]
    frame["meta"] = [{"source": f"s{i % 4}", "score": float(i % 7)} for i in range(TRAINING_ROWS)]
    frame["note"] = [f"customer wrote note number {i}" for i in rng.integers(0, 1500, size=TRAINING_ROWS)]
    labels = frame[TARGET].astype(bool).astype(object)  # booleans beside missing labels: objects in pandas
    labels[[10, 20, 40, 80, 160]] = None
    return frame.assign(**{TARGET: labels})


def rows_to_score(rows: int = 40) -> pd.DataFrame:
    return customers(rows, seed=5).drop(columns=TARGET)


# --------------------------------------------------------------------------------------------- helpers


@dataclass
class Inputs:
    """What a case runs with: arguments after the program, extra environment, the files it reads."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    config: Path | None = None


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def with_index(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path)  # the row index saved as a first column without a name
    return path


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_parquet(path)
    return path


def write_bytes(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def train_on(path: Path, *extra: str) -> Inputs:
    return Inputs(["--data", str(path), "--target", TARGET, "--model-name", MODEL, *extra], files=[path])


def score(path: Path, *extra: str) -> Inputs:
    return Inputs(["--data", str(path), "--model-name", MODEL, *extra], files=[path])


def with_config(inputs: Inputs, path: Path, text: str) -> Inputs:
    inputs.config = write_bytes(path, text)
    inputs.files.append(inputs.config)
    return inputs


def run(program: str, inputs: Inputs, cwd: Path, output: Path | None = None) -> subprocess.CompletedProcess:
    config = inputs.config or (TINY_SEARCH if program == "e2e-train" else None)
    command = [str(BIN / program), *inputs.args, *(["--output", str(output)] if output else [])]
    command += ["--config", str(config)] if config else []
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, env={**os.environ, **inputs.env}
    )


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def stage_number() -> int | None:
    from e2e_common.registry import version_at_stage_or_none

    version = version_at_stage_or_none(MODEL, STAGE)
    return None if version is None else version.number


def predictions_versions() -> int:
    from zenml.client import Client

    return Client().list_artifact_versions(name=PREDICTIONS, size=1).total


# ----------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One hostile input: who gets it, how it is made, the exit code and the words expected."""

    program: str  # e2e-train, e2e-infer, or "trained" (a check of the module's training run)
    make: Callable[[Path], Inputs] | None
    code: int
    says: str
    upfront: bool = False  # refused before the pipeline starts
    skip: str | None = None
    xfail: str | None = None


def repeated_feature(d: Path) -> Path:
    """The issue's case: a header that repeats a feature name, the first copy junk."""
    rows = rows_to_score()
    junk = pd.Series(np.full(len(rows), 99.0), name="usage")
    frame = pd.concat([rows[["customer_id"]], junk, rows[["usage", "tenure", "plan"]]], axis=1)
    return write_csv(d / "repeated.csv", frame)


def parquet_with_repeated_name(d: Path) -> Path:
    path = d / "repeated.parquet"
    table = pa.table([pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array([0, 1])], names=["usage", "usage", TARGET])
    pq.write_table(table, path)
    return path


def one_value(d: Path, name: str, column: str, value: object, rows: pd.DataFrame | None = None) -> Path:
    frame = (customers(120) if rows is None else rows).astype({column: object})
    frame.loc[7, column] = value
    return write_csv(d / name, frame)


def fifo(d: Path) -> Path:
    path = d / "pipe.csv"
    os.mkfifo(path)
    return path


def link_loop(d: Path) -> Path:
    path = d / "loop.csv"
    os.symlink(path, path)
    return path


def folder(d: Path) -> Path:
    path = d / "parts.parquet"
    path.mkdir()
    (path / "part-0.parquet").write_bytes(b"")
    return path


def unreadable(d: Path) -> Path:
    path = write_csv(d / "secret.csv", customers(20))
    path.chmod(0)
    return path


def large_with_a_huge_value_between_the_sampled_blocks(d: Path) -> Path:
    rows = customers(3000, seed=9).drop(columns=TARGET)
    rows["tenure"] = rows["tenure"].map(lambda value: f"{value:.3f}")  # every line as long: blocks fall alike
    rows.loc[150, "tenure"] = "1e+300"  # the up-front sample reads rows 0-62 and 187-249 of this stretch
    return write_csv(d / "large.csv", rows)


def hostile_parquet_rows(d: Path, column: str, cells: list[object]) -> Path:
    path = d / "rows.parquet"
    rows = rows_to_score()
    rows[column] = cells[: len(rows)] * (len(rows) // len(cells[: len(rows)]))
    rows.to_parquet(path)
    return path


TRAIN_CONFIG = "search_space:\n  tree:\n    estimator: sklearn.tree.DecisionTreeClassifier\n"

CASES: dict[str, Case] = {
    # ---- e2e-train: names and files
    "train: a header repeating a column name": Case(
        "e2e-train",
        lambda d: train_on(write_bytes(d / "d.csv", "customer_id,usage,usage,churned\n1,2,3,0\n2,3,4,1\n")),
        2, "column name 'usage' appears 2 times (columns 2, 3); column names must be unique", upfront=True,
    ),
    "train: a saved row index (first column without a name)": Case(
        "e2e-train", lambda d: train_on(with_index(d / "i.csv", customers(50))),
        2, "column 1 of 6 has no name (a saved row index? write the file without it)", upfront=True,
    ),
    "train: a Parquet schema repeating a name": Case(
        "e2e-train", lambda d: train_on(parquet_with_repeated_name(d)), 2, "column name 'usage' appears 2 times",
        upfront=True,
    ),
    "train: a very long repeated name is cut in the message": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", f"{'x' * 5000},{'x' * 5000},churned\n1,2,0\n")),
        2, f"column name '{'x' * 57}...' appears 2 times", upfront=True,
    ),
    "train: semicolon-separated CSV": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", "usage;tenure;churned\n1;2;0\n2;3;1\n")),
        2, "the file looks separated by ';', but CSV files are read comma-separated", upfront=True,
    ),
    "train: a header-only CSV": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", "usage,tenure,churned\n")), 2, "no rows to read",
        upfront=True,
    ),
    "train: a Parquet file named .csv": Case(
        "e2e-train", lambda d: train_on(write_parquet(d / "d.csv", customers(20))),
        2, "is a Parquet file; name it .parquet", upfront=True,
    ),
    "train: a gzip'd CSV named .csv": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", gzip.compress(customers(20).to_csv().encode()))),
        2, "is gzip-compressed; decompress it first", upfront=True,
    ),
    "train: latin-1 bytes": Case(
        "e2e-train",
        lambda d: train_on(write_bytes(d / "d.csv", "city,usage,churned\nS\xe3o Paulo,1,0\nLyon,2,1\n".encode("latin-1"))),
        2, "not UTF-8 text (byte 0xe3); save the file as UTF-8", upfront=True,
    ),
    "train: a UTF-16 file": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", customers(20).to_csv(index=False).encode("utf-16"))),
        2, "is UTF-16 text; save it as UTF-8", upfront=True,
    ),
    "train: a 0-byte file": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", b"")), 2, "the file is empty", upfront=True
    ),
    "train: a folder as --data": Case(
        "e2e-train", lambda d: train_on(folder(d)), 2, "is a folder; pass a CSV or Parquet file", upfront=True
    ),
    "train: a FIFO as --data (never read, never waited on)": Case(
        "e2e-train", lambda d: train_on(fifo(d)), 2, "is a named pipe (FIFO), not a regular file", upfront=True
    ),
    "train: a symbolic link loop as --data": Case(
        "e2e-train", lambda d: train_on(link_loop(d)), 2, "symbolic link loop", upfront=True
    ),
    "train: a file this user cannot read": Case(
        "e2e-train", lambda d: train_on(unreadable(d)), 2, "permission denied", upfront=True,
        skip="running as root, who reads every file (the FIFO and folder cases cover other unreadable paths)"
        if os.geteuid() == 0 else None,
    ),
    "train: the target spelled with a space in the header": Case(
        "e2e-train", lambda d: train_on(write_bytes(d / "d.csv", "usage, churned\n1,0\n2,1\n")),
        2, "the data has ' churned' for 'churned': names must match exactly", upfront=True,
    ),
    # ---- e2e-train: values
    "train: a number beyond 1e150": Case(
        "e2e-train", lambda d: train_on(one_value(d, "d.csv", "tenure", 1e300)),
        2, "column 'tenure' holds 1e+300 beyond ±1e+150", upfront=True,
    ),
    "train: numbers written with thousands separators": Case(
        "e2e-train",
        lambda d: train_on(write_csv(d / "d.csv", customers(60).assign(amount=[f"{1000 + i:,}.50" for i in range(60)]))),
        2, "column 'amount' holds numbers written with separators (e.g. '1,000.50')", upfront=True,
    ),
    "train: all rows identical": Case(
        "e2e-train", lambda d: train_on(write_csv(d / "d.csv", pd.concat([customers(1)] * 60))),
        2, "all 60 rows are identical; a model needs rows that differ", upfront=True,
    ),
    "train: --task classification for a target holding measures": Case(
        "e2e-train",
        lambda d: train_on(
            write_csv(d / "d.csv", customers(60).assign(churned=np.linspace(0, 1, 60))), "--task", "classification"
        ),
        2, "which is not a class label: --task classification needs labels", upfront=True,
    ),
    "train: --task regression for a target of text": Case(
        "e2e-train",
        lambda d: train_on(
            write_csv(d / "d.csv", customers(60).assign(churned=["yes", "no"] * 30)), "--task", "regression"
        ),
        2, "holds values that are not numbers", upfront=True,
    ),
    "train: a constant numeric target": Case(
        "e2e-train", lambda d: train_on(write_csv(d / "d.csv", customers(60).assign(churned=2.5))),
        2, "target column 'churned' has one value (2.5) in every row; there is nothing to predict", upfront=True,
    ),
    "train: a list column as the target": Case(
        "e2e-train",
        lambda d: train_on(write_parquet(d / "d.parquet", customers(20).assign(churned=[[i % 2] for i in range(20)]))),
        2, "target column 'churned' holds lists", upfront=True,
    ),
    # ---- e2e-train: environment and config file
    "train: E2E_TEST_SIZE=abc": Case(
        "e2e-train", lambda d: Inputs(["--model-name", MODEL], env={"E2E_TEST_SIZE": "abc"}),
        2, "invalid value 'abc' for setting 'test_size' (--test-size / E2E_TEST_SIZE)", upfront=True,
    ),
    "train: a config file holding a list": Case(
        "e2e-train", lambda d: with_config(Inputs(["--model-name", MODEL]), d / "c.yaml", "- n_iter: 2\n- cv_folds: 2\n"),
        2, "must hold a mapping of settings (key: value), not a list", upfront=True,
    ),
    "train: an estimator parameter the estimator refuses (max_depth: -1)": Case(
        "e2e-train",
        lambda d: with_config(Inputs(["--model-name", MODEL]), d / "c.yaml", TRAIN_CONFIG + "    params: {max_depth: -1}\n"),
        2, "model family 'tree': DecisionTreeClassifier refuses max_depth = -1: The 'max_depth' parameter of "
        "DecisionTreeClassifier must be an int in the range [1, inf) or None. Got -1 instead. (setting 'search_space')",
        upfront=True,
    ),
    "train: a searched value the estimator refuses (n_estimators: many)": Case(
        "e2e-train",
        lambda d: with_config(
            Inputs(["--model-name", MODEL]), d / "c.yaml",
            "search_space:\n  forest:\n    estimator: sklearn.ensemble.RandomForestClassifier\n"
            "    search: {n_estimators: [10, many]}\n",
        ),
        2, "RandomForestClassifier refuses n_estimators = 'many'", upfront=True,
    ),
    "train: an estimator parameter the estimator does not have": Case(
        "e2e-train",
        lambda d: with_config(Inputs(["--model-name", MODEL]), d / "c.yaml", TRAIN_CONFIG + "    params: {depth: 3}\n"),
        2, "DecisionTreeClassifier has no parameter depth", upfront=True,
    ),
    "train: cv_folds above the smallest class's train rows": Case(
        "e2e-train",
        lambda d: with_config(train_on(write_csv(d / "d.csv", customers(120))), d / "c.yaml", "cv_folds: 1000\n"),
        2, "cv_folds 1000 is more than the", upfront=True,
    ),
    # ---- the module's training run on hostile but trainable data (exit 0, warnings before the run)
    "trained: infinities are missing values, said per column": Case(
        "trained", None, 0, "warning: column 'usage' holds 3 infinite value(s) (inf or -inf), read as missing values"
    ),
    "trained: a Parquet list column is left out": Case(
        "trained", None, 0, "warning: column 'tags' is not a feature: not scalar (it holds lists (arrays), e.g. [0, 1])"
    ),
    "trained: a Parquet struct column is left out": Case(
        "trained", None, 0, "warning: column 'meta' is not a feature: not scalar (it holds dicts (structs)"
    ),
    "trained: free text is left out": Case("trained", None, 0, "warning: column 'note' is not a feature: free text ("),
    "trained: missing boolean labels are rows left out, not a failure": Case(
        "trained", None, 0, "Model version:   hostile_input version 1 at stage 'staging'"
    ),
    # ---- e2e-infer: names and files
    "infer: a header repeating a feature name, the first copy junk (issue 16)": Case(
        "e2e-infer", lambda d: score(repeated_feature(d)), 2, "column name 'usage' appears 2 times (columns 2, 3)",
        upfront=True,
    ),
    "infer: a column without a name": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", "usage,,plan\n1,2,pro\n")), 2, "column 2 of 3 has no name",
        upfront=True,
    ),
    "infer: a header-only CSV": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", "customer_id,usage,tenure,plan\n")), 2, "no rows to read"
    ),
    "infer: semicolon-separated CSV": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", "usage;tenure;plan\n1;2;pro\n")), 2,
        "the file looks separated by ';'", upfront=True,
    ),
    "infer: a Parquet file named .csv": Case(
        "e2e-infer", lambda d: score(write_parquet(d / "r.csv", rows_to_score())), 2,
        "is a Parquet file; name it .parquet", upfront=True,
    ),
    "infer: a UTF-16 file": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", rows_to_score().to_csv(index=False).encode("utf-16"))),
        2, "is UTF-16 text", upfront=True,
    ),
    "infer: a 0-byte file": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", b"")), 2, "the file is empty", upfront=True
    ),
    "infer: a folder as --data": Case("e2e-infer", lambda d: score(folder(d)), 2, "is a folder", upfront=True),
    "infer: a FIFO as --data": Case("e2e-infer", lambda d: score(fifo(d)), 2, "is a named pipe (FIFO)", upfront=True),
    "infer: a symbolic link loop as --data": Case(
        "e2e-infer", lambda d: score(link_loop(d)), 2, "symbolic link loop", upfront=True
    ),
    "infer: E2E_DRIFT_SHARE=abc": Case(
        "e2e-infer", lambda d: Inputs(["--model-name", MODEL], env={"E2E_DRIFT_SHARE": "abc"}), 2,
        "invalid value 'abc' for setting 'drift_share'", upfront=True,
    ),
    "infer: a config file holding a number": Case(
        "e2e-infer", lambda d: with_config(Inputs(["--model-name", MODEL]), d / "c.yaml", "0.3\n"),
        2, "must hold a mapping of settings (key: value), not a number", upfront=True,
    ),
    # ---- e2e-infer: values (checked against the model version's data contract)
    "infer: infinite values are missing values, said per column": Case(
        "e2e-infer", lambda d: score(one_value(d, "r.csv", "usage", float("inf"), rows_to_score())), 0,
        "column 'usage' holds 1 infinite value(s) (inf or -inf), read as missing values",
    ),
    "infer: a byte order mark in the header": Case(
        "e2e-infer", lambda d: score(write_bytes(d / "r.csv", "\ufeff" + rows_to_score().to_csv(index=False))), 0,
        "Scored 40 rows with model 'hostile_input'",
    ),
    "infer: a number beyond 1e150": Case(
        "e2e-infer", lambda d: score(one_value(d, "r.csv", "tenure", 1e300, rows_to_score())), 2,
        "column 'tenure' holds 1e+300 beyond ±1e+150",
    ),
    "infer: list cells in a feature column": Case(
        "e2e-infer", lambda d: score(hostile_parquet_rows(d, "plan", [["pro"], ["basic"]])), 2,
        "feature column 'plan' holds lists (arrays), e.g. ['pro']; the model reads one text or number per cell",
    ),
    "infer: text in a numeric feature (mixed int/str)": Case(
        "e2e-infer", lambda d: score(one_value(d, "r.csv", "tenure", "abc", rows_to_score())), 2,
        "tenure (1 value(s) not a number, e.g. 'abc')",
    ),
    "infer: a number written with a thousands separator": Case(
        "e2e-infer", lambda d: score(one_value(d, "r.csv", "tenure", "1,234.5", rows_to_score())), 2,
        "tenure (1 value(s) not a number, e.g. '1,234.5')",
    ),
    "infer: a feature column spelled with another case": Case(
        "e2e-infer", lambda d: score(write_csv(d / "r.csv", rows_to_score().rename(columns={"usage": "Usage"}))), 2,
        "missing feature columns: usage (the rows have 'Usage' for 'usage'",
    ),
    "infer: a feature column of nothing but missing values": Case(
        "e2e-infer", lambda d: score(write_csv(d / "r.csv", rows_to_score().assign(tenure=np.nan))), 3,
        "whose share of missing values moved by more than --na-drift-tolerance",
    ),
    "infer: a large input with a huge value between the up-front sample's blocks": Case(
        "e2e-infer",
        lambda d: score(
            large_with_a_huge_value_between_the_sampled_blocks(d), "--reference-above-bytes", "1000", "--partitions",
            "2", "--no-drift-check",
        ),
        2, "column 'tenure' holds 1e+300 beyond ±1e+150",
    ),
}


# ----------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> subprocess.CompletedProcess:
    """The module's model: trained once on hostile but trainable data, promoted to staging."""
    path = tmp_path_factory.mktemp("hostile_training") / "customers.parquet"
    hostile_training_data().to_parquet(path)
    result = run("e2e-train", train_on(path), workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stage_number() == 1
    return result


def marked(name: str):
    case = CASES[name]
    marks = []
    if case.skip:
        marks.append(pytest.mark.skip(reason=case.skip))
    if case.xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("name", [marked(name) for name in CASES])
def test_hostile_input(name: str, trained: subprocess.CompletedProcess, workdir: Path, tmp_path: Path):
    case = CASES[name]
    if case.program == "trained":
        assert trained.returncode == case.code
        assert case.says in trained.stdout, trained.stdout
        if case.says.startswith("warning:"):  # said before the pipeline starts
            assert trained.stdout.index(case.says) < trained.stdout.index("Training model")
        return

    inputs = case.make(tmp_path)
    output = tmp_path / "scored.csv" if case.program == "e2e-infer" else None
    before = {path: digest(path) for path in inputs.files}
    stage, predictions = stage_number(), predictions_versions()

    started = time.monotonic()
    result = run(case.program, inputs, workdir, output)
    elapsed = time.monotonic() - started

    assert result.returncode == case.code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if case.code == 0:
        assert result.stderr.strip() == "", result.stderr
        assert case.says in result.stdout, result.stdout
        assert output is not None and output.is_file()
    else:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert case.says in lines[0], lines[0]
        assert "np.int64" not in lines[0] and "np.float64" not in lines[0]
        assert output is None or not output.exists()
    if case.upfront:
        assert "Training model" not in result.stdout and "step " not in result.stdout, result.stdout
        assert elapsed < UPFRONT_SECONDS, f"refused after {elapsed:.1f} s"

    assert {path: digest(path) for path in inputs.files} == before  # the input files are left as they were
    assert stage_number() == stage  # no stage moved
    scored = case.program == "e2e-infer" and case.code == 0
    assert predictions_versions() == predictions + scored  # a new predictions artifact only from a scoring run


def test_the_suite_counts_its_outcomes():
    """At least 25 cases, each with its outcome (the report's count by outcome reads from here)."""
    outcomes: dict[str, int] = {}
    for case in CASES.values():
        key = f"exit {case.code}" + (" with a warning" if case.code == 0 and "warning" in case.says else "")
        outcomes[key] = outcomes.get(key, 0) + 1
    assert len(CASES) >= 25 and outcomes["exit 2"] >= 20, outcomes
