"""Scoring: rows in, predictions out, with the version's own preprocessing and model.

What the predictions hold follows the task of the version's data contract (``DataContract.task``),
never the model's attributes: a classification's predicted class and one probability per class, a
regression's one number (``prediction``, float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from e2e_common.contract import Task
from e2e_common.errors import DataError
from e2e_common.schemas import plain_value
from e2e_inference.names import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTION_COLUMN,
    PREDICTION_ID_COLUMN,
    probability_column,
)

SHOWN_ROWS = 5


def row_ids(rows: pd.DataFrame, id_column: str | None, first_row: int = 0) -> pd.Series:
    """The id of each row under its column's name: the ``id_column`` values, else the row number
    (from ``first_row``) named ``id``."""
    if id_column is None:
        return pd.Series(np.arange(first_row, first_row + len(rows)), index=rows.index, name=PREDICTION_ID_COLUMN)
    if id_column not in rows.columns:
        raise DataError(f"id column '{id_column}' not found in the data (setting 'id_column')")
    return rows[id_column]


def score_chunk(
    rows: pd.DataFrame,
    preprocess_pipeline: Any,
    model: Any,
    *,
    model_name: str,
    model_version: str,
    id_column: str | None = None,
    first_row: int = 0,
    task: Task | str = Task.CLASSIFICATION,
) -> pd.DataFrame:
    """Predictions for ``rows``: id, then the predicted class and one probability column per class (a
    classification) or the predicted number ``prediction`` (a regression, ``task`` from the version's
    data contract), then model name and version.

    ``preprocess_pipeline`` and ``model`` are used as fitted (never refitted). ``first_row`` is the
    position of the first of ``rows`` in the whole input, so chunks get the same ids as one pass. A
    regressor that predicts NaN or an infinite number for a row is a DataError naming the rows.
    """
    ids = row_ids(rows, id_column, first_row)
    features = preprocess_pipeline.transform(rows)
    columns: dict[str, Any] = {str(ids.name): ids.to_numpy()}
    if Task(task) is Task.REGRESSION:
        columns[PREDICTION_COLUMN] = predicted_numbers(model, features, first_row)
        predictions = pd.DataFrame(columns)
        predictions[MODEL_NAME_COLUMN] = model_name
        predictions[MODEL_VERSION_COLUMN] = str(model_version)
        return predictions
    classes = list(getattr(model, "classes_", []))
    if hasattr(model, "predict_proba") and classes:
        probabilities = np.asarray(model.predict_proba(features), dtype="float64")
        # The labels as Python scalars in the column type they share, picked per row by index.
        labels = pd.Series([plain_value(label) for label in classes]).infer_objects().to_numpy()
        columns[PREDICTED_CLASS_COLUMN] = labels[probabilities.argmax(axis=1)]
        for index, label in enumerate(classes):
            columns[probability_column(plain_value(label))] = probabilities[:, index]
    else:
        predicted = pd.Series(np.asarray(model.predict(features)))
        columns[PREDICTED_CLASS_COLUMN] = predicted.map(plain_value).to_numpy()
    predictions = pd.DataFrame(columns).infer_objects()
    predictions[MODEL_NAME_COLUMN] = model_name
    predictions[MODEL_VERSION_COLUMN] = str(model_version)
    return predictions


def predicted_numbers(model: Any, features: Any, first_row: int = 0) -> np.ndarray:
    """A regressor's predictions for preprocessed ``features``, as float64, one per row.

    DataError when the model answers something else than one finite number per row (NaN, an infinite
    number, text), naming the first rows by their number (from ``first_row``), never their values.
    """
    raw = np.asarray(model.predict(features))
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or len(raw) != len(features):
        raise DataError(
            f"the model answered {raw.shape} values for {len(features)} rows; a regression predicts one number per row"
        )
    try:
        values = raw.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError("the model predicted values that are not numbers; a regression predicts numbers") from exc
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        shown = ", ".join(str(first_row + int(index)) for index in bad[:SHOWN_ROWS])
        more = f", +{bad.size - SHOWN_ROWS} more" if bad.size > SHOWN_ROWS else ""
        raise DataError(
            f"the model predicted {bad.size} value(s) that are not finite numbers (NaN or infinite), for the "
            f"row(s) numbered {shown}{more} (from 0); check their values (numbers far outside the training range)"
        )
    return values

