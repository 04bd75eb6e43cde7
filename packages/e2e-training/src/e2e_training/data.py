"""Reading the training data and checking that a classifier can be trained on it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from e2e_common.data import default_training_data, frame_fingerprint, read_table
from e2e_common.errors import DataError
from e2e_common.schemas import DataContract
from e2e_training.settings import DataOptions


def read_training_data(path: Path | None) -> pd.DataFrame:
    """The rows of ``path``, or the default training data when there is no path."""
    return default_training_data() if path is None else read_table(Path(path))


def derive_contract(frame: pd.DataFrame, target: str, drop_columns: Sequence[str] = ()) -> DataContract:
    """The data contract of the columns kept; DataError when no classifier can be trained on them."""
    if target in drop_columns:
        raise DataError(f"cannot drop the target column '{target}' (setting 'drop_columns')")
    unknown = [name for name in drop_columns if name not in frame.columns]
    if unknown:
        raise DataError(f"columns to drop not in the data: {', '.join(unknown)} (setting 'drop_columns')")
    return DataContract.from_frame(frame.drop(columns=list(drop_columns)), target)


def load_checked(options: DataOptions, expected_fingerprint: str) -> tuple[pd.DataFrame, DataContract]:
    """The training rows and their data contract; DataError when the file changed since it was checked."""
    frame = read_training_data(options.data)
    if frame_fingerprint(frame) != expected_fingerprint:
        raise DataError(f"{options.data}: the file changed after it was checked; run again")
    return frame, derive_contract(frame, options.target, options.drop_columns)
