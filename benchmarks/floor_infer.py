"""The hand-written floor: read Parquet, numpy preprocessing, predict, write the same output columns
as ``e2e-infer`` (id, predicted_class, proba_<class>, model_name, model_version) to Parquet.

    python floor_infer.py BUNDLE.joblib ROWS.parquet OUTPUT.parquet
"""

import sys

import joblib
import numpy as np
import pandas as pd

bundle_path, input_path, output_path = sys.argv[1:4]
bundle = joblib.load(bundle_path)
model = bundle["model"]
values = pd.read_parquet(input_path, columns=bundle["columns"]).to_numpy(dtype="float64")
values = np.where(np.isnan(values), bundle["medians"], values)
probabilities = model.predict_proba((values - bundle["minimums"]) / bundle["spans"])
predictions = pd.DataFrame(probabilities, columns=[f"proba_{c}" for c in model.classes_])
predictions.insert(0, "predicted_class", model.classes_[probabilities.argmax(axis=1)])
predictions.insert(0, "id", np.arange(len(values)))
predictions["model_name"] = bundle["model_name"]
predictions["model_version"] = bundle["model_version"]
predictions.to_parquet(output_path, index=False)
