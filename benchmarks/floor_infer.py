"""The hand-written floor: read Parquet, the version's preprocessing and model, predict, write Parquet."""

import sys

import joblib
import pandas as pd

preprocess_path, model_path, input_path, output_path = sys.argv[1:5]
preprocess_pipeline = joblib.load(preprocess_path)
model = joblib.load(model_path)
rows = pd.read_parquet(input_path)
probabilities = model.predict_proba(preprocess_pipeline.transform(rows))
predictions = pd.DataFrame(probabilities, columns=[f"proba_{c}" for c in model.classes_])
predictions.insert(0, "predicted_class", model.classes_[probabilities.argmax(axis=1)])
predictions.insert(0, "id", range(len(rows)))
predictions.to_parquet(output_path)
