"""The data contract: what a model version was trained on, and checks of rows to score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from e2e_common.checks import (
    LARGEST_WHOLE_LABEL,
    check_magnitude,
    infinite_count,
    unsupported_values,
    without_infinities,
)
from e2e_common.contract import (
    CLASSIFICATION_CONTRACT_VERSION,
    CONTRACT_VERSION,
    MAX_INFERRED_CLASSES,
    SUPPORTED_CONTRACT_VERSIONS,
    Task,
)
from e2e_common.errors import DataError
from e2e_common.files import escaped, shown_name

ClassLabel = StrictBool | StrictInt | StrictFloat | StrictStr

_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
# Text read as dates (refused as a feature): an ISO 8601 date, optionally with a time and offset.
ISO_DATE_TEXT = r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*"


class FeatureKind(str, Enum):
    """How a feature is read and preprocessed."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class FeatureSpec(BaseModel):
    """One feature column of the contract.

    From contract version 2 training also records, for the drift gate: a numeric column's range on
    the train split, and the column's share of the model's permutation importance on the holdout.
    Versions trained before leave them None.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: FeatureKind
    dtype: str
    categories: list[str] = []
    minimum: float | None = None
    maximum: float | None = None
    importance: float | None = None


@dataclass
class ValidatedRows:
    """Rows to score, coerced to the contract's kinds, with what the check counted."""

    features: pd.DataFrame
    unseen_categories: dict[str, int] = field(default_factory=dict)
    # Infinite values per numeric feature, read as missing values.
    infinite: dict[str, int] = field(default_factory=dict)


class DataContract(BaseModel):
    """Feature names, kinds, dtypes and categories, the target, the task, and a classifier's classes."""

    model_config = ConfigDict(frozen=True)

    contract_version: int = CONTRACT_VERSION
    features: list[FeatureSpec]
    target: str
    # Contracts written before version 3 are all classifications.
    task: Task = Task.CLASSIFICATION
    # Why the task is what it is (``infer_task``), shown in the training summary.
    task_reason: str = ""
    # A classification's classes; empty for a regression.
    classes: list[ClassLabel] = []
    # Columns of the training data that are not features, with the reason (an identifier, constant,
    # all missing...): inference accepts them in the rows to score.
    excluded_columns: dict[str, str] = {}

    @property
    def is_regression(self) -> bool:
        return self.task is Task.REGRESSION

    @property
    def has_importance(self) -> bool:
        return any(spec.importance is not None for spec in self.features)

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]

    def feature(self, name: str) -> FeatureSpec:
        return next(spec for spec in self.features if spec.name == name)

    def columns_of_kind(self, kind: FeatureKind) -> list[str]:
        return [spec.name for spec in self.features if spec.kind == kind]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        target: str,
        excluded_columns: Mapping[str, str] | None = None,
        task: Task | str | None = None,
    ) -> DataContract:
        """Derive the contract from a training DataFrame (features and target).

        ``excluded_columns`` (column -> reason) are left out of the features and recorded. ``task``
        (``--task``) overrides the task read from the target (``infer_task``).
        """
        if frame.empty:
            raise DataError("the training data has no rows")
        if target not in frame.columns:
            available = ", ".join(map(escaped, frame.columns[:10]))
            raise DataError(
                f"target column {shown_name(target)} not found (columns: {available}"
                f"{', ...' if len(frame.columns) > 10 else ''}); pass --target"
            )
        labels = frame[target].dropna()
        if labels.empty:
            raise DataError(f"target column {shown_name(target)} has no values: every row's target is missing")
        chosen, reason = infer_task(labels, task)
        if chosen is Task.REGRESSION:
            check_regression_target(labels, target)
            classes: list[Any] = []
        else:
            classes = _sorted_classes({class_label(value) for value in labels.unique()})
            if len(classes) < 2:
                raise DataError(
                    f"target column {shown_name(target)} has one value ({classes[0]!r}) in every row; "
                    "there is nothing to predict"
                )
        excluded = {str(name): reason for name, reason in (excluded_columns or {}).items()}
        features = [
            _feature_spec(str(name), frame[name])
            for name in frame.columns
            if name != target and str(name) not in excluded
        ]
        if not features:
            left_out = ", ".join(f"{escaped(name)} ({reason})" for name, reason in excluded.items())
            raise DataError(
                f"no feature columns besides the target {shown_name(target)}" + (f"; left out: {left_out}" if left_out else "")
            )
        return cls(
            contract_version=CONTRACT_VERSION if chosen is Task.REGRESSION else CLASSIFICATION_CONTRACT_VERSION,
            features=features,
            target=target,
            task=chosen,
            task_reason=reason,
            classes=classes,
            excluded_columns=excluded,
        )

    def check_supported(self) -> None:
        """Raise DataError when this package cannot read this contract version."""
        if self.contract_version not in SUPPORTED_CONTRACT_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_CONTRACT_VERSIONS))
            raise DataError(
                f"the model version has data contract version {self.contract_version}, "
                f"this package supports versions {supported}; upgrade e2e-infer or retrain"
            )

    def validate(self, frame: pd.DataFrame) -> ValidatedRows:
        """Check rows to score and coerce them to the contract's kinds.

        Names every missing column and every column with values that cannot be read as its
        kind. Unseen categories are allowed (the preprocessing encodes them as unknown) and
        counted per column.
        """
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            shown = ", ".join(map(escaped, missing))
            raise DataError(f"missing feature columns: {shown}{_spelled_otherwise(missing, frame.columns)}")
        coerced: dict[str, pd.Series] = {}
        unreadable: list[str] = []
        unseen: dict[str, int] = {}
        infinite: dict[str, int] = {}
        for spec in self.features:
            column = frame[spec.name]
            if isinstance(column, pd.DataFrame):
                raise DataError(f"column {shown_name(spec.name)} appears {column.shape[1]} times; rename or remove the copies")
            held = unsupported_values(column)
            if held is not None:
                raise DataError(
                    f"feature column {shown_name(spec.name)} holds {held}; the model reads one "
                    f"{KIND_VALUE[spec.kind]} per cell"
                )
            try:
                values = coerce_column(column, spec.kind)
            except ValueError as exc:
                unreadable.append(f"{escaped(spec.name)} ({exc})")
                continue
            if spec.kind is FeatureKind.NUMERIC:
                check_magnitude(values, spec.name)
                count = infinite_count(values)
                if count:
                    infinite[spec.name] = count
                    values = without_infinities(values)
            coerced[spec.name] = values
            if spec.kind is FeatureKind.CATEGORICAL:
                new = values.notna() & ~values.isin(spec.categories)
                if new.any():
                    unseen[spec.name] = int(new.sum())
        if unreadable:
            raise DataError(f"columns with values that cannot be read as their kind: {'; '.join(unreadable)}")
        return ValidatedRows(
            features=pd.DataFrame(coerced, index=frame.index), unseen_categories=unseen, infinite=infinite
        )


