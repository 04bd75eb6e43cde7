"""Promoted model versions for the tests, made with ZenML and e2e_common only (no e2e_training).

A tiny fitted model and every artifact training links, by the contract's names, then a stage: a
classifier (``promote_fixture_version``) or a regressor with its holdout predictions
(``promote_regression_version``).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, Model, pipeline, step
from zenml.enums import ArtifactType

from e2e_common.contract import (
    DATA_CONTRACT,
    DATASET_TRN,
    DATASET_TST,
    DRIFT_REFERENCE,
    HOLDOUT_PREDICTION_COLUMN,
    HOLDOUT_PREDICTIONS,
    MODEL,
    PREPROCESS_PIPELINE,
    Stage,
)
from e2e_common.data import DEFAULT_TARGET, default_training_data
from e2e_common.preprocessing import NativeCategoriesRegressor, build_preprocess_pipeline
from e2e_common.schemas import DataContract, FeatureKind

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


# --- a regression version -------------------------------------------------------------------------

REGRESSION_TARGET = "price"
REGRESSION_ROWS = 400


def regression_frame(rows: int = REGRESSION_ROWS, seed: int = 0) -> pd.DataFrame:
    """A small synthetic table with numeric, categorical and boolean features and a numeric target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "weight": rng.normal(50, 5, rows),
            "color": rng.choice(COLORS, rows),
            "fragile": rng.choice([True, False], rows),
        }
    )
    frame[REGRESSION_TARGET] = (
        3.0 * frame["size"] + 0.5 * frame["weight"] + (frame["color"] == "red") * 8.0 - frame["fragile"] * 2.0
        + rng.normal(0, 1.0, rows)
    )
    return frame


def fit_tiny_regression(learning_rate: float = 0.1) -> tuple:
    """A regression version: contract (v3, its task regression), preprocessing, a HistGradientBoosting
    regressor with native categories, the train and holdout sets, drift reference and holdout predictions."""
    frame = regression_frame()
    train, holdout = frame.iloc[: REGRESSION_ROWS // 2], frame.iloc[REGRESSION_ROWS // 2 :]
    contract = DataContract.from_frame(train, REGRESSION_TARGET)
    assert contract.is_regression
    preprocess = build_preprocess_pipeline(contract).fit(train)
    features = preprocess.transform(train)
    categorical = tuple(contract.columns_of_kind(FeatureKind.CATEGORICAL))
    others = tuple(name for name in contract.feature_names if name not in categorical)
    model = NativeCategoriesRegressor(
        HistGradientBoostingRegressor(max_iter=40, learning_rate=learning_rate, categorical_features="from_dtype", random_state=0),
        categorical=categorical,
        other_features=others,
    ).fit(features, train[REGRESSION_TARGET])
    reference = contract.validate(train).features
    specs = []
    for spec in contract.features:
        if spec.kind is FeatureKind.NUMERIC:
            spec = spec.model_copy(
                update={"minimum": float(reference[spec.name].min()), "maximum": float(reference[spec.name].max())}
            )
        specs.append(spec)
    contract = contract.model_copy(update={"features": specs})
    holdout_predictions = pd.DataFrame(
        {HOLDOUT_PREDICTION_COLUMN: np.asarray(model.predict(preprocess.transform(holdout)), dtype="float64")}
    )
    trn = features.assign(**{REGRESSION_TARGET: train[REGRESSION_TARGET].to_numpy()})
    tst = preprocess.transform(holdout).assign(**{REGRESSION_TARGET: holdout[REGRESSION_TARGET].to_numpy()})
    stored = contract.model_dump(mode="json")
    return stored, preprocess, model, trn, tst, reference, holdout_predictions


@step(enable_cache=False)
def fit_regression_version(
    learning_rate: float,
) -> tuple[
    Annotated[dict, DATA_CONTRACT],
    Annotated[Pipeline, PREPROCESS_PIPELINE],
    Annotated[NativeCategoriesRegressor, ArtifactConfig(name=MODEL, artifact_type=ArtifactType.MODEL)],
    Annotated[pd.DataFrame, DATASET_TRN],
    Annotated[pd.DataFrame, DATASET_TST],
    Annotated[pd.DataFrame, DRIFT_REFERENCE],
    Annotated[pd.DataFrame, HOLDOUT_PREDICTIONS],
]:
    contract, preprocess, model, trn, tst, reference, holdout = fit_tiny_regression(learning_rate)
    return contract, preprocess, model, trn, tst, reference, holdout  # ZenML counts outputs in a literal tuple


@step(enable_cache=False)
def fit_regression_version_without_holdout_predictions(
    learning_rate: float,
) -> tuple[
    Annotated[dict, DATA_CONTRACT],
    Annotated[Pipeline, PREPROCESS_PIPELINE],
    Annotated[NativeCategoriesRegressor, ArtifactConfig(name=MODEL, artifact_type=ArtifactType.MODEL)],
    Annotated[pd.DataFrame, DATASET_TRN],
    Annotated[pd.DataFrame, DATASET_TST],
    Annotated[pd.DataFrame, DRIFT_REFERENCE],
]:
    contract, preprocess, model, trn, tst, reference, _ = fit_tiny_regression(learning_rate)
    return contract, preprocess, model, trn, tst, reference


@pipeline(enable_cache=False)
def fixture_regression_training(with_holdout_predictions: bool, learning_rate: float) -> None:
    fit = fit_regression_version if with_holdout_predictions else fit_regression_version_without_holdout_predictions
    fit(learning_rate)


def promote_regression_version(
    model_name: str, stage: Stage = Stage.STAGING, with_holdout_predictions: bool = True, learning_rate: float = 0.1
) -> str:
    """Train a tiny regression version of ``model_name``, set it at ``stage``; returns its version name."""
    from zenml.client import Client

    run = fixture_regression_training.with_options(model=Model(name=model_name))(
        with_holdout_predictions=with_holdout_predictions, learning_rate=learning_rate
    )
    version = Client().get_pipeline_run(run.id).model_version
    version.set_stage(stage.value, force=True)
    return version.name
