"""The rows to score: a CSV or Parquet file, or the held-out slice of the default data set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from e2e_common.data import default_inference_data, file_fingerprint, frame_fingerprint, read_table
from e2e_common.errors import DataError
from e2e_common.files import check_readable_file
from e2e_common.schemas import DataContract, ValidatedRows
from e2e_inference.columns import check_id_column
from e2e_inference.sources import InputReference

DEFAULT_SOURCE = "the held-out slice of the default data set"


@dataclass(frozen=True)
class InputRows:
    """Rows as read, where they came from and a fingerprint of their content."""

    frame: pd.DataFrame
    source: str
    fingerprint: str


def read_input(path: Path | str | None) -> InputRows:
    """Read ``path`` (CSV or Parquet, by extension), or the default held-out slice when None."""
    if path is None:
        frame = default_inference_data()
        return InputRows(frame=frame, source=DEFAULT_SOURCE, fingerprint=frame_fingerprint(frame))
    path = check_readable_file(Path(path))
    return InputRows(frame=read_table(path), source=str(path), fingerprint=file_fingerprint(path))


def check_rows(rows: pd.DataFrame, contract: DataContract, id_column: str | None, source: str) -> ValidatedRows:
    """Validate rows against the contract (DataError naming columns) and check the id column."""
    try:
        validated = contract.validate(rows)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from exc
    check_id_column(id_column, list(rows.columns), source)
    return validated


def rows_to_score(rows: pd.DataFrame, contract: DataContract, id_column: str | None) -> pd.DataFrame:
    """The feature columns of ``rows`` in contract order, plus the id column when it is not one."""
    keep = list(contract.feature_names)
    if id_column is not None and id_column not in keep:
        keep.append(id_column)
    return rows[keep]


def check_columns(source: InputReference, contract: DataContract, id_column: str | None) -> None:
    """DataError naming the contract's feature columns (and the id column) a referenced input lacks."""
    missing = [name for name in contract.feature_names if name not in source.columns]
    if missing:
        raise DataError(f"{source.uri}: missing feature columns: {', '.join(missing)}")
    check_id_column(id_column, source.columns, source.uri)