def infer_task(labels: pd.Series, requested: Task | str | None = None) -> tuple[Task, str]:
    """The task of a target (its non-missing values) and why, in words for the training summary.

    ``requested`` (``--task``) wins. Otherwise numbers with a fractional part are a regression, whole
    numbers with more than ``MAX_INFERRED_CLASSES`` distinct values too, and anything else (text,
    true/false, a few whole numbers) a classification.
    """
    if requested is not None:
        chosen = Task(requested)
        return chosen, f"--task {chosen.value}"
    if pd.api.types.is_bool_dtype(labels) or not pd.api.types.is_numeric_dtype(labels):
        return Task.CLASSIFICATION, "the target holds labels, not numbers"
    values = labels.astype("float64")
    fractional = values[values != values.round()]
    if not fractional.empty:
        return Task.REGRESSION, f"the target holds numbers with fractions (e.g. {plain_value(fractional.iloc[0])!r})"
    # Floats this large no longer tell whole numbers apart: 1e17 + 1 == 1e17.
    huge = values[values.abs() >= LARGEST_WHOLE_LABEL] if pd.api.types.is_float_dtype(labels) else values.iloc[:0]
    if not huge.empty:
        return Task.REGRESSION, f"the target holds numbers too large to be class labels (e.g. {plain_value(huge.iloc[0]):g})"
    distinct = int(values.nunique())
    if distinct > MAX_INFERRED_CLASSES:
        return Task.REGRESSION, f"the target holds {distinct} distinct whole numbers (more than {MAX_INFERRED_CLASSES})"
    return (
        Task.CLASSIFICATION,
        f"the target holds {distinct} distinct whole numbers (at most {MAX_INFERRED_CLASSES}: read as classes; "
        "--task regression predicts them as numbers)",
    )


def check_regression_target(labels: pd.Series, target: str) -> None:
    """DataError when a regression cannot be trained on these target values (non-missing): text,
    infinite values, or one value in every row."""
    if pd.api.types.is_bool_dtype(labels) or not pd.api.types.is_numeric_dtype(labels):
        numbers = pd.to_numeric(labels, errors="coerce")
        lost = labels[numbers.isna()]
        if not lost.empty:
            raise DataError(
                f"target column {shown_name(target)} holds values that are not numbers (e.g. "
                f"{plain_value(lost.iloc[0])!r}); a regression predicts numbers: train a classifier without --task regression"
            )
        labels = numbers
    values = labels.astype("float64")
    if not np.isfinite(values).all():
        raise DataError(f"target column {shown_name(target)} holds infinite values; a regression needs finite numbers")
    if values.nunique() < 2:
        raise DataError(
            f"target column {shown_name(target)} has one value ({plain_value(values.iloc[0]):g}) in every row; "
            "there is nothing to predict"
        )


KIND_VALUE = {
    FeatureKind.NUMERIC: "number",
    FeatureKind.BOOLEAN: "true or false value",
    FeatureKind.CATEGORICAL: "text or number",
}


