"""The sklearn preprocessing both pipelines share: fitted by training, reused by inference.

Classes defined here are pickled into the ``preprocess_pipeline`` artifact: keep their import
path and attributes stable.
"""

from __future__ import annotations

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from e2e_common.schemas import DataContract, FeatureKind

MISSING_CATEGORY = "__missing__"


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


def build_preprocess_pipeline(
    contract: DataContract, normalize: bool = True, max_categories: int | None = None
) -> Pipeline:
    """An unfitted Pipeline: contract check, imputation, optional MinMax scaling, one-hot encoding.

    Unknown categories are encoded as all zeros; the output is a DataFrame with stable names.
    ``max_categories`` bounds the one-hot columns of each categorical: its ``max_categories - 1``
    most frequent levels on the train rows, and one column ``<name>_infrequent_sklearn`` for the
    others (None: one column per level).
    """
    numeric = contract.columns_of_kind(FeatureKind.NUMERIC)
    boolean = contract.columns_of_kind(FeatureKind.BOOLEAN)
    categorical = contract.columns_of_kind(FeatureKind.CATEGORICAL)

    numeric_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True))
    ]
    if normalize:
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
                (
                    "one_hot",
                    OneHotEncoder(
                        handle_unknown="ignore", sparse_output=False, dtype="float64", max_categories=max_categories
                    ),
                ),
            ]
        )
        transformers.append(("categorical", encode, categorical))
    columns = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    pipeline = Pipeline([("contract", ContractCaster(contract)), ("columns", columns)])
    return pipeline.set_output(transform="pandas")

