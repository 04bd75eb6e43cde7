"""What the drift gate needs to know about the features, learned at training.

Each numeric feature's range on the train split, and each feature's share of the model's
permutation importance on the holdout, measured on the raw input columns (the version's own
preprocessing and model together), so one drifted column that carries most of the signal weighs
more than several that carry none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from e2e_common.schemas import DataContract, FeatureKind
from e2e_training.metrics import metric

# The scorer of the importance when the run's metric is MAPE and a holdout target is 0: MAPE is not
# defined there (scikit-learn would divide by its epsilon), so the importance is measured in RMSE.
UNDEFINED_MAPE_SCORER = "neg_root_mean_squared_error"

IMPORTANCE_REPEATS = 5
# The most permuted copies of the holdout scored in all: a wide table gets fewer repeats per feature
# (at least one), so its importance costs about as much as a narrow table's (ames' 73 features at 5
# repeats took 67-138 s, more than the search).
IMPORTANCE_EVALUATIONS = 120
IMPORTANCE_MAX_ROWS = 5_000
IMPORTANCE_SEED = 0


def numeric_ranges(train: pd.DataFrame, contract: DataContract) -> dict[str, tuple[float, float]]:
    """Minimum and maximum of each numeric feature on the train rows (missing values ignored)."""
    features = contract.validate(train).features
    ranges = {}
    for name in contract.columns_of_kind(FeatureKind.NUMERIC):
        values = features[name].dropna()
        if not values.empty:
            ranges[name] = (float(values.min()), float(values.max()))
    return ranges


def importance_repeats(features: int) -> int:
    """How often each feature is permuted: ``IMPORTANCE_REPEATS``, fewer for a wide table (at least once)."""
    return max(1, min(IMPORTANCE_REPEATS, IMPORTANCE_EVALUATIONS // max(features, 1)))


def feature_importance(
    preprocess: Pipeline, model: object, holdout: pd.DataFrame, contract: DataContract, scoring: str
) -> dict[str, float]:
    """Permutation importance of each raw feature on the holdout in ``scoring`` (a scikit-learn scorer
    name: the run's metric), clipped at 0, summing to 1.

    When no feature matters (every permutation leaves the score as it is), each gets an equal share.
    """
    rows = holdout if len(holdout) <= IMPORTANCE_MAX_ROWS else holdout.sample(IMPORTANCE_MAX_ROWS, random_state=0)
    scored = Pipeline([("preprocess", preprocess), ("model", model)])
    result = permutation_importance(
        scored,
        rows[contract.feature_names],
        rows[contract.target],
        scoring=scoring,
        n_repeats=importance_repeats(len(contract.feature_names)),
        random_state=IMPORTANCE_SEED,
    )
    means = np.clip(np.nan_to_num(result.importances_mean), 0.0, None)
    if means.sum() <= 0:
        means = np.ones(len(contract.feature_names))
    shares = means / means.sum()
    return {name: float(share) for name, share in zip(contract.feature_names, shares, strict=True)}


def importance_scorer(metric_name: str, holdout: pd.DataFrame, contract: DataContract) -> str:
    """The scikit-learn scorer of the permutation importance: the run's metric's, except MAPE on a
    holdout where a target is 0 (``UNDEFINED_MAPE_SCORER``)."""
    if metric_name == "mape" and (pd.to_numeric(holdout[contract.target], errors="coerce") == 0).any():
        return UNDEFINED_MAPE_SCORER
    return metric(metric_name).scorer


def complete_contract(
    contract: DataContract,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    preprocess: Pipeline,
    model: object,
    metric_name: str,
) -> DataContract:
    """The data contract with each feature's training range and importance in the run's metric (a
    classification or a regression metric; RMSE for MAPE on a holdout with a target of 0): what
    inference reads."""
    ranges = numeric_ranges(train, contract)
    importance = feature_importance(preprocess, model, holdout, contract, importance_scorer(metric_name, holdout, contract))
    features = [
        spec.model_copy(
            update={
                "minimum": ranges.get(spec.name, (None, None))[0],
                "maximum": ranges.get(spec.name, (None, None))[1],
                "importance": importance[spec.name],
            }
        )
        for spec in contract.features
    ]
    return contract.model_copy(update={"features": features})