def _spelled_otherwise(missing: list[str], columns: Any) -> str:
    """A hint when the file has a missing column under a name that differs only in spaces or case."""
    present = {str(name).strip().casefold(): str(name) for name in columns}
    near = [(name, present[name.strip().casefold()]) for name in missing if name.strip().casefold() in present]
    if not near:
        return ""
    shown = ", ".join(f"{shown_name(found)} for {shown_name(name)}" for name, found in near)
    return f" (the rows have {shown}: names must match exactly, spaces and case included)"


def coerce_column(column: pd.Series, kind: FeatureKind) -> pd.Series:
    """Coerce a column to its kind: float for numeric and boolean, string for categorical.

    Raises ValueError naming a value that cannot be read as the kind.
    """
    if kind is FeatureKind.NUMERIC:
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            return column.astype("float64", copy=False)
        converted = pd.to_numeric(column, errors="coerce")
        _raise_on_lost_values(column, converted, "a number")
        return converted.astype("float64")
    if kind is FeatureKind.BOOLEAN:
        if pd.api.types.is_bool_dtype(column):
            return column.astype("float64", copy=False)
        words = column.map(lambda value: value if pd.isna(value) else str(value).strip().lower())
        converted = words.map(lambda w: 1.0 if w in _TRUE_WORDS else 0.0 if w in _FALSE_WORDS else np.nan)
        _raise_on_lost_values(column, converted, "true or false")
        return converted.astype("float64")
    values = column.astype("object")
    missing = values.isna()
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.map(_category_text, na_action="ignore")
    return values.where(~missing, np.nan)


def _raise_on_lost_values(original: pd.Series, converted: pd.Series, expected: str) -> None:
    lost = original.notna() & converted.isna()
    if lost.any():
        example = plain_value(original[lost].iloc[0])
        raise ValueError(f"{int(lost.sum())} value(s) not {expected}, e.g. {example!r}")


def _category_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _feature_spec(name: str, column: pd.Series) -> FeatureSpec:
    dtype = str(column.dtype)
    held = unsupported_values(column)
    if held is not None:
        raise DataError(f"column {shown_name(name)} holds {held}, which are not features; drop it with --drop-columns")
    if pd.api.types.is_bool_dtype(column):
        return FeatureSpec(name=name, kind=FeatureKind.BOOLEAN, dtype=dtype)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
        return FeatureSpec(name=name, kind=FeatureKind.NUMERIC, dtype=dtype)
    held = _dates_held(column)
    if held is not None:
        raise DataError(
            f"column {shown_name(name)} holds {held}, which are not turned into features; "
            "add numeric columns of its parts (e.g. year, month, day of week) or drop it with --drop-columns"
        )
    if pd.api.types.is_timedelta64_dtype(column) or pd.api.types.is_complex_dtype(column):
        raise DataError(
            f"column {shown_name(name)} has dtype {dtype}, which is not supported; "
            "convert it to numbers or text, or drop it with --drop-columns"
        )
    if _is_boolean_text(column):
        return FeatureSpec(name=name, kind=FeatureKind.BOOLEAN, dtype=dtype)
    values = coerce_column(column, FeatureKind.CATEGORICAL).dropna()
    return FeatureSpec(
        name=name, kind=FeatureKind.CATEGORICAL, dtype=dtype, categories=sorted(values.unique().tolist())
    )


def _dates_held(column: pd.Series) -> str | None:
    """What dates ``column`` holds, if it does: a datetime dtype, date or datetime objects (a Parquet
    ``date`` column), or text whose every value is an ISO 8601 date (``2024-01-31``, ``2024-01-31 08:00``)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return f"dates (dtype {column.dtype})"
    values = column.dropna()
    if values.empty or pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    for part in (values.head(1000), values):
        inferred = pd.api.types.infer_dtype(part, skipna=True)
        if inferred in ("datetime", "datetime64", "date"):
            continue
        if inferred != "string" or not part.astype(str).str.fullmatch(ISO_DATE_TEXT).all():
            return None
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return "dates" if inferred in ("datetime", "datetime64", "date") else "dates as text"


def _is_boolean_text(column: pd.Series) -> bool:
    values = column.dropna()
    if values.empty or not all(isinstance(v, (bool, np.bool_)) for v in values.head(1000)):
        return False
    return all(isinstance(v, (bool, np.bool_)) for v in values)


def plain_value(value: Any) -> Any:
    """The Python scalar of a numpy scalar (JSON-friendly); any other value as it is."""
    return value.item() if isinstance(value, np.generic) else value


def class_label(value: Any) -> Any:
    """A class label as the contract stores it: a Python scalar, whole floats as integers."""
    value = plain_value(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sorted_classes(values: set[Any]) -> list[Any]:
    """Numbers in numeric order, anything else in text order (as sklearn's classes_)."""
    if all(isinstance(v, (int, float)) for v in values):
        return sorted(values)
    return sorted(values, key=str)
