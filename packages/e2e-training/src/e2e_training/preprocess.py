"""The preprocessing fitted on the train split, the preprocessed data sets and the drift reference."""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline

from e2e_common.preprocessing import PreprocessOptions, build_preprocess_pipeline
from e2e_common.schemas import DataContract


def fit_preprocessing(train: pd.DataFrame, contract: DataContract, normalize: bool) -> Pipeline:
    """e2e_common's preprocessing, fitted on the train rows only."""
    pipeline = build_preprocess_pipeline(contract, PreprocessOptions(normalize=normalize))
    return pipeline.fit(train[contract.feature_names])


def preprocessed(pipeline: Pipeline, rows: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The preprocessed features of ``rows`` and their target column."""
    features = pipeline.transform(rows[contract.feature_names])
    return features.assign(**{contract.target: rows[contract.target].to_numpy()})


def drift_reference(
    train: pd.DataFrame, contract: DataContract, max_rows: int, random_state: int
) -> pd.DataFrame:
    """The raw train features as the contract reads them: a deterministic sample of ``max_rows``."""
    features = contract.validate(train).features
    if len(features) > max_rows:
        features = features.sample(n=max_rows, random_state=random_state).sort_index()
    return features.reset_index(drop=True)


def features_and_target(frame: pd.DataFrame, contract: DataContract) -> tuple[pd.DataFrame, pd.Series]:
    """The feature columns and the target column of ``frame``."""
    return frame.drop(columns=[contract.target]), frame[contract.target]
