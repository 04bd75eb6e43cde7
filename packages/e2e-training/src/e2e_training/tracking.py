"""Fitting the selected model with MLflow tracking when the step runs under an MLflow run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import ClassifierMixin, clone

from e2e_common.contract import MODEL


@dataclass(frozen=True)
class FittedModel:
    """The fitted classifier and, when tracked, the URI MLflow logged it under and the run's id."""

    model: ClassifierMixin
    model_uri: str | None = None
    mlflow_run_id: str | None = None


def fit_and_log(selected: ClassifierMixin, features: pd.DataFrame, target: pd.Series) -> FittedModel:
    """Fit a fresh copy of ``selected``; under an active MLflow run, autolog and log the model.

    The model is logged explicitly with its requirements (autolog's model logging infers them in
    a subprocess, which costs seconds) in the skops format, trusting the types of this model.
    """
    import mlflow

    model = clone(selected)
    run = mlflow.active_run()
    if run is None:
        return FittedModel(model.fit(features, target))
    import sklearn
    import skops.io
    from mlflow.models import infer_signature

    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    model.fit(features, target)
    logged = mlflow.sklearn.log_model(
        model,
        name=MODEL,
        signature=infer_signature(features, model.predict(features)),
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
    )
    return FittedModel(model, logged.model_uri if logged is not None else None, run.info.run_id)


def log_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> None:
    """``{data set: {metric: value}}`` as MLflow metrics ``<data set>_<metric>``, under an active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_metrics({f"{name}_{key}": value for name, scores in metrics.items() for key, value in scores.items()})
