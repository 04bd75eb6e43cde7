"""Writing the predictions to a user's file: CSV or Parquet by extension, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from e2e_common.data import table_format
from e2e_common.errors import DataError


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
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        if kind == "csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
        raise
    return path
