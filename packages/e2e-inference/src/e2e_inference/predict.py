"""Scoring: rows in, predictions out, with the version's own preprocessing and model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from e2e_common.errors import DataError
from e2e_common.schemas import plain_value
from e2e_inference.names import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTED_CLASS_COLUMN,
    PREDICTION_ID_COLUMN,
    probability_column,
)


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
) -> pd.DataFrame:
    """Predictions for ``rows``: id, predicted class, one probability column per class, model name and version.

    ``preprocess_pipeline`` and ``model`` are used as fitted (never refitted). ``first_row`` is the
    position of the first of ``rows`` in the whole input, so chunks get the same ids as one pass.
    """
    ids = row_ids(rows, id_column, first_row)
    features = preprocess_pipeline.transform(rows)
    classes = list(getattr(model, "classes_", []))
    columns: dict[str, Any] = {str(ids.name): ids.to_numpy()}
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
