"""Atomic writes of the predictions file and score_chunk, without ZenML."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixture_versions import CATEGORICAL_DATA, DEFAULT_DATA, fit_tiny_version

from e2e_common.data import default_inference_data
from e2e_common.errors import DataError
from e2e_inference.names import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTION_ID_COLUMN,
    probability_column,
)
from e2e_inference.output import (
    OutputTarget,
    check_distinct_paths,
    check_output_path,
    remove_stale_temporaries,
    same_file,
    temporary_path,
    write_table_atomically,
)
from e2e_inference.predict import score_chunk

PREDICTIONS = pd.DataFrame({"id": [1, 2], "predicted_class": ["a", "b"], "proba_a": [0.9, 0.2]})


@pytest.mark.parametrize("name", ["out.csv", "out.parquet", "out.pq"])
def test_write_round_trips(tmp_path, name):
    path = write_table_atomically(PREDICTIONS, tmp_path / name)
    read = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
    pd.testing.assert_frame_equal(read, PREDICTIONS)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_written_file_gets_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = write_table_atomically(PREDICTIONS, tmp_path / "out.csv")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.parquet"
    write_table_atomically(PREDICTIONS, path)
    before = path.read_bytes()
    unwritable = pd.DataFrame({"mixed": [1, "a", object()]})
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error type
        write_table_atomically(unwritable, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_output_path_checks(tmp_path):
    with pytest.raises(DataError, match="unsupported file extension '.json'"):
        check_output_path(tmp_path / "out.json")
    with pytest.raises(DataError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.csv")
    assert not (tmp_path / "out.json").exists()


def test_output_paths_that_cannot_take_a_file_are_named(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match="is a folder \\(setting 'output'\\)"):
        check_output_path(tmp_path / "folder.csv")
    with pytest.raises(DataError, match="is a folder \\(setting 'report'\\)"):
        check_output_path(tmp_path / "folder.csv", setting="report", table=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DataError, match="afile is not a folder"):
        check_output_path(tmp_path / "afile" / "out.csv")
    assert check_output_path(tmp_path / "report.html", setting="report", table=False).name == "report.html"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # the probe is gone


def test_the_same_file_through_links_and_relative_paths(tmp_path, monkeypatch):
    data = tmp_path / "rows.csv"
    data.write_text("a\n1\n")
    (tmp_path / "link.csv").symlink_to(data)
    import os

    os.link(data, tmp_path / "hard.csv")
    monkeypatch.chdir(tmp_path)
    for other in ("link.csv", "hard.csv", "./rows.csv", "rows.csv"):
        assert same_file(Path(other), data)
        with pytest.raises(DataError, match=re.escape(f"--output {Path(other)} is the same file as --data {data}")):
            check_distinct_paths({"data": data, "output": Path(other)}, ["output"])
    assert not same_file(tmp_path / "new.csv", data)
    check_distinct_paths({"data": data, "output": tmp_path / "new.csv", "report": None}, ["output", "report"])
    with pytest.raises(DataError, match=re.escape("--output r.html is the same file as --report r.html")):
        check_distinct_paths({"output": Path("r.html"), "report": Path("r.html")}, ["output", "report"])


def test_stale_temporary_files_of_gone_processes_are_removed_and_others_kept(tmp_path):
    import os
    import subprocess

    output = tmp_path / "out.csv"
    gone = subprocess.Popen(["true"])
    gone.wait()
    ours = temporary_path(output)
    stale = ours.with_name(ours.name.replace(f"-{os.getpid()}-", f"-{gone.pid}-"))
    alive = ours.with_name(ours.name.replace(f"-{os.getpid()}-", f"-{os.getppid()}-"))
    other_host = tmp_path / f".out.csv.e2e-{gone.pid}-elsewhere.tmp"
    other_file = tmp_path / f".other.csv.e2e-{gone.pid}-x.tmp"
    for path in (stale, alive, other_host, other_file):
        path.write_text("partial")
    assert remove_stale_temporaries(output) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (alive, other_host, other_file))


def test_a_write_that_fails_leaves_no_temporary_file_and_names_the_cause(tmp_path):
    import errno

    target = OutputTarget.for_path(tmp_path / "out.csv")

    def full(temporary: str) -> None:
        Path(temporary).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DataError, match="out.csv: cannot be written \\(No space left on device\\)"):
        target.write(full)
    assert list(tmp_path.iterdir()) == []
    target.write_table(PREDICTIONS)
    assert Path(target.temporary).exists() and not (tmp_path / "out.csv").exists()
    target.publish()
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.fixture(scope="module")
def default_fit():
    _, preprocess, model, *_ = fit_tiny_version(DEFAULT_DATA, 1, 1.0)
    return preprocess, model


def test_score_chunk_columns_ids_and_probabilities(default_fit):
    preprocess, model = default_fit
    rows = default_inference_data()
    predictions = score_chunk(rows, preprocess, model, model_name="m", model_version="7")
    assert list(predictions.columns) == [
        PREDICTION_ID_COLUMN, PREDICTED_CLASS_COLUMN, probability_column(0), probability_column(1),
        MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN,
    ]
    assert predictions[PREDICTION_ID_COLUMN].tolist() == list(range(len(rows)))
    assert set(predictions[MODEL_VERSION_COLUMN]) == {"7"} and set(predictions[MODEL_NAME_COLUMN]) == {"m"}
    np.testing.assert_allclose(predictions[[probability_column(0), probability_column(1)]].sum(axis=1), 1.0)
    assert predictions[PREDICTED_CLASS_COLUMN].tolist() == model.predict(preprocess.transform(rows)).tolist()


def test_score_chunk_by_chunks_equals_one_pass(default_fit):
    preprocess, model = default_fit
    rows = default_inference_data()
    whole = score_chunk(rows, preprocess, model, model_name="m", model_version="1")
    chunks = [
        score_chunk(rows.iloc[start : start + 10], preprocess, model, model_name="m", model_version="1", first_row=start)
        for start in range(0, len(rows), 10)
    ]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_score_chunk_passes_the_id_column_through_and_scores_unseen_categories():
    _, preprocess, model, *_ = fit_tiny_version(CATEGORICAL_DATA, 1, 1.0)
    rows = pd.DataFrame(
        {"key": ["k1", "k2"], "size": [9.0, 12.0], "weight": [50.0, 51.0], "color": ["purple", "red"],
         "fragile": [True, False]}
    )
    predictions = score_chunk(rows, preprocess, model, model_name="m", model_version="3", id_column="key")
    assert predictions["key"].tolist() == ["k1", "k2"] and PREDICTION_ID_COLUMN not in predictions
    assert set(predictions[PREDICTED_CLASS_COLUMN]) <= {"high", "low", "mid"}
    with pytest.raises(DataError, match="id column 'nope'"):
        score_chunk(rows, preprocess, model, model_name="m", model_version="3", id_column="nope")


def test_the_default_id_column_is_a_recorded_identifier_the_rows_carry():
    from e2e_inference.columns import default_id_column

    excluded = {"notes": "all missing", "row": "identifier", "customer_id": "identifier"}
    assert default_id_column(excluded, ["x", "notes", "customer_id", "row"]) == "row"
    assert default_id_column(excluded, ["x", "customer_id"]) == "customer_id"
    assert default_id_column(excluded, ["x", "notes"]) is None
    assert default_id_column({}, ["x", "row"]) is None
    # A name the predictions use is never taken by default.
    assert default_id_column({PREDICTED_CLASS_COLUMN: "identifier"}, [PREDICTED_CLASS_COLUMN]) is None
