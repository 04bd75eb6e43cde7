"""Reading the training data and checking that a classifier can be trained on it.

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

    from e2e_common.schemas import DataContract


def read_training_data(path: Path | None) -> pd.DataFrame:
    """The rows of ``path``, or the default training data when there is no path."""
    from e2e_common.data import default_training_data, read_table

    return default_training_data() if path is None else read_table(Path(path))


def check_columns(columns: Sequence[str], target: str, drop_columns: Sequence[str] = ()) -> None:
    """DataError when the target is missing or dropped, or a column to drop is not in ``columns``."""
    if target not in columns:
        shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10 else "")
        raise DataError(f"target column '{target}' not found (columns: {shown}); pass --target")
    if target in drop_columns:
        raise DataError(f"cannot drop the target column '{target}' (setting 'drop_columns')")
    unknown = [name for name in drop_columns if name not in columns]
    if unknown:
        raise DataError(f"columns to drop not in the data: {', '.join(unknown)} (setting 'drop_columns')")


def check_file(options: DataOptions) -> None:
    """The checks of the data file that need only its header: run before anything heavy is imported."""
    if options.data is not None:
        check_columns(read_header(options.data), options.target, options.drop_columns)


def derive_contract(frame: pd.DataFrame, target: str, drop_columns: Sequence[str] = ()) -> DataContract:
    """The data contract of the columns kept, identifiers, constant and all-missing columns recorded as
    excluded (``e2e_training.screening``); DataError when no classifier can be trained on them."""
    from e2e_common.schemas import DataContract
    from e2e_training.screening import screen_columns

    check_columns(list(frame.columns), target, drop_columns)
    kept = frame.drop(columns=list(drop_columns))
    excluded = {item.column: item.reason for item in screen_columns(kept, target)}
    return DataContract.from_frame(kept, target, excluded_columns=excluded)


def load_checked(options: DataOptions, expected_fingerprint: str) -> tuple[pd.DataFrame, DataContract]:
    """The training rows and their data contract; DataError when the file changed since it was checked."""
    from e2e_common.data import frame_fingerprint

    frame = read_training_data(options.data)
    if frame_fingerprint(frame) != expected_fingerprint:
        raise DataError(f"{options.data}: the file changed after it was checked; run again")
    return frame, derive_contract(frame, options.target, options.drop_columns)
