"""The preprocessing fitted on the train split, the preprocessed data sets and the drift reference."""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline

from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.settings import PreprocessingOptions

DRIFT_REFERENCE_SEED = 42


def fit_preprocessing(train: pd.DataFrame, contract: DataContract, options: PreprocessingOptions) -> Pipeline:
    """e2e_common's preprocessing, fitted on the train rows only."""
    pipeline = build_preprocess_pipeline(
        contract, normalize=not options.no_normalize, max_categories=options.max_categories
    )
    return pipeline.fit(train[contract.feature_names])


def preprocessed(pipeline: Pipeline, rows: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The preprocessed features of ``rows`` and their target column."""
    features = pipeline.transform(rows[contract.feature_names])
    return features.assign(**{contract.target: rows[contract.target].to_numpy()})


def drift_reference(train: pd.DataFrame, contract: DataContract, options: PreprocessingOptions) -> pd.DataFrame:
    """The raw train features as the contract reads them: a deterministic sample of at most
    ``drift_reference_rows``."""
    features = contract.validate(train).features
    if len(features) > options.drift_reference_rows:
        features = features.sample(n=options.drift_reference_rows, random_state=DRIFT_REFERENCE_SEED).sort_index()
    return features.reset_index(drop=True)


def features_and_target(frame: pd.DataFrame, contract: DataContract) -> tuple[pd.DataFrame, pd.Series]:
    """The feature columns and the target column of ``frame``."""
    return frame.drop(columns=[contract.target]), frame[contract.target]
