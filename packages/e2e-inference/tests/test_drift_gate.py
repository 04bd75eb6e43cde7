"""The drift gate with real Evidently: planted drifts that hurt are refused, and rows drawn from the
training distribution pass (at least 19 of 20 resamples on each of three data sets).

Each data set is split in two: the train half fits a contract, the version's preprocessing and a model,
gives the drift reference and the training ranges; permutation importance is measured on the other
half, as e2e-train does. Resamples are drawn from that other half (rows the model never saw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from e2e_common.contract import DRIFT_REFERENCE
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract, FeatureKind
from e2e_inference.drift import check_against_version
from e2e_inference.settings import DriftOptions

pytestmark = pytest.mark.slow  # dozens of Evidently reports

RESAMPLES = 20
RESAMPLE_ROWS = 200
OPTIONS = DriftOptions()


@dataclass
class Version:
    """What the gate reads of a trained version: its contract (v2), preprocessing and reference."""

    contract: DataContract
    preprocess: Pipeline
    reference: pd.DataFrame
    unseen: pd.DataFrame

    def check(self, rows: pd.DataFrame):
        return check_against_version(rows, self.contract, self.preprocess, self.reference, DRIFT_REFERENCE, OPTIONS)

    def most_important(self, kind: FeatureKind) -> str:
        specs = [spec for spec in self.contract.features if spec.kind is kind]
        return max(specs, key=lambda spec: spec.importance).name


def trained_version(frame: pd.DataFrame, target: str) -> Version:
    train = frame.sample(frac=0.5, random_state=0)
    unseen = frame.drop(index=train.index)
    contract = DataContract.from_frame(train, target)
    features = contract.feature_names
    preprocess = build_preprocess_pipeline(contract).fit(train[features])
    model = LogisticRegression(max_iter=2000).fit(preprocess.transform(train[features]), train[target])
    scored = Pipeline([("preprocess", preprocess), ("model", model)])
    importance = permutation_importance(scored, unseen[features], unseen[target], n_repeats=5, random_state=0)
    shares = np.clip(importance.importances_mean, 0, None)
    shares = shares / shares.sum()
    reference = contract.validate(train).features
    specs = []
    for spec, share in zip(contract.features, shares, strict=True):
        update = {"importance": float(share)}
        if spec.kind is FeatureKind.NUMERIC:
            update |= {"minimum": float(reference[spec.name].min()), "maximum": float(reference[spec.name].max())}
        specs.append(spec.model_copy(update=update))
    return Version(contract.model_copy(update={"features": specs}), preprocess, reference, unseen.drop(columns=target))


def breast_cancer() -> Version:
    return trained_version(load_breast_cancer(as_frame=True).frame, "target")


def multiclass_with_categoricals() -> Version:
    rng = np.random.default_rng(7)
    rows = 1_200
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "weight": rng.normal(50, 5, rows),
            "color": rng.choice(["red", "green", "blue", "black"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "fragile": rng.choice([True, False], rows),
            "noise": rng.normal(0, 1, rows),
        }
    )
    score = frame["size"] + (frame["color"] == "red") * 3 + rng.normal(0, 0.5, rows)
    frame["label"] = np.where(score > 12, "high", np.where(score > 9, "mid", "low"))
    frame.loc[rng.choice(rows, 120, replace=False), "weight"] = np.nan
    frame.loc[rng.choice(rows, 60, replace=False), "color"] = None
    return trained_version(frame, "label")


def larger_synthetic() -> Version:
    features, target = make_classification(
        n_samples=20_000, n_features=20, n_informative=6, n_redundant=2, random_state=3
    )
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(20)]).assign(target=target)
    return trained_version(frame, "target")


VERSIONS = {"binary numeric": breast_cancer, "multiclass, categoricals, missing": multiclass_with_categoricals,
            "larger synthetic": larger_synthetic}


@pytest.fixture(scope="module", params=list(VERSIONS))
def version(request) -> Version:
    return VERSIONS[request.param]()


def test_rows_from_the_training_distribution_pass_at_least_19_of_20_times(version):
    refusals = []
    for seed in range(RESAMPLES):
        rows = version.unseen.sample(n=min(RESAMPLE_ROWS, len(version.unseen)), random_state=seed)
        decision = version.check(rows).decision
        if decision.refused:
            refusals.append(decision.summary())
    print(f"false alarms: {len(refusals)} of {RESAMPLES}")
    assert len(refusals) <= 1, f"{len(refusals)} false alarms in {RESAMPLES}:\n" + "\n".join(refusals)


def test_a_strong_shift_of_the_most_important_feature_is_refused(version):
    rows = version.unseen.sample(n=RESAMPLE_ROWS, random_state=100).copy()
    column = version.most_important(FeatureKind.NUMERIC)
    spread = version.reference[column].std()
    rows[column] = rows[column] + 1.5 * spread
    decision = version.check(rows).decision
    assert decision.refused and decision.most_drifted()[0].column == column, decision.summary()
    assert decision.weighted_drift_share >= version.contract.feature(column).importance


def test_out_of_range_values_in_a_tenth_of_the_rows_are_refused(version):
    rows = version.unseen.sample(n=RESAMPLE_ROWS, random_state=101).copy()
    column = version.most_important(FeatureKind.NUMERIC)
    rows.loc[rows.index[: RESAMPLE_ROWS // 10], column] = version.contract.feature(column).maximum * 10 + 1
    decision = version.check(rows).decision
    assert decision.refused and column in decision.out_of_range_columns, decision.summary()
    assert f"{column}: 10.0% of {RESAMPLE_ROWS} rows" in decision.summary()


def test_missing_values_injected_are_refused(version):
    rows = version.unseen.sample(n=RESAMPLE_ROWS, random_state=102).copy()
    column = version.most_important(FeatureKind.NUMERIC)
    rows.loc[rows.index[: RESAMPLE_ROWS // 4], column] = np.nan
    decision = version.check(rows).decision
    assert decision.refused and column in decision.na_moved_columns, decision.summary()


def test_a_categorical_distribution_turned_over_is_refused():
    version = multiclass_with_categoricals()
    rows = version.unseen.sample(n=400, random_state=103).copy()
    turned = {"red": "black", "black": "red", "green": "blue", "blue": "green"}
    rows["color"] = rows["color"].map(turned)
    decision = version.check(rows).decision
    assert decision.refused and "color" in decision.drifted_columns, decision.summary()
