"""Checks of the id column that need no pandas: the CLI runs them before the heavy imports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from e2e_common.contract import IDENTIFIER_REASON
from e2e_common.errors import DataError
from e2e_inference.names import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTION_COLUMN,
    PROBABILITY_COLUMN_PREFIX,
)

# The columns of the predictions besides the id and the probabilities, of either task: the check
# runs before the model version (and so its task) is known.
PREDICTION_COLUMNS = (PREDICTED_CLASS_COLUMN, PREDICTION_COLUMN, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN)


def check_id_column(id_column: str | None, columns: Sequence[str], source: str) -> None:
    """DataError when the id column is missing or would clash with a column of the predictions."""
    if id_column is None:
        return
    if id_column not in columns:
        raise DataError(f"{source}: id column '{id_column}' not found (setting 'id_column')")
    if id_column in PREDICTION_COLUMNS or id_column.startswith(PROBABILITY_COLUMN_PREFIX):
        raise DataError(
            f"{source}: id column '{id_column}' has the name of a column of the predictions; rename it in the file"
        )


# The reason e2e-train records for an identifier column in the data contract's excluded_columns.


def default_id_column(excluded_columns: Mapping[str, str], columns: Sequence[str]) -> str | None:
    """The id column when --id-column is not given: the first column the data contract recorded as an
    identifier that the rows carry (and that no column of the predictions is named), else None."""
    for name, reason in excluded_columns.items():
        if reason != IDENTIFIER_REASON or name not in columns:
            continue
        if name in PREDICTION_COLUMNS or name.startswith(PROBABILITY_COLUMN_PREFIX):
            continue
        return name
    return None
