"""Fitting the selected model with MLflow tracking when the step runs under an MLflow run.

The model logged to MLflow (and registered) is the whole model: the version's fitted preprocessing
and the fitted model (a classifier, or a regressor for a regression) in one sklearn ``Pipeline``, so
``mlflow.pyfunc.load_model(...).predict`` takes the raw rows ``e2e-infer`` takes, checked against the
data contract by the same code, and returns classes or numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from e2e_common.contract import MODEL
from e2e_common.schemas import DataContract, FeatureKind

# Steps of the whole model as logged to MLflow. The model's step is named ``classifier`` for a
# regression too (it then holds the regressor): registered models and the code that reads them rely
# on the name.
PREPROCESS_STEP = "preprocess"
CLASSIFIER_STEP = "classifier"
INPUT_EXAMPLE_ROWS = 5
MLFLOW_PARAM_LENGTH = 6000
# MLflow column types of the raw feature columns. Numbers are doubles so that missing values (NaN)
# and integers both pass MLflow's schema check; the data contract then checks and coerces each kind.
SIGNATURE_TYPES = {FeatureKind.NUMERIC: "double", FeatureKind.CATEGORICAL: "string", FeatureKind.BOOLEAN: "boolean"}


@dataclass(frozen=True)
class FittedModel:
    """The fitted model and, when tracked, the URI MLflow logged the whole model under and the run's id."""

    model: BaseEstimator
    model_uri: str | None = None
    mlflow_run_id: str | None = None


def whole_model(preprocess: Pipeline, model: BaseEstimator) -> Pipeline:
    """The fitted preprocessing and model (classifier or regressor) as one model of raw rows (nothing is refitted)."""
    return Pipeline([(PREPROCESS_STEP, preprocess), (CLASSIFIER_STEP, model)])


def raw_signature(contract: DataContract, example: pd.DataFrame, predictions: Any) -> Any:
    """The MLflow signature of the whole model: the contract's raw feature columns and kinds in, the class
    out (as inferred from ``predictions``), or for a regression a double (whatever the float type of
    the regressor's predictions).

    Every feature column is required, as ``e2e-infer`` requires it; a column's values may be missing
    wherever the data allows it (the preprocessing imputes them). A numeric feature whose training
    column held integers is of any type: MLflow refuses int64 values for a double column ("can not
    safely convert") and missing values (floats) for a long one, while the data contract reads both.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    def column_type(spec: Any) -> Any:
        whole = spec.kind is FeatureKind.NUMERIC and pd.api.types.is_integer_dtype(pd.Series(dtype=spec.dtype))
        return AnyType() if whole else SIGNATURE_TYPES[spec.kind]

    inputs = Schema([ColSpec(column_type(spec), spec.name) for spec in contract.features])
    if contract.is_regression:
        return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("double")]))
    return ModelSignature(inputs=inputs, outputs=infer_signature(example, predictions).outputs)


def requirements() -> list[str]:
    """What loading the whole model needs: the preprocessing's classes live in e2e-tabular-common."""
    import importlib.metadata

    distributions = ("e2e-tabular-common", "scikit-learn", "pandas", "pydantic")
    return [f"{name}=={importlib.metadata.version(name)}" for name in distributions]


def fit_and_log(
    selected: BaseEstimator,
    features: pd.DataFrame,
    target: pd.Series,
    preprocess: Pipeline,
    raw_rows: pd.DataFrame,
    contract: DataContract,
    metadata: Mapping[str, Any] | None = None,
) -> FittedModel:
    """Fit a fresh copy of ``selected`` on ``features``; under an active MLflow run, log its parameters
    once and the whole model (``preprocess`` then the classifier or regressor) with a signature of the contract's
    raw columns and a few of ``raw_rows`` as its input example.

    MLflow is written to once per run, here and in ``log_metrics``: no autologging, which patches
    every ``fit`` in the process and scores the training rows again after it. The requirements are
    given (inferring them costs seconds). The whole model is saved with cloudpickle: skops cannot
    load the data contract record the preprocessing holds.
    """
    import mlflow

    model = clone(selected)
    run = mlflow.active_run()
    if run is None:
        return FittedModel(model.fit(features, target))

    model.fit(features, target)
    mlflow.log_params(logged_params(model))
    whole = whole_model(preprocess, model)
    example = raw_rows[contract.feature_names].head(INPUT_EXAMPLE_ROWS)
    logged = mlflow.sklearn.log_model(
        whole,
        name=MODEL,
        signature=raw_signature(contract, example, whole.predict(example)),
        input_example=example,
        pip_requirements=requirements(),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        metadata=dict(metadata or {}),
    )
    return FittedModel(model, logged.model_uri if logged is not None else None, run.info.run_id)


def logged_params(model: BaseEstimator) -> dict[str, str]:
    """The model's own parameters as MLflow parameters (a wrapped classifier's or regressor's, unprefixed),
    its class as ``estimator``; values as text, cut to MLflow's length limit."""
    inner = getattr(model, "estimator", None)
    shown = inner if isinstance(inner, BaseEstimator) else model
    params = {name: value for name, value in shown.get_params(deep=False).items()}
    return {"estimator": type(shown).__name__, **{name: str(value)[:MLFLOW_PARAM_LENGTH] for name, value in params.items()}}


def log_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> None:
    """``{data set: {metric: value}}`` as MLflow metrics ``<data set>_<metric>``, under an active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_metrics({f"{name}_{key}": value for name, scores in metrics.items() for key, value in scores.items()})
