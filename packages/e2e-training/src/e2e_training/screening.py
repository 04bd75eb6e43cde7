"""Columns of the training data that never become features, and the warnings about the data.

A column is left out of the features, with a warning, and recorded in the data contract's
``excluded_columns`` with its reason (docs/contract.md, "The data contract"):

- ``all missing``: it has no value;
- ``not scalar``: it holds values that are not one number, text or boolean each (lists, dicts or
  structs, bytes: ``e2e_common.checks.unsupported_values``);
- ``constant``: it has one distinct value, missing values aside;
- ``identifier``: its name's last word is ``id``, ``uuid`` or ``guid`` (``id``, ``customer_id``,
  ``customerId``, ``CustomerID``, ``order-uuid``; not ``paid`` or ``valid``), or it has at least
  ``MIN_ROWS_FOR_UNIQUE`` values, all different, that are text, or integers that fill at least half
  of the span between their smallest and largest (``1, 2, 3, ...`` or a slice of such a sequence).
  Floats never count: measures are naturally all different, and so are integers spread over a
  wide span (amounts, timestamps), which the span rule keeps as features;
- ``free text``: text with at least ``FREE_TEXT_MIN_LEVELS`` (1000) distinct values that are at least half
  of its values (comments, addresses, descriptions): most of its levels are seen once or twice, so
  they teach the model nothing and rows to score bring new ones; one-hot encoding them would also
  take memory in proportion to rows times levels.

Checked in that order; the target is never left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from e2e_common.checks import unsupported_values
from e2e_common.contract import IDENTIFIER_REASON
from e2e_common.schemas import DataContract, FeatureKind, plain_value

ALL_MISSING = "all missing"
NOT_SCALAR = "not scalar"
CONSTANT = "constant"
IDENTIFIER = IDENTIFIER_REASON
FREE_TEXT = "free text"
FREE_TEXT_MIN_LEVELS = 1000
FREE_TEXT_SHARE = 0.5
# Fewer values than this are all different by chance too often (a 20-row table's counts or ranks).
MIN_ROWS_FOR_UNIQUE = 100
ID_WORDS = frozenset({"id", "uuid", "guid"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True)
class Exclusion:
    """A column left out of the features: why (the reason recorded in the contract) and what showed it."""

    column: str
    reason: str
    detail: str

    def warning(self) -> str:
        text = f"column '{self.column}' is not a feature: {self.reason} ({self.detail})"
        if self.reason == IDENTIFIER:
            text += "; e2e-infer uses it as the id column of the predictions when the rows to score carry it"
        return text


def is_id_name(name: str) -> bool:
    """Whether the last word of ``name`` (words split at ``_``, ``-``, spaces and case changes) is an id word."""
    words = _WORDS.findall(str(name))
    return bool(words) and words[-1].lower() in ID_WORDS


def exclusion(name: str, column: pd.Series) -> Exclusion | None:
    """Why ``column`` must not be a feature, or None when it may be one."""
    values = column.dropna()
    if values.empty:
        return Exclusion(name, ALL_MISSING, f"no value in {len(column)} rows")
    held = unsupported_values(values)
    if held is not None:
        return Exclusion(name, NOT_SCALAR, f"it holds {held}")
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = values.astype("object")
    try:
        distinct = values.nunique()
    except TypeError:  # unhashable values: left to the contract to refuse or read
        return None
    if distinct == 1:
        missing = column.isna().any()
        return Exclusion(
            name, CONSTANT, f"every value is {plain_value(values.iloc[0])!r}{', or missing' if missing else ''}"
        )
    if is_id_name(name):
        return Exclusion(name, IDENTIFIER, "its name says it is an id")
    if distinct == len(values) >= MIN_ROWS_FOR_UNIQUE and _identifier_values(values):
        return Exclusion(name, IDENTIFIER, f"its {len(values)} values are all different")
    if is_free_text(values, distinct):
        return Exclusion(name, FREE_TEXT, f"{distinct} distinct values in {len(values)} rows")
    return None


def is_free_text(values: pd.Series, distinct: int) -> bool:
    """Text whose distinct values are many (``FREE_TEXT_MIN_LEVELS``) and at least half of its values."""
    if distinct < max(FREE_TEXT_MIN_LEVELS, FREE_TEXT_SHARE * len(values)):
        return False
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "mixed", "mixed-integer")


def _identifier_values(values: pd.Series) -> bool:
    """Text, or integers that fill at least half of their span (all different, checked before)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_float_dtype(values):
        return False
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred == "string":
        return True
    if inferred != "integer":
        return False
    span = int(values.max()) - int(values.min()) + 1
    return span <= 2 * len(values)


def screen_columns(frame: pd.DataFrame, target: str) -> list[Exclusion]:
    """The columns of ``frame`` (besides the target) that must not be features, in column order."""
    found = (exclusion(str(name), frame[name]) for name in frame.columns if name != target)
    return [item for item in found if item is not None]


def data_warnings(frame: pd.DataFrame, contract: DataContract, max_categories: int) -> list[str]:
    """One line per column left out of the features, and per categorical with more levels than
    ``max_categories`` (encoded with a bound)."""
    lines = []
    for name in contract.excluded_columns:
        found = exclusion(name, frame[name]) if name in frame.columns else None
        lines.append(found.warning() if found else f"column '{name}' is not a feature: {contract.excluded_columns[name]}")
    for spec in contract.features:
        levels = len(spec.categories)
        if spec.kind is FeatureKind.CATEGORICAL and levels > max_categories:
            lines.append(
                f"column '{spec.name}' has {levels} levels, more than --max-categories {max_categories}: its "
                f"{max_categories - 1} most frequent levels are one-hot encoded and the other "
                f"{levels - max_categories + 1} grouped as one infrequent level"
            )
    return lines
