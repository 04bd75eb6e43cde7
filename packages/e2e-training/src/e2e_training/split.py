"""A stable train/holdout split: each row's side follows from a hash of its own values.

A row keeps its side when rows are added or removed, so versions trained on a growing data set
can be compared on rows that none of them trained on: those whose bucket is below the smallest
holdout fraction of the versions compared. The side does not depend on the class, so each class
is held out in about the same fraction (close to stratified).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from e2e_common.checks import labelled_rows
from e2e_common.errors import DataError
from e2e_common.schemas import DataContract
from e2e_training.settings import SplitOptions

SPLIT_SCHEME = "row-hash-v1"
MISSING = "\x00missing"
NUMBER_FORMAT = "{:.12g}"
# With this few distinct rows an empty side of the split is their doing, not the row count's.
DISTINCT_ROWS_SHOWN = 20


@dataclass(frozen=True)
class SplitInfo:
    """How a model version's holdout was drawn: stored as model-version metadata."""

    holdout_fraction: float
    train_rows: int
    holdout_rows: int
    scheme: str = SPLIT_SCHEME

    @classmethod
    def of(cls, options: SplitOptions, train_rows: int, holdout_rows: int) -> SplitInfo:
        return cls(options.test_size, train_rows, holdout_rows)

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def holdout_fraction_of(cls, metadata: object) -> float | None:
        """The holdout fraction recorded in ``metadata``, if it was split by this scheme."""
        if not isinstance(metadata, dict) or metadata.get("scheme") != SPLIT_SCHEME:
            return None
        try:
            return float(cls(**metadata).holdout_fraction)
        except (TypeError, ValueError):
            return None


def row_buckets(frame: pd.DataFrame) -> pd.Series:
    """A number in [0, 1) per row, computed from the row's raw values (target included)."""
    hashes = pd.util.hash_pandas_object(_canonical(frame), index=False).to_numpy(dtype=np.uint64)
    return pd.Series(hashes / float(2**64), index=frame.index, name="bucket")


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text that does not depend on the file format: numbers to 12 significant digits."""
    columns = {}
    for name in sorted(frame.columns, key=str):
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            text = column.astype("float64").map(NUMBER_FORMAT.format, na_action="ignore")
        else:
            text = column.astype("object").map(str, na_action="ignore")
        columns[str(name)] = text.astype("object").where(column.notna(), MISSING)
    return pd.DataFrame(columns, index=frame.index)


def split_rows(frame: pd.DataFrame, test_size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train rows and the holdout rows (bucket below ``test_size``)."""
    held_out = row_buckets(frame) < test_size
    return frame[~held_out], frame[held_out]


def rows_held_out_by_both(holdout: pd.DataFrame, fraction: float, other_fraction: float) -> pd.DataFrame:
    """Rows of ``holdout`` that neither of two versions split with these fractions trained on."""
    return holdout[row_buckets(holdout) < min(fraction, other_fraction)]


def rows_without_target(frame: pd.DataFrame, target: str) -> int:
    """How many rows have no target value: they are left out of both sides of the split."""
    return int(frame[target].isna().sum())


def drop_missing(frame: pd.DataFrame, contract: DataContract, drop_na: bool) -> pd.DataFrame:
    """Rows without a missing target, and with ``drop_na`` also without a missing feature; the target's
    dtype inferred again (booleans beside missing labels were objects, which scikit-learn refuses), a
    regression's target as floats."""
    rows = labelled_rows(frame, contract.target)
    if contract.is_regression:
        rows = rows.assign(**{contract.target: pd.to_numeric(rows[contract.target]).astype("float64")})
    return rows.dropna(subset=contract.feature_names) if drop_na else rows


def prepare_splits(
    frame: pd.DataFrame, contract: DataContract, options: SplitOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and holdout rows, missing values handled; DataError when either cannot serve."""
    test_size, drop_na = options.test_size, not options.no_drop_na
    train, holdout = (drop_missing(part, contract, drop_na) for part in split_rows(frame, test_size))
    hint = "" if not drop_na else " or pass --no-drop-na to impute missing values"
    if train.empty or holdout.empty:
        side = "train split" if train.empty else "holdout"
        distinct = int(row_buckets(frame).nunique()) if len(frame) else 0
        if len(frame) > 1 and distinct < len(frame) and distinct <= DISTINCT_ROWS_SHOWN:
            raise DataError(
                f"the {side} is empty: the {len(frame)} rows are only {distinct} distinct rows, and copies of a "
                f"row are always on the same side of the split; use more varied rows"
            )
        raise DataError(
            f"the {side} is empty ({len(frame)} rows, --test-size {test_size}); "
            f"use more rows or another --test-size{hint}"
        )
    if train[contract.target].nunique() < 2:
        what = "one value" if contract.is_regression else "only one class"
        raise DataError(f"the train split has {what} of '{contract.target}'; use more rows{hint}")
    return train, holdout
