"""Large inputs as plain functions: reference, partitions, chunks and the bounded drift sample."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e2e_common.errors import DataError
from e2e_inference.sources import iter_partition_chunks, plan_partitions, reference_input, sample_input


def numbered_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"n": np.arange(rows), "x": rng.normal(size=rows), "word": [f"w{i % 7}" for i in range(rows)]})


def write_parquet(frame: pd.DataFrame, path, row_group_rows: int):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_rows)
    return path


def read_back(partitions, chunk_size) -> pd.DataFrame:
    return pd.concat(
        [chunk for partition in partitions for chunk in iter_partition_chunks(partition, chunk_size)],
        ignore_index=True,
    )


def test_reference_records_size_rows_columns_and_sha256(tmp_path):
    path = tmp_path / "rows.csv"
    numbered_frame(50).to_csv(path, index=False)
    source = reference_input(path)
    assert (source.rows, source.columns, source.size_bytes) == (50, ["n", "x", "word"], path.stat().st_size)
    assert source.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.format == "csv" and not source.quoted


@pytest.mark.parametrize("partitions", [1, 2, 3, 8])
def test_parquet_partitions_cover_every_row_once_in_order(tmp_path, partitions):
    frame = numbered_frame(1000)
    source = reference_input(write_parquet(frame, tmp_path / "rows.parquet", row_group_rows=100))
    planned = plan_partitions(source, partitions)
    assert len(planned) == min(partitions, 10)
    assert [p.first_row for p in planned] == list(np.cumsum([0] + [p.rows for p in planned[:-1]]))
    back = read_back(planned, chunk_size=37)
    pd.testing.assert_frame_equal(back, frame)


@pytest.mark.parametrize("partitions", [1, 2, 5])
def test_csv_partitions_split_at_line_boundaries(tmp_path, partitions):
    frame = numbered_frame(997)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    planned = plan_partitions(reference_input(path), partitions)
    assert len(planned) == partitions
    assert sum(p.rows for p in planned) == 997
    assert [p.first_row for p in planned][1:] == list(np.cumsum([p.rows for p in planned])[:-1])
    pd.testing.assert_frame_equal(read_back(planned, chunk_size=50), frame)


def test_csv_with_quoted_fields_is_one_partition(tmp_path):
    frame = numbered_frame(30).assign(word=['say "hi",\nthere'] * 30)
    path = tmp_path / "quoted.csv"
    frame.to_csv(path, index=False)
    planned = plan_partitions(reference_input(path), 4)
    assert len(planned) == 1
    pd.testing.assert_frame_equal(read_back(planned, chunk_size=7), frame)


def test_sample_is_bounded_deterministic_and_spread(tmp_path):
    frame = numbered_frame(20_000)
    source = reference_input(write_parquet(frame, tmp_path / "rows.parquet", row_group_rows=1000))
    sample = sample_input(source, 500)
    assert len(sample) == 500
    assert sample.equals(sample_input(source, 500))
    assert sample["n"].min() < 1000 and sample["n"].max() > 19_000
    csv_path = tmp_path / "rows.csv"
    frame.to_csv(csv_path, index=False)
    csv_sample = sample_input(reference_input(csv_path), 500)
    assert len(csv_sample) == 500 and csv_sample["n"].max() > 18_000


def test_unreadable_csv_content_is_a_data_error(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('n,x\n1,2\n"3,4\n')
    planned = plan_partitions(reference_input(path), 2)
    with pytest.raises(DataError, match="broken.csv: cannot be read as CSV"):
        read_back(planned, chunk_size=10)
