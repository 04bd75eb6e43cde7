import pandas as pd
import pytest

from e2e_common.data import (
    DEFAULT_TARGET,
    default_inference_data,
    default_training_data,
    iter_table_chunks,
    load_default_dataset,
    read_table,
)
from e2e_common.errors import DataError


@pytest.fixture
def frame():
    return pd.DataFrame({"x": [1.0, 2.0, None], "color": ["red", "blue", None], "y": [0, 1, 0]})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_table_round_trips_csv_and_parquet(tmp_path, frame, suffix):
    path = tmp_path / f"data{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    read = read_table(path)
    assert list(read.columns) == ["x", "color", "y"]
    assert read["x"].isna().sum() == 1
    assert len(read) == 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunks_cover_every_row_in_order(tmp_path, suffix):
    frame = pd.DataFrame({"x": range(10)})
    path = tmp_path / f"data{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    chunks = list(iter_table_chunks(path, chunk_size=4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert pd.concat(chunks)["x"].tolist() == list(range(10))


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        read_table(tmp_path / "nope.csv")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match="unsupported file extension '.xlsx'"):
        read_table(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(path)


def test_header_only_csv_has_no_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_garbage_bytes(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DataError, match=f"cannot be read as {suffix[1:].upper()}"):
        read_table(path)


def test_default_slices_are_disjoint_and_deterministic():
    full = load_default_dataset()
    training, inference = default_training_data(), default_inference_data()
    assert len(training) + len(inference) == len(full)
    assert DEFAULT_TARGET not in inference.columns
    assert DEFAULT_TARGET in training.columns
    assert default_inference_data().equals(inference)
    features = [c for c in full.columns if c != DEFAULT_TARGET]
    overlap = training[features].merge(inference[features], how="inner")
    assert overlap.empty
