"""The sklearn preprocessing both pipelines share: fitted by training, reused by inference.

Classes defined here are pickled into the ``preprocess_pipeline`` artifact: keep their import
path and attributes stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from e2e_common.errors import DataError
from e2e_common.schemas import DataContract, FeatureKind

MISSING_CATEGORY = "__missing__"


@dataclass(frozen=True)
class PreprocessOptions:
    """How the training data is prepared."""

    drop_na: bool = True
    normalize: bool = True
    drop_columns: tuple[str, ...] = field(default_factory=tuple)


class ContractCaster(TransformerMixin, BaseEstimator):
    """Checks rows against the data contract and coerces each feature to its kind."""

    def __init__(self, contract: DataContract | None = None) -> None:
        self.contract = contract

    def fit(self, X: pd.DataFrame, y: object = None) -> ContractCaster:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if self.contract is None:
            raise ValueError("ContractCaster needs a contract")
        return self.contract.validate(X).features

    def get_feature_names_out(self, input_features: object = None) -> list[str]:
        return self.contract.feature_names if self.contract is not None else []


def check_drop_columns(contract: DataContract, drop_columns: tuple[str, ...]) -> None:
    """DataError when a column to drop is unknown or is the target."""
    if contract.target in drop_columns:
        raise DataError(f"cannot drop the target column '{contract.target}' (setting 'drop_columns')")
    unknown = [name for name in drop_columns if name not in contract.feature_names]
    if unknown:
        raise DataError(f"columns to drop not in the data: {', '.join(unknown)} (setting 'drop_columns')")
    if len(set(drop_columns)) >= len(contract.feature_names):
        raise DataError("setting 'drop_columns' drops every feature; keep at least one")


def build_preprocess_pipeline(contract: DataContract, options: PreprocessOptions) -> Pipeline:
    """An unfitted Pipeline: contract check, imputation, optional MinMax scaling, one-hot encoding.

    Unknown categories are encoded as all zeros; the output is a DataFrame with stable names.
    """
    check_drop_columns(contract, options.drop_columns)
    kept = [name for name in contract.feature_names if name not in options.drop_columns]
    numeric = [name for name in contract.columns_of_kind(FeatureKind.NUMERIC) if name in kept]
    boolean = [name for name in contract.columns_of_kind(FeatureKind.BOOLEAN) if name in kept]
    categorical = [name for name in contract.columns_of_kind(FeatureKind.CATEGORICAL) if name in kept]

    numeric_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True))
    ]
    if options.normalize:
        numeric_steps.append(("scale", MinMaxScaler()))
    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if boolean:
        transformers.append(
            ("boolean", SimpleImputer(strategy="most_frequent", keep_empty_features=True), boolean)
        )
    if categorical:
        encode = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
                ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype="float64")),
            ]
        )
        transformers.append(("categorical", encode, categorical))
    columns = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    pipeline = Pipeline([("contract", ContractCaster(contract)), ("columns", columns)])
    return pipeline.set_output(transform="pandas")


def drop_na_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows of ``frame`` with no missing value in ``columns``; DataError when none are left."""
    kept = frame.dropna(subset=columns)
    if kept.empty:
        raise DataError(
            "every row has a missing value; pass --no-drop-na to impute instead of dropping rows"
        )
    return kept
