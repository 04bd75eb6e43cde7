"""The sklearn preprocessing both pipelines share: fitted by training, reused by inference.

Classes defined here are pickled into the ``preprocess_pipeline`` artifact: keep their import
path and attributes stable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from e2e_common.schemas import DataContract, FeatureKind

MISSING_CATEGORY = "__missing__"
# scikit-learn's name of the column that marks a numeric feature's missing values (``add_indicator``).
MISSING_INDICATOR_PREFIX = "missingindicator_"


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


# Numeric model inputs are kept within this magnitude: scikit-learn's tree models compute in float32,
# whose largest number is 3.4e38 (a value beyond it is an error, not a large number).
FEATURE_BOUND = 1e38


class MagnitudeBound(TransformerMixin, BaseEstimator):
    """Clips numeric features to ±``FEATURE_BOUND``.

    Raw values are checked to stay below 1e150 (``e2e_common.checks``); a row to score far outside a
    narrow training range can still scale beyond what a float32 model takes. Training values never
    reach the bound unless ``--no-normalize`` keeps them raw, where the clipped values keep their order.
    """

    def fit(self, X: pd.DataFrame, y: object = None) -> MagnitudeBound:
        self.n_features_in_ = X.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.clip(-FEATURE_BOUND, FEATURE_BOUND) if hasattr(X, "clip") else np.clip(X, -FEATURE_BOUND, FEATURE_BOUND)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = input_features if input_features is not None else getattr(self, "feature_names_in_", [])
        return np.asarray(names, dtype=object)


def build_preprocess_pipeline(
    contract: DataContract, normalize: bool = True, max_categories: int | None = None
) -> Pipeline:
    """An unfitted Pipeline: contract check, imputation, optional MinMax scaling, numbers bounded to
    ±``FEATURE_BOUND``, one-hot encoding.

    A numeric feature with missing values on the train rows gets, besides its median-filled column, a
    column ``missingindicator_<name>`` that is 1 where the value was missing: a linear model learns
    from it that a value was missing, and ``NativeCategories`` turns the pair back into a missing value
    for a gradient-boosting model, which learns where missing values go by itself.

    Unknown categories are encoded as all zeros; the output is a DataFrame with stable names.
    ``max_categories`` bounds the one-hot columns of each categorical: its ``max_categories - 1``
    most frequent levels on the train rows, and one column ``<name>_infrequent_sklearn`` for the
    others (None: one column per level).
    """
    numeric = contract.columns_of_kind(FeatureKind.NUMERIC)
    boolean = contract.columns_of_kind(FeatureKind.BOOLEAN)
    categorical = contract.columns_of_kind(FeatureKind.CATEGORICAL)

    numeric_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True, add_indicator=True))
    ]
    if normalize:
        numeric_steps.append(("scale", MinMaxScaler()))
    numeric_steps.append(("bound", MagnitudeBound()))
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
                # keep_empty_features: a column without any value still gives its (missing) level.
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, keep_empty_features=True)),
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



# HistGradientBoosting takes at most this many categories per categorical feature (its max_bins).
MOST_NATIVE_CATEGORIES = 255


class NativeCategories(BaseEstimator):
    """An estimator with native categorical support fitted on the shared preprocessing's output.

    The preprocessing one-hot encodes each categorical feature (so every model family takes the same
    ``preprocess_pipeline`` output); this turns each such feature's one-hot columns back into one
    column of pandas category codes (an unknown level, all zeros, becomes a missing value) before
    ``estimator`` (a HistGradientBoosting model with ``categorical_features="from_dtype"``) sees
    them. The one-hot columns of feature ``f`` are those named ``f_<level>``; a name matching two
    features goes to the longer one, and a name in ``other_features`` (the numeric and boolean
    features, which keep their names, e.g. ``cabin_count`` next to ``cabin``) is never one of them. A feature with more than ``MOST_NATIVE_CATEGORIES`` columns
    stays one-hot. A model version holding these classes needs an e2e-tabular-common that has them
    (both are new in 0.1.0, see its CHANGELOG).

    A numeric feature's median-filled column and its ``missingindicator_<name>`` column (see
    ``build_preprocess_pipeline``) become the feature's column with its missing values back, as
    ``estimator`` handles them natively.
    """

    def __init__(
        self, estimator: object = None, categorical: tuple[str, ...] = (), other_features: tuple[str, ...] = ()
    ) -> None:
        self.estimator = estimator
        self.categorical = categorical
        self.other_features = other_features

    def _groups(self, columns: list[str]) -> dict[str, list[str]]:
        names = sorted(self.categorical, key=len, reverse=True)
        groups: dict[str, list[str]] = {name: [] for name in self.categorical}
        for column in columns:
            if column in groups or column in self.other_features:
                continue
            owner = next((name for name in names if column.startswith(f"{name}_")), None)
            if owner is not None:
                groups[owner].append(column)
        return {name: found for name, found in groups.items() if 1 < len(found) <= MOST_NATIVE_CATEGORIES}

    def _missing(self, columns: list[str]) -> dict[str, str]:
        present = set(columns)
        return {
            column[len(MISSING_INDICATOR_PREFIX) :]: column
            for column in columns
            if column.startswith(MISSING_INDICATOR_PREFIX) and column[len(MISSING_INDICATOR_PREFIX) :] in present
            and column[len(MISSING_INDICATOR_PREFIX) :] in self.other_features
        }

    def _coded(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = getattr(self, "missing_", {})  # versions pickled before it have none
        coded = X.drop(columns=[column for found in self.groups_.values() for column in found] + list(missing.values()))
        for name, indicator in missing.items():
            coded[name] = X[name].mask(X[indicator].to_numpy() > 0)
        for name, found in self.groups_.items():
            onehot = X[found].to_numpy()
            codes = np.where(onehot.max(axis=1) > 0, onehot.argmax(axis=1), -1)
            coded[f"{name}__code"] = pd.Categorical.from_codes(codes, categories=range(len(found)))
        return coded

    def fit(self, X: pd.DataFrame, y: object) -> NativeCategories:
        from sklearn.base import clone

        self.groups_ = self._groups([str(column) for column in X.columns])
        self.missing_ = self._missing([str(column) for column in X.columns])
        self.estimator_ = clone(self.estimator).fit(self._coded(X), y)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict(self._coded(X))


class NativeCategoriesClassifier(ClassifierMixin, NativeCategories):
    """``NativeCategories`` around a classifier (a HistGradientBoostingClassifier)."""

    def fit(self, X: pd.DataFrame, y: object) -> NativeCategoriesClassifier:
        super().fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict_proba(self._coded(X))


class NativeCategoriesRegressor(RegressorMixin, NativeCategories):
    """``NativeCategories`` around a regressor (a HistGradientBoostingRegressor)."""


class Averaged(BaseEstimator):
    """The average of two or more models' predictions, each fitted on the rows and target it is given.

    The blend of model selection (``e2e_training.blend``): unlike scikit-learn's ``VotingClassifier``,
    which fits its members on the target re-encoded as 0..k-1, every member here sees the target as it
    is, as it did in cross-validation (a ``class_weight`` keyed by label keeps working), and members
    may have any names. ``estimators`` is a list of ``(name, estimator)``; the fitted members are
    ``estimators_``. A model version holding these classes needs an e2e-tabular-common that has them.
    """

    def __init__(self, estimators: list[tuple[str, object]] | None = None) -> None:
        self.estimators = estimators

    def _fit_members(self, X: pd.DataFrame, y: object) -> None:
        from sklearn.base import clone

        members = list(self.estimators or [])
        if len(members) < 2:
            raise ValueError(f"an average needs at least two estimators, got {len(members)}")
        self.estimators_ = [clone(estimator).fit(X, y) for _, estimator in members]


class AveragedClassifier(ClassifierMixin, Averaged):
    """``Averaged`` classifiers: the mean of their class probabilities (soft voting); the predicted class is
    the likeliest. The members must learn the same classes in the same order."""

    def fit(self, X: pd.DataFrame, y: object) -> AveragedClassifier:
        self._fit_members(X, y)
        first = list(self.estimators_[0].classes_)
        for (name, _), member in zip(self.estimators or [], self.estimators_, strict=True):
            if list(member.classes_) != first:
                raise ValueError(f"the averaged classifiers learned different classes: {name} has {list(member.classes_)}, not {first}")
        self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.mean([member.predict_proba(X) for member in self.estimators_], axis=0)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_)[np.argmax(self.predict_proba(X), axis=1)]


class AveragedRegressor(RegressorMixin, Averaged):
    """``Averaged`` regressors: the mean of their predictions."""

    def fit(self, X: pd.DataFrame, y: object) -> AveragedRegressor:
        self._fit_members(X, y)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.mean([np.asarray(member.predict(X), dtype="float64") for member in self.estimators_], axis=0)
