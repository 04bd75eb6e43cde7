"""The rows to score: a CSV or Parquet file, or the held-out slice of the default data set."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from e2e_common.checks import infinity_warnings
from e2e_common.data import default_inference_data, file_fingerprint, frame_fingerprint, read_table
from e2e_common.errors import DataError
from e2e_common.files import check_readable_file
from e2e_common.schemas import DataContract, ValidatedRows
from e2e_inference.columns import check_id_column
from e2e_inference.sources import InputReference, sample_input

DEFAULT_SOURCE = "the held-out slice of the default data set"
# Rows of a large input that e2e-infer checks before the pipeline starts (the rest as it is scored).
UP_FRONT_SAMPLE_ROWS = 1000


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
    path = check_readable_file(path if isinstance(path, str) else Path(path))
    return InputRows(frame=read_table(path), source=str(path), fingerprint=file_fingerprint(path))


def check_rows(
    rows: pd.DataFrame,
    contract: DataContract,
    id_column: str | None,
    source: str,
    warn: Callable[[str], None] | None = None,
) -> ValidatedRows:
    """Validate rows against the contract (DataError naming columns) and check the id column.

    The contract's check is ``e2e_common.checks``' on each feature column: a cell that is not a scalar
    or a number beyond ±1e150 is a DataError naming the column; ``inf`` and ``-inf`` are read as
    missing values, and ``warn`` gets a ``warning:`` line per column naming the count (default:
    ``default_warn``).
    """
    try:
        validated = contract.validate(rows)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from exc
    check_id_column(id_column, list(rows.columns), source)
    say = default_warn() if warn is None else warn
    for line in infinity_warnings(validated.infinite):
        say(f"warning: {source}: {line}")
    return validated


def default_warn() -> Callable[[str], None]:
    """``print`` before the pipeline (e2e-infer's own output); inside a step, the step's log only:
    the CLI printed the same lines when it checked the rows up front."""
    import sys

    if "zenml" in sys.modules:
        from zenml.steps import get_step_context

        try:
            get_step_context()
        except RuntimeError:
            return print
        return logging.getLogger(__name__).info
    return print


def rows_to_score(rows: pd.DataFrame, contract: DataContract, id_column: str | None) -> pd.DataFrame:
    """The feature columns of ``rows`` in contract order, plus the id column when it is not one."""
    keep = list(contract.feature_names)
    if id_column is not None and id_column not in keep:
        keep.append(id_column)
    return rows[keep]


def drift_sample(source: InputReference, contract: DataContract, id_column: str | None, max_rows: int) -> pd.DataFrame:
    """A bounded deterministic sample of an input recorded by reference, checked against the
    contract: the drift check's rows."""
    sample = sample_input(source, max_rows)
    check_rows(sample, contract, id_column, source.uri)
    return rows_to_score(sample, contract, id_column)


def check_columns(
    source: InputReference,
    contract: DataContract,
    id_column: str | None,
    warn: Callable[[str], None] | None = None,
    sample_rows: int = UP_FRONT_SAMPLE_ROWS,
) -> None:
    """DataError naming the contract's feature columns (and the id column) a referenced input lacks,
    or the values of a bounded sample of it (at most ``sample_rows``, read from evenly spaced blocks,
    never the whole file) that the contract's check refuses; the whole input is checked again chunk
    by chunk as each partition is read, before anything is published."""
    missing = [name for name in contract.feature_names if name not in source.columns]
    if missing:
        raise DataError(f"{source.uri}: missing feature columns: {', '.join(missing)}")
    check_id_column(id_column, source.columns, source.uri)
    sample = sample_input(source, sample_rows)
    try:
        validated = contract.validate(sample)
    except DataError as exc:
        raise DataError(f"{source.uri}: {exc}") from exc
    say = default_warn() if warn is None else warn
    for line in infinity_warnings(validated.infinite, sample_rows=len(sample)):
        say(f"warning: {source.uri}: {line}")

