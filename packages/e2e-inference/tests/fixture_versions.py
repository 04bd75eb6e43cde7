"""Promoted model versions for the tests, made with ZenML and e2e_common only (no e2e_training).

A tiny fitted model and every artifact training links, by the contract's names, then a stage.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, Model, pipeline, step
from zenml.enums import ArtifactType

from e2e_common.contract import (
    DATA_CONTRACT,
    DATASET_TRN,
    DATASET_TST,
    DRIFT_REFERENCE,
    MODEL,
    PREPROCESS_PIPELINE,
    Stage,
)
from e2e_common.data import DEFAULT_TARGET, default_training_data
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract

DEFAULT_DATA = "default"
CATEGORICAL_DATA = "categorical"
CATEGORICAL_TARGET = "label"
COLORS = ("red", "green", "blue")


def categorical_frame(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """A small synthetic frame with numeric, categorical and boolean features and a 3-class label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "weight": rng.normal(50, 5, rows),
            "color": rng.choice(COLORS, rows),
            "fragile": rng.choice([True, False], rows),
        }
    )
    score = frame["size"] + (frame["color"] == "red") * 3
    frame[CATEGORICAL_TARGET] = np.where(score > 12, "high", np.where(score > 9, "mid", "low"))
    return frame


def training_frame(dataset: str) -> tuple[pd.DataFrame, str]:
    if dataset == CATEGORICAL_DATA:
        return categorical_frame(), CATEGORICAL_TARGET
    return default_training_data(), DEFAULT_TARGET


def fit_tiny_version(dataset: str, contract_version: int, c: float) -> tuple:
    """The data contract, fitted preprocessing and model, datasets and drift reference."""
    frame, target = training_frame(dataset)
    contract = DataContract.from_frame(frame, target)
    preprocess = build_preprocess_pipeline(contract).fit(frame)
    features = preprocess.transform(frame)
    classifier = LogisticRegression(C=c, max_iter=500).fit(features, frame[target])
    processed = features.assign(**{target: frame[target].to_numpy()})
    half = len(processed) // 2
    stored = contract.model_dump(mode="json") | {"contract_version": contract_version}
    reference = contract.validate(frame).features
    return stored, preprocess, classifier, processed.iloc[:half], processed.iloc[half:], reference


@step(enable_cache=False)
def fit_fixture_version(
    dataset: str, contract_version: int, c: float
) -> tuple[
    Annotated[dict, DATA_CONTRACT],
    Annotated[Pipeline, PREPROCESS_PIPELINE],
    Annotated[LogisticRegression, ArtifactConfig(name=MODEL, artifact_type=ArtifactType.MODEL)],
    Annotated[pd.DataFrame, DATASET_TRN],
    Annotated[pd.DataFrame, DATASET_TST],
    Annotated[pd.DataFrame, DRIFT_REFERENCE],
]:
    contract, preprocess, model, trn, tst, reference = fit_tiny_version(dataset, contract_version, c)
    return contract, preprocess, model, trn, tst, reference  # ZenML counts outputs in a literal tuple


@step(enable_cache=False)
def fit_fixture_version_without_reference(
    dataset: str, contract_version: int, c: float
) -> tuple[
    Annotated[dict, DATA_CONTRACT],
    Annotated[Pipeline, PREPROCESS_PIPELINE],
    Annotated[LogisticRegression, ArtifactConfig(name=MODEL, artifact_type=ArtifactType.MODEL)],
    Annotated[pd.DataFrame, DATASET_TRN],
    Annotated[pd.DataFrame, DATASET_TST],
]:
    contract, preprocess, model, trn, tst, _ = fit_tiny_version(dataset, contract_version, c)
    return contract, preprocess, model, trn, tst


@pipeline(enable_cache=False)
def fixture_training(dataset: str, contract_version: int, with_drift_reference: bool, c: float) -> None:
    fit = fit_fixture_version if with_drift_reference else fit_fixture_version_without_reference
    fit(dataset, contract_version, c)


def promote_fixture_version(
    model_name: str,
    dataset: str = DEFAULT_DATA,
    stage: Stage = Stage.STAGING,
    contract_version: int = 1,
    with_drift_reference: bool = True,
    c: float = 1.0,
) -> str:
    """Train a tiny version of ``model_name``, set it at ``stage``; returns its version name."""
    from zenml.client import Client

    run = fixture_training.with_options(model=Model(name=model_name))(
        dataset=dataset, contract_version=contract_version, with_drift_reference=with_drift_reference, c=c
    )
    version = Client().get_pipeline_run(run.id).model_version
    version.set_stage(stage.value, force=True)
    return version.name
