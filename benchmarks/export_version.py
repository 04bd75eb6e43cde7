"""Write the promoted version's preprocess_pipeline and model to joblib files for the floor script."""

import sys

import joblib

from e2e_common.contract import MODEL, PREPROCESS_PIPELINE
from e2e_common.registry import version_at_stage

model_name, stage, preprocess_path, model_path = sys.argv[1:5]
version = version_at_stage(model_name, stage)
joblib.dump(version.get_artifact(PREPROCESS_PIPELINE).load(), preprocess_path)
joblib.dump(version.get_model_artifact(MODEL).load(), model_path)
print(version.number)
