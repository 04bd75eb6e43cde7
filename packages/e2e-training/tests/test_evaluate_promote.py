import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from e2e_common.preprocessing import PreprocessOptions, build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.evaluate import Scores, accuracy_gate_failures, score
from e2e_training.promote import Comparison, Scorer, compare, decide
from e2e_training.report import describe_comparison, describe_decision, success_message


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
        preprocess = build_preprocess_pipeline(contract, PreprocessOptions()).fit(rows[contract.feature_names])
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
