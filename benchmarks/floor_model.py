"""Build the hand-written floor's model: the version's estimator class and hyperparameters, fitted on
the default training data after plain numpy preprocessing (no part of the project's preprocessing).

    python floor_model.py MODEL_NAME STAGE BUNDLE.joblib
"""

import sys

import joblib
import numpy as np
from sklearn.base import clone

from e2e_common.contract import MODEL
from e2e_common.data import DEFAULT_TARGET, default_inference_data, load_default_dataset
from e2e_common.registry import version_at_stage

model_name, stage, bundle_path = sys.argv[1:4]
version = version_at_stage(model_name, stage)
estimator = clone(version.get_model_artifact(MODEL).load())
frame = load_default_dataset()
columns = list(default_inference_data().columns)
values = frame[columns].to_numpy(dtype="float64")
medians = np.nanmedian(values, axis=0)
values = np.where(np.isnan(values), medians, values)
minimums, spans = values.min(axis=0), np.ptp(values, axis=0)
spans[spans == 0] = 1.0
estimator.fit((values - minimums) / spans, frame[DEFAULT_TARGET].to_numpy())
bundle = {
    "columns": columns, "medians": medians, "minimums": minimums, "spans": spans, "model": estimator,
    "model_name": model_name, "model_version": str(version.number),
}
joblib.dump(bundle, bundle_path)
print(f"{type(estimator).__name__} {estimator.get_params()}")
