"""A model version trained by e2e-train 0.1.0 still loads and scores with this code.

``data/version_0_1_0`` holds the artifacts of a version that e2e-train 0.1.0 (commit 179dec6)
trained on a table with numeric, categorical and boolean columns and missing values, as ZenML's
materializers wrote them: the data contract as a dict, the fitted preprocessing and model pickled.
Pickles name classes by import path, so this fails when a pickled class moves or changes shape.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from e2e_common.contract import DATA_CONTRACT, MODEL, PREPROCESS_PIPELINE
from e2e_common.schemas import DataContract, FeatureKind

SAVED = Path(__file__).parent / "data" / "version_0_1_0"


def load_saved(name: str, tmp_path: Path):
    """The artifact ``name`` loaded by the materializer that saved it, as ZenML loads it."""
    from zenml.client import Client
    from zenml.utils import source_utils

    recorded = json.loads((SAVED / "artifacts.json").read_text())[name]
    folder = Path(Client().active_stack.artifact_store.path) / "version_0_1_0" / tmp_path.name / name
    shutil.copytree(SAVED / name, folder)
    materializer = source_utils.load(recorded["materializer"])(uri=str(folder))
    return materializer.load(source_utils.load(recorded["data_type"]))


@pytest.fixture
def saved_contract(tmp_path) -> DataContract:
    stored = load_saved(DATA_CONTRACT, tmp_path)
    assert isinstance(stored, dict)
    return DataContract.model_validate(stored)


def test_the_saved_data_contract_reads_as_the_current_record(saved_contract):
    kinds = {spec.name: spec.kind for spec in saved_contract.features}
    assert kinds == {
        "size": FeatureKind.NUMERIC,
        "weight": FeatureKind.NUMERIC,
        "color": FeatureKind.CATEGORICAL,
        "fragile": FeatureKind.BOOLEAN,
    }
    assert saved_contract.target == "label" and saved_contract.classes == ["high", "low", "mid"]
    saved_contract.check_supported()


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn warns when the pickling version differs
def test_the_saved_preprocessing_and_model_score_as_they_did(tmp_path, saved_contract):
    preprocess = load_saved(PREPROCESS_PIPELINE, tmp_path)
    model = load_saved(MODEL, tmp_path)
    rows = pd.read_csv(SAVED / "rows.csv")
    expected = pd.read_csv(SAVED / "expected_predictions.csv")["predicted_class"]
    pickled = preprocess.named_steps["contract"].contract
    assert [(s.name, s.kind, s.categories) for s in pickled.features] == [
        (s.name, s.kind, s.categories) for s in saved_contract.features
    ]
    predicted = model.predict(preprocess.transform(rows))
    assert list(predicted) == list(expected) and len(expected) == 40
