"""The one check of the values in a table, before any pipeline: what the libraries cannot take.

Training runs ``check_table`` on the rows it read before the pipeline starts; scoring runs the same
per-column checks on every feature column of the rows to score (``DataContract.validate``, which
every scoring path goes through: the up-front check, each chunk of each partition, the drift check).

- column names: none empty, none repeated (``e2e_common.files.check_column_names``);
- ``inf`` and ``-inf`` in a numeric column: missing values, counted per column for a ``warning:`` line;
- finite numbers of magnitude ``LARGEST_MAGNITUDE`` (1e150) or more: a DataError naming the column and
  the value (squares of such numbers overflow float64 in scikit-learn's and Evidently's math);
- cells that are not scalars (lists, dicts or structs, bytes, arrays, other objects): reported, so that
  training leaves the column out of the features and scoring refuses it as a feature;
- a text column of numbers written with thousands separators or a decimal comma: a DataError;
- a target whose labels mix numbers, text and booleans, or are numbers that are not whole: a DataError.

Its only failure is ``DataError`` (exit 2): one line naming the column, the value and the fix.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from e2e_common.errors import DataError
from e2e_common.files import check_column_names, shown_name

# Beyond this magnitude float64 math in scikit-learn and Evidently overflows (a square is above 1e300).
LARGEST_MAGNITUDE = 1e150
# Whole numbers as float64 labels, exactly (2**53).
LARGEST_WHOLE_LABEL = 2.0**53
SCALAR_TYPES = (str, bool, int, float, decimal.Decimal, dt.date, dt.time, dt.timedelta, np.generic)
# pandas' inferred kinds of an object column that hold scalars only (no need to look at each cell).
SCALAR_KINDS = frozenset(
    {
        "string", "integer", "floating", "decimal", "boolean", "datetime64", "datetime", "date",
        "timedelta64", "timedelta", "time", "period", "complex", "empty",
        "mixed-integer-float",
    }
)
TYPE_WORDS = {
    list: "lists", tuple: "lists (tuples)", dict: "dicts (structs)", set: "sets", frozenset: "sets",
    bytes: "bytes", bytearray: "bytes", memoryview: "bytes", np.ndarray: "lists (arrays)",
}


@dataclass(frozen=True)
class CheckedTable:
    """A table that passed the check: infinities turned into missing values, column names as text,
    decimals as floats; what was found, per column."""

    frame: pd.DataFrame
    infinite: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """One line per column whose infinite values are read as missing."""
        return infinity_warnings(self.infinite)


def check_table(
    frame: pd.DataFrame, target: str | None = None, skip: Iterable[str] = (), task: str | None = None
) -> CheckedTable:
    """Check a table before training on it; DataError for what cannot be used, else the table to use.

    ``skip``: columns that are left out anyway (``--drop-columns``), whose values are not looked at.
    The target's values are checked too: no unsupported cell, one kind of value, infinities missing,
    and with ``task`` ``classification`` (``--task``) only class labels (no fractions).
    """
    check_column_names(list(frame.columns))
    frame = frame.set_axis([str(name) for name in frame.columns], axis=1)
    skipped = set(map(str, skip))
    infinite: dict[str, int] = {}
    unsupported: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        column = frame[name]
        if name in skipped:
            continue
        held = unsupported_values(column)
        if held is not None:
            if name == target:
                raise DataError(f"target column {shown_name(name)} holds {held}; its labels must be numbers or text")
            unsupported[name] = held
            continue
        if pd.api.types.infer_dtype(column, skipna=True) == "decimal":
            column = columns[name] = pd.to_numeric(column).astype("float64")
        if name == target:
            columns[name] = column = labels_of_one_kind(column, name, task)
            if is_number_column(column):
                check_magnitude(column, name)
        elif is_number_column(column):
            check_magnitude(column, name)
        else:
            check_numbers_as_text(column, name)
        count = infinite_count(column)
        if count:
            infinite[name] = count
            columns[name] = column.where(~_infinite_mask(column), np.nan)
    if columns:
        frame = frame.assign(**columns)
    return CheckedTable(frame=frame, infinite=infinite, unsupported=unsupported)


def is_number_column(column: pd.Series) -> bool:
    """A numeric dtype that is not boolean (nor complex)."""
    return (
        pd.api.types.is_numeric_dtype(column)
        and not pd.api.types.is_bool_dtype(column)
        and not pd.api.types.is_complex_dtype(column)
    )


def _infinite_mask(column: pd.Series) -> pd.Series:
    if not is_number_column(column) or not pd.api.types.is_float_dtype(column):
        return pd.Series(False, index=column.index)
    return pd.Series(np.isinf(column.to_numpy(dtype="float64", na_value=np.nan)), index=column.index)


def infinite_count(column: pd.Series) -> int:
    """How many ``inf`` and ``-inf`` a numeric column holds (0 for any other column)."""
    return int(_infinite_mask(column).sum())


def without_infinities(column: pd.Series) -> pd.Series:
    """The column with ``inf`` and ``-inf`` as missing values."""
    mask = _infinite_mask(column)
    return column.where(~mask, np.nan) if mask.any() else column


def check_magnitude(column: pd.Series, name: str) -> None:
    """DataError when a numeric column holds a finite number of magnitude ``LARGEST_MAGNITUDE`` or more."""
    if not is_number_column(column) or not pd.api.types.is_float_dtype(column):
        return  # integers of 64 bits stay below 1e20
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    huge = np.isfinite(values) & (np.abs(values) >= LARGEST_MAGNITUDE)
    if huge.any():
        value = float(values[huge][np.argmax(np.abs(values[huge]))])
        count = int(huge.sum())
        raise DataError(
            f"column {shown_name(name)} holds {value:g}{f' and {count - 1} more value(s)' if count > 1 else ''} "
            f"beyond ±{LARGEST_MAGNITUDE:g}, which the model's and the drift check's float math cannot take; "
            "rescale it (e.g. other units or a logarithm) or drop the column"
        )


PLAIN_NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
SEPARATED_NUMBER = r"[+-]?\d{1,3}([,.']\d{3})+([.,]\d+)?|[+-]?\d+,\d+"
HEAD_VALUES = 1000


def check_numbers_as_text(column: pd.Series, name: str) -> None:
    """DataError when a text column holds only numbers, some written with thousands separators or a
    decimal comma (``1,234.50``, ``1.234,5``, ``3,5``): read as text, they would be categories."""
    if column.dtype != object or pd.api.types.infer_dtype(column, skipna=True) != "string":
        return
    values = column.dropna()
    for part in (values.head(HEAD_VALUES), values):
        text = part.str.strip()
        separated = text.str.fullmatch(SEPARATED_NUMBER)
        if not (separated | text.str.fullmatch(PLAIN_NUMBER)).all():
            return
    if separated.any():
        example = text[separated].iloc[0]
        raise DataError(
            f"column {shown_name(name)} holds numbers written with separators (e.g. '{example}'), which would "
            "be read as text; write them as plain numbers (1234.5) or drop the column"
        )


def unsupported_values(column: pd.Series) -> str | None:
    """What a column holds that is not a scalar (``lists``, ``dicts (structs)``, ``bytes``...), or None."""
    if column.dtype != object:
        return None
    if pd.api.types.infer_dtype(column, skipna=True) in SCALAR_KINDS:
        return None
    for value in column:
        if value is None or value is pd.NA or value is pd.NaT:
            continue
        if isinstance(value, np.generic):
            if value.dtype.kind in "SV":
                return f"bytes, e.g. {_short(value.item())}"
            if value.dtype.kind == "O":
                return "objects"
            continue
        if isinstance(value, SCALAR_TYPES):
            continue
        for kind_type, word in TYPE_WORDS.items():
            if isinstance(value, kind_type):
                return f"{word}, e.g. {_short(value)}"
        return f"'{type(value).__name__}' objects"
    return None


def _short(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 40 else text[:37] + "..."


LABEL_KINDS = (("booleans", (bool, np.bool_)), ("numbers", (int, float, np.number)), ("text", (str,)))


def labels_of_one_kind(column: pd.Series, name: str, task: str | None = None) -> pd.Series:
    """The target's values, when they are of one kind (numbers, text or booleans); DataError otherwise.

    An object column holding only numbers (or only booleans) gets its numeric (boolean) dtype, as
    scikit-learn expects of targets. With ``task`` ``classification`` numbers must be whole (a
    classifier's labels are not measures); otherwise fractions make the target a regression's.
    """
    found: dict[str, Any] = {}
    for value in column.dropna() if column.dtype == object else ():
        for word, types in LABEL_KINDS:
            if isinstance(value, types):
                found.setdefault(word, value)
                break
        else:
            found.setdefault(f"'{type(value).__name__}' values", value)
    if len(found) > 1:
        shown = " and ".join(f"{word} (e.g. {_plain(value)!r})" for word, value in found.items())
        raise DataError(f"target column {shown_name(name)} mixes {shown}; make its labels one kind")
    column = column.infer_objects() if found and "text" not in found else column
    if task == "classification" and is_number_column(column) and pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[np.isfinite(values)]
        odd = finite[(finite != np.round(finite)) | (np.abs(finite) >= LARGEST_WHOLE_LABEL)]
        if odd.size:
            raise DataError(
                f"target column {shown_name(name)} holds {odd[0]:g}, which is not a class label: --task classification "
                "needs labels that are text or whole numbers; leave --task out to predict the numbers (a regression)"
            )
    return column


def labelled_rows(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows that have a label, the target's dtype inferred again: booleans (or numbers) that were
    objects beside missing labels become a bool (numeric) column, as scikit-learn needs of labels."""
    rows = frame[frame[target].notna()]
    if rows[target].dtype == object:
        rows = rows.assign(**{target: rows[target].infer_objects()})
    return rows


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def infinity_warnings(infinite: dict[str, int], sample_rows: int | None = None) -> list[str]:
    """One ``warning:`` text per column whose infinite values are read as missing values (counted in a
    sample of ``sample_rows`` rows, when given)."""
    where = f" in a sample of {sample_rows} rows" if sample_rows is not None else ""
    return [
        f"column {shown_name(name)} holds {count} infinite value(s) (inf or -inf){where}, read as missing values"
        for name, count in infinite.items()
    ]
