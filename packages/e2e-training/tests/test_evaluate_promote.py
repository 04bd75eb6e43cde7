import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from e2e_common.errors import QualityGateError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.evaluate import Scores, accuracy_gate_failures, assess, score
from e2e_training.names import METADATA_METRICS, METADATA_PROMOTION, METADATA_SPLIT
from e2e_training.preprocess import preprocessed
from e2e_training.promote import Comparison, Scorer, compare, decide, decide_against_stage
from e2e_training.report import describe_comparison, describe_decision, success_message
from e2e_training.settings import GateOptions, PromotionOptions, SplitOptions


def test_scores_of_a_multiclass_text_target_use_macro_f1_and_ovr_auc():
    rng = np.random.default_rng(1)
    features = pd.DataFrame({"x": rng.normal(size=150), "y": rng.normal(size=150)})
    target = pd.Series(np.where(features["x"] > 0.5, "high", np.where(features["x"] < -0.5, "low", "mid")))
    model = LogisticRegression().fit(features, target)
    scores = score(model, features, target)
    assert 0.8 < scores.accuracy <= 1 and 0 < scores.f1 <= 1 and scores.roc_auc > 0.9 and scores.rows == 150
    binary = target.where(target == "high", "other")
    assert score(LogisticRegression().fit(features, binary), features, binary).roc_auc > 0.9


def test_accuracy_gates_name_the_setting():
    good, poor = Scores(0.95, 0.9, 100), Scores(0.7, 0.6, 20)
    assert accuracy_gate_failures(good, good, 0.9, 0.9) == []
    assert accuracy_gate_failures(good, poor, 0.9, 0.8) == ["holdout accuracy 0.7000 is below --min-test-accuracy 0.8"]


def test_first_version_is_promoted_and_says_so():
    decision = decide("metric", "staging", 1, None)
    assert decision.promoted and decision.reason == "first version at stage 'staging'"
    assert describe_comparison(decision.as_metadata()) is None


@pytest.mark.parametrize(("new", "current", "promoted"), [(0.9, 0.9, True), (0.95, 0.9, True), (0.8, 0.9, False)])
def test_metric_promotion_needs_at_least_the_current_accuracy(new, current, promoted):
    decision = decide("metric", "production", 4, Comparison(3, 50, new, current))
    assert decision.promoted is promoted
    assert ("below" in decision.reason) is not promoted and "version 3 on the same 50 rows" in decision.reason
    text = describe_comparison(decision.as_metadata())
    assert f"new version 4 {new:.4f}" in text and f"version 3 at production {current:.4f}" in text


def test_latest_always_promotes_and_an_incomparable_current_blocks_metric():
    problem = Comparison(2, 0, problem="no holdout rows that neither version trained on")
    assert decide("latest", "staging", 3, problem).promoted
    refused = decide("metric", "staging", 3, problem)
    assert not refused.promoted and "--promotion latest" in refused.reason
    assert describe_decision(refused.as_metadata()).startswith("not promoted to staging: version 2")


def test_both_versions_are_scored_with_their_own_preprocessing_on_rows_neither_trained_on():
    rng = np.random.default_rng(2)
    rows = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    rows["target"] = (rows["a"] > 0).astype(int)
    full = DataContract.from_frame(rows, "target")
    only_b = DataContract.from_frame(rows[["b", "target"]], "target")

    def scorer(contract, fraction):
        preprocess = build_preprocess_pipeline(contract).fit(rows[contract.feature_names])
        model = LogisticRegression().fit(preprocess.transform(rows[contract.feature_names]), rows["target"])
        return Scorer(preprocess, model, fraction)

    comparison = compare(rows, "target", scorer(only_b, 0.2), scorer(full, 0.1), current_version=1)
    assert comparison.problem is None and comparison.current_score > comparison.new_score
    assert 0 < comparison.rows < 300
    missing = compare(rows.drop(columns=["a"]), "target", scorer(only_b, 0.2), scorer(full, 0.2), current_version=1)
    assert missing.problem.startswith("it cannot score these rows (missing feature columns: a")


def test_the_success_message_carries_the_decision_and_the_metrics():
    decision = decide("metric", "staging", 2, Comparison(1, 40, 0.95, 0.9)).as_metadata()
    message = success_message("m", "run-1", {"holdout": Scores(0.95, 0.94, 40).as_metadata()}, decision)
    assert "version 2" in message and "holdout accuracy 0.9500" in message and "promoted to staging" in message


@pytest.fixture(scope="module")
def fitted_version():
    """A tiny fitted version: raw rows, contract, preprocessing, model and the preprocessed rows."""
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"a": rng.normal(size=120), "color": rng.choice(["red", "blue"], 120)})
    rows["target"] = np.where(rows["a"] + rng.normal(scale=1.0, size=120) > 0, "yes", "no")
    contract = DataContract.from_frame(rows, "target")
    preprocess = build_preprocess_pipeline(contract).fit(rows[contract.feature_names])
    model = LogisticRegression().fit(preprocess.transform(rows[contract.feature_names]), rows["target"])
    return rows, contract, preprocess, model, preprocessed(preprocess, rows, contract)


def test_assessment_records_metrics_and_split_and_warns_below_the_gates(fitted_version):
    rows, contract, _, model, dataset = fitted_version
    gates = GateOptions(min_train_accuracy=0.99, min_test_accuracy=0.5)
    outcome = assess(model, dataset, dataset, contract, SplitOptions(test_size=0.25), gates, PromotionOptions(), 7)
    assert outcome.refusal is None and len(outcome.warnings) == 1 and "--min-train-accuracy" in outcome.warnings[0]
    assert outcome.metadata[METADATA_SPLIT]["holdout_fraction"] == 0.25
    assert outcome.metadata[METADATA_METRICS]["holdout"]["rows"] == len(rows)
    assert METADATA_PROMOTION not in outcome.metadata


def test_failing_gates_with_fail_on_refuse_and_record_why(fitted_version):
    _, contract, _, model, dataset = fitted_version
    gates = GateOptions(min_train_accuracy=0.99, min_test_accuracy=0.99, fail_on_accuracy_quality_gates=True)
    promotion = PromotionOptions(target_env="production")
    outcome = assess(model, dataset, dataset, contract, SplitOptions(), gates, promotion, 7)
    assert isinstance(outcome.refusal, QualityGateError) and "not promoted" in str(outcome.refusal)
    refused = outcome.metadata[METADATA_PROMOTION]
    assert refused["promoted"] is False and refused["stage"] == "production" and refused["new_version"] == 7
    assert refused["reason"].startswith("quality gate: train accuracy")


def test_with_no_version_at_the_stage_the_new_one_is_promoted(fitted_version):
    rows, contract, preprocess, model, _ = fitted_version
    decision = decide_against_stage(
        PromotionOptions(), SplitOptions(), preprocess, model, 1, None, rows, contract.target
    )
    assert decision.promoted and decision.stage == "staging" and decision.current_version is None
