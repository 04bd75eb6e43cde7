"""Reading the training data and checking that a model (classifier or regressor) can be trained on it.

pandas is imported where rows are read, so ``check_file`` runs before any heavy import.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from e2e_common.errors import DataError
from e2e_common.files import read_header
from e2e_training.settings import DataOptions

if TYPE_CHECKING:
    import pandas as pd

    from e2e_common.checks import CheckedTable
    from e2e_common.schemas import DataContract


def read_training_data(path: Path | str | None) -> pd.DataFrame:
    """The rows of ``path`` (a local path or an object URI), or the default training data when there is no path."""
    from e2e_common.data import default_training_data, read_table

    return default_training_data() if path is None else read_table(path)


def load_training_table(options: DataOptions) -> CheckedTable:
    """The rows to train on, checked (``e2e_common.checks``): infinities read as missing values, the
    columns holding values that are not scalars reported; DataError for what cannot be trained on."""
    from e2e_common.checks import check_table

    frame = read_training_data(options.data)
    check_columns(list(frame.columns), options.target, options.drop_columns)
    checked = check_table(frame, options.target, skip=options.drop_columns, task=options.task)
    check_rows_differ(checked.frame, [*options.drop_columns, *checked.unsupported])
    return checked


def check_rows_differ(frame: pd.DataFrame, ignored: Sequence[str] = ()) -> None:
    """DataError when every row is the same (their side of the split, their class: all the same)."""
    if len(frame) < 2:
        return
    compared = frame.drop(columns=[name for name in ignored if name in frame.columns])
    if compared.shape[1] and compared.duplicated(keep="first").iloc[1:].all():
        raise DataError(f"all {len(frame)} rows are identical; a model needs rows that differ")


def check_columns(columns: Sequence[str], target: str, drop_columns: Sequence[str] = ()) -> None:
    """DataError when the target is missing or dropped, or a column to drop is not in ``columns``."""
    if target not in columns:
        shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10 else "")
        raise DataError(
            f"target column '{target}' not found (columns: {shown}){_spelled_otherwise([target], columns)}; "
            "pass --target"
        )
    if target in drop_columns:
        raise DataError(f"cannot drop the target column '{target}' (setting 'drop_columns')")
    unknown = [name for name in drop_columns if name not in columns]
    if unknown:
        raise DataError(
            f"columns to drop not in the data: {', '.join(unknown)}{_spelled_otherwise(unknown, columns)} "
            "(setting 'drop_columns')"
        )


def _spelled_otherwise(wanted: Sequence[str], columns: Sequence[str]) -> str:
    """A hint when a wanted column is in the data under a name that differs only in spaces or case."""
    present = {str(name).strip().casefold(): str(name) for name in columns}
    near = [(name, present[name.strip().casefold()]) for name in wanted if name.strip().casefold() in present]
    if not near:
        return ""
    shown = ", ".join(f"'{found}' for '{name}'" for name, found in near)
    return f"; the data has {shown}: names must match exactly, spaces and case included"


def check_file(options: DataOptions) -> None:
    """The checks of the data file that need only its header: run before anything heavy is imported."""
    if options.data is not None:
        check_columns(read_header(options.data), options.target, options.drop_columns)


def derive_contract(
    frame: pd.DataFrame, target: str, drop_columns: Sequence[str] = (), task: str | None = None
) -> DataContract:
    """The data contract of the columns kept, identifiers, constant and all-missing columns recorded as
    excluded (``e2e_training.screening``), its task read from the target unless ``task`` (``--task``)
    says; DataError when no model can be trained on them."""
    from e2e_common.schemas import DataContract
    from e2e_training.screening import screen_columns

    check_columns(list(frame.columns), target, drop_columns)
    kept = frame.drop(columns=list(drop_columns))
    excluded = {item.column: item.reason for item in screen_columns(kept, target)}
    return DataContract.from_frame(kept, target, excluded_columns=excluded, task=task)


def load_checked(options: DataOptions, expected_fingerprint: str) -> tuple[pd.DataFrame, DataContract]:
    """The training rows and their data contract; DataError when the file changed since it was checked."""
    from e2e_common.data import frame_fingerprint

    frame = load_training_table(options).frame
    if frame_fingerprint(frame) != expected_fingerprint:
        raise DataError(f"{options.data}: the file changed after it was checked; run again")
    return frame, derive_contract(frame, options.target, options.drop_columns, options.task)
