"""Checks of a user's file that need no pandas: the format by extension, that it exists, its header.

Both CLIs run them before the heavy imports, so a wrong path or a missing column is reported at once.
"""

from __future__ import annotations

import csv
from pathlib import Path

from e2e_common.errors import DataError

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
SUPPORTED_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES


def table_format(path: Path | str) -> str:
    """``csv`` or ``parquet`` from the file's extension; DataError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    raise DataError(f"{path}: unsupported file extension '{suffix}'; use one of {supported}")


def check_readable_file(path: Path | str) -> Path:
    """The path, if it names an existing, non-empty file of a supported format."""
    path = Path(path)
    table_format(path)
    if not path.exists():
        raise DataError(f"{path}: file not found; pass an existing CSV or Parquet file")
    if not path.is_file():
        raise DataError(f"{path}: not a file; pass a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    return path


def read_header(path: Path | str) -> list[str]:
    """The column names of a CSV file's first line or a Parquet file's schema, without reading rows."""
    path = check_readable_file(path)
    kind = table_format(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with open(path, newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as {kind.upper()} ({exc})") from exc
    except Exception as exc:  # pyarrow's own error types for a corrupt file
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError(f"{path}: cannot be read as {kind.upper()} ({str(exc).splitlines()[0]})") from exc
        raise
