"""Writing the predictions to a user's file: CSV or Parquet by extension, atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from e2e_common.errors import DataError
from e2e_common.files import table_format


def check_output_path(path: Path) -> Path:
    """The path, if its extension is supported and its folder exists; DataError otherwise."""
    path = Path(path)
    table_format(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder (setting 'output'); pass a file path ending in .csv or .parquet")
    if not path.parent.is_dir():
        raise DataError(f"{path}: folder {path.parent} does not exist (setting 'output'); create it first")
    return path


def write_table_atomically(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path``: a temporary file in the same folder, then a rename.

    A reader sees the old file or the whole new one, never a partial one; on failure nothing is left.
    """
    path = check_output_path(path)
    kind = table_format(path)

    def write(temporary: str) -> None:
        if kind == "csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)

    return _replace_atomically(path, write)


def write_text_atomically(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` (UTF-8): a temporary file in the same folder, then a rename."""
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"{path}: folder {path.parent} does not exist; create it first")
    return _replace_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def _replace_atomically(path: Path, write: Callable[[str], None]) -> Path:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
        raise
    return path


class ScoredPart(BaseModel):
    """Predictions of one partition, written as Parquet beside the step's output artifact."""

    model_config = ConfigDict(frozen=True)

    index: int
    uri: str
    rows: int


class PredictionsReference(BaseModel):
    """The ``predictions`` of a large input: Parquet parts in the artifact store, not a second copy.

    ``read()`` loads them into one DataFrame; ``iter_frames()`` streams them part by part.
    """

    model_config = ConfigDict(frozen=True)

    parts: list[ScoredPart]
    rows: int
    columns: list[str]
    model_version: str
    input_fingerprint: str

    def iter_frames(self) -> Iterator[pd.DataFrame]:
        for table in iter_part_tables(self.parts):
            yield table.to_pandas()

    def read(self) -> pd.DataFrame:
        frames = list(self.iter_frames())
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=self.columns)


def write_part(frames: Iterable[pd.DataFrame], uri: str) -> int:
    """Stream DataFrames into one Parquet file at ``uri`` (any artifact store); the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from zenml.io import fileio

    rows = 0
    writer = None
    with fileio.open(uri, "wb") as sink:
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(sink, table.schema)
                elif table.schema != writer.schema:
                    table = table.cast(writer.schema)
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
    return rows


def iter_part_tables(parts: Iterable[ScoredPart]) -> Iterator[Any]:
    """The record batches of the parts, in order, as pyarrow Tables of bounded size."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from zenml.io import fileio

    for part in sorted(parts, key=lambda p: p.index):
        if part.rows == 0:
            continue
        with fileio.open(part.uri, "rb") as source:
            for batch in pq.ParquetFile(source).iter_batches():
                yield pa.Table.from_batches([batch])


def write_parts_atomically(parts: Iterable[ScoredPart], path: Path) -> Path:
    """Stream the parts into ``path`` (CSV or Parquet by extension): a temporary file, then a rename."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = check_output_path(path)
    kind = table_format(path)

    def write(temporary: str) -> None:
        writer = None
        try:
            for table in iter_part_tables(parts):
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(temporary, schema) if kind == "parquet" else (
                        pacsv.CSVWriter(temporary, schema)
                    )
                writer.write_table(table if table.schema == schema else table.cast(schema))
        finally:
            if writer is not None:
                writer.close()

    return _replace_atomically(path, write)


def _umask() -> int:
    """The process umask (a temporary file is created 0600; the result gets the usual mode)."""
    current = os.umask(0)
    os.umask(current)
    return current
