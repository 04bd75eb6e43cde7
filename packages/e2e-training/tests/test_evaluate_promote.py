import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from e2e_common.errors import DataError, QualityGateError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.evaluate import Scores, assess, gate_failures, gate_failures_of, score
from e2e_training.names import METADATA_METRICS, METADATA_PROMOTION, METADATA_SPLIT
from e2e_training.preprocess import preprocessed
from e2e_training.promote import (
    Comparison,
    Scorer,
    check_comparable,
    compare,
    decide,
    decide_against_stage,
    incompatibility,
)
from e2e_training.report import (
    describe_comparison,
    describe_decision,
    describe_gates,
    describe_metric,
    describe_metrics,
    success_message,
)
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


def test_absolute_floors_are_off_by_default_and_name_the_setting_in_the_metric_direction():
    assert gate_failures("accuracy", 0.6, 0.6, 0.5, GateOptions()) == []
    floors = GateOptions(min_train_score=0.9, min_test_score=0.8)
    assert gate_failures("accuracy", 0.95, 0.7, 0.5, floors) == ["holdout accuracy 0.7000 is below --min-test-score 0.8"]
    losses = GateOptions(metric="log_loss", min_test_score=0.3)
    assert gate_failures("log_loss", 0.1, 0.2, 0.69, losses) == []
    assert gate_failures("log_loss", 0.1, 0.4, 0.69, losses) == ["holdout log_loss 0.4000 is above --min-test-score 0.3"]


@pytest.mark.parametrize(
    ("metric", "holdout", "baseline", "refused"),
    [
        ("accuracy", 0.80, 0.73, False),  # a churn-like model passes: it needs more than 0.7435
        ("accuracy", 0.74, 0.73, True),
        ("accuracy", 0.73, 0.73, True),  # no better than predicting the majority class
        ("roc_auc", 0.52, 0.5, True),
        ("log_loss", 0.45, 0.60, False),  # lower is better: needs below 0.57
        ("log_loss", 0.58, 0.60, True),
        ("log_loss", 0.65, 0.60, True),
    ],
)
def test_the_baseline_gate_needs_a_margin_over_the_majority_class(metric, holdout, baseline, refused):
    failures = gate_failures(metric, None, holdout, baseline, GateOptions(metric=metric))
    assert bool(failures) is refused
    if refused:
        assert failures[0].startswith(f"holdout {metric} {holdout:.4f} does not beat the majority-class baseline")


def test_a_model_of_a_target_independent_of_the_features_is_refused_even_without_the_fail_flag():
    rng = np.random.default_rng(5)
    rows = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    rows["target"] = rng.choice(["stay", "churn"], size=400, p=[0.8, 0.2])
    contract = DataContract.from_frame(rows, "target")
    preprocess = build_preprocess_pipeline(contract).fit(rows[contract.feature_names])
    dataset = preprocessed(preprocess, rows, contract)
    train, holdout = dataset.iloc[:300], dataset.iloc[300:]
    model = LogisticRegression().fit(train[["a", "b"]], train["target"])
    for metric in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"):
        gates = GateOptions(metric=metric)
        outcome = assess(model, train, holdout, contract, SplitOptions(), gates, PromotionOptions(metric=metric), 2)
        assert outcome.refusal is None and outcome.failures, metric
        assert gate_failures_of(outcome.metrics) == outcome.failures
        recorded = outcome.metadata[METADATA_METRICS]
        assert recorded["metric"] == metric and metric in recorded["holdout"] and metric in recorded["baseline"]
        assert recorded["quality_gates"]["passed"] is False
        assert describe_gates(recorded).startswith("refused: holdout " + metric)


def test_the_decision_of_a_refused_model_names_the_gate(fitted_version):
    _, contract, _, model, dataset = fitted_version
    gates = GateOptions(min_test_score=0.999)
    outcome = assess(model, dataset, dataset, contract, SplitOptions(), gates, PromotionOptions(), 7)
    assert outcome.refusal is None and outcome.failures == gate_failures_of(outcome.metrics)
    assert outcome.failures[-1].startswith("holdout accuracy") and "--min-test-score 0.999" in outcome.failures[-1]


def test_first_version_is_promoted_and_says_so():
    decision = decide("metric", "staging", 1, None)
    assert decision.promoted and decision.reason == "first version at stage 'staging'"
    assert describe_comparison(decision.as_metadata()) is None


@pytest.mark.parametrize(
    ("new", "current", "promoted", "relation"),
    [(0.9, 0.9, False, "ties with"), (0.95, 0.9, True, "is better than"), (0.8, 0.9, False, "is worse than")],
)
def test_metric_promotion_needs_a_better_score_and_a_tie_is_not_promoted(new, current, promoted, relation):
    decision = decide("metric", "production", 4, Comparison(3, 50, new, current))
    assert decision.promoted is promoted and decision.metric == "accuracy"
    assert decision.reason.startswith(f"holdout accuracy {new:.4f} {relation} {current:.4f} of version 3")
    assert decision.reason.endswith("on the same 50 rows")
    text = describe_comparison(decision.as_metadata())
    assert f"new version 4 {new:.4f}" in text and f"version 3 at production {current:.4f}" in text


@pytest.mark.parametrize(
    ("metric", "new", "current", "min_improvement", "promoted"),
    [
        ("accuracy", 0.92, 0.90, 0.0, True),
        ("accuracy", 0.92, 0.90, 0.02, False),  # better by exactly the minimum is not more than it
        ("accuracy", 0.93, 0.90, 0.02, True),
        ("log_loss", 0.20, 0.30, 0.05, True),  # lower is better
        ("log_loss", 0.28, 0.30, 0.05, False),
        ("log_loss", 0.35, 0.30, 0.0, False),
        ("roc_auc", 0.91, 0.90, 0.0, True),
        ("f1_macro", 0.70, 0.71, 0.0, False),
        ("balanced_accuracy", 0.71, 0.70, 0.0, True),
    ],
)
def test_min_improvement_in_each_metric_direction(metric, new, current, min_improvement, promoted):
    decision = decide("metric", "staging", 5, Comparison(4, 30, new, current), metric, min_improvement)
    assert decision.promoted is promoted, decision.reason
    assert decision.metric == metric and decision.reason.startswith(f"holdout {metric} {new:.4f}")
    if not promoted and new != current and (new < current) == (metric != "log_loss"):
        assert "is worse than" in decision.reason
    assert describe_comparison(decision.as_metadata()).startswith(f"{metric}: new version 5 {new:.4f}")


def test_data_contracts_of_other_targets_classes_or_columns_are_incompatible():
    rows = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"], "target": [0, 1, 0, 1]})
    base = DataContract.from_frame(rows, "target")
    assert incompatibility(base, DataContract.from_frame(rows[["b", "a", "target"]], "target")) is None
    assert incompatibility(base, DataContract.from_frame(rows.rename(columns={"target": "y"}), "y")) == "another target"
    assert incompatibility(base, DataContract.from_frame(rows.assign(target=[0, 1, 2, 1]), "target")) == "other classes"
    assert incompatibility(base, DataContract.from_frame(rows.drop(columns=["b"]), "target")) == "other feature columns"


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


def test_the_summary_names_the_metric_and_its_direction():
    recorded = {"metric": "log_loss", "holdout": {"accuracy": 0.9, "f1": 0.8, "rows": 10, "log_loss": 0.25}}
    assert describe_metric(recorded) == "log_loss (lower is better): selects, gates and promotes the model"
    assert describe_metrics(recorded) == ["holdout accuracy 0.9000, f1 0.8000, log_loss 0.2500 (10 rows)"]
    recorded |= {"baseline": {"log_loss": 0.6}, "quality_gates": {"failures": [], "required": 0.57}}
    assert describe_gates(recorded) == (
        "passed: holdout log_loss 0.2500 beats the majority-class baseline's 0.6000 (needs below 0.5700)"
    )


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


def test_assessment_records_metrics_and_split_and_the_failed_gates(fitted_version):
    rows, contract, _, model, dataset = fitted_version
    gates = GateOptions(min_train_score=0.99, min_test_score=0.5)
    outcome = assess(model, dataset, dataset, contract, SplitOptions(test_size=0.25), gates, PromotionOptions(), 7)
    assert outcome.refusal is None and len(outcome.failures) == 1 and "--min-train-score" in outcome.failures[0]
    assert outcome.metadata[METADATA_METRICS]["metric"] == "accuracy"
    assert outcome.metadata[METADATA_METRICS]["baseline"]["strategy"] == "prior"
    assert set(outcome.tracked) == {"train", "holdout", "baseline"}
    assert outcome.metadata[METADATA_SPLIT]["holdout_fraction"] == 0.25
    assert outcome.metadata[METADATA_METRICS]["holdout"]["rows"] == len(rows)
    assert METADATA_PROMOTION not in outcome.metadata


def test_failing_gates_with_fail_on_refuse_and_record_why(fitted_version):
    _, contract, _, model, dataset = fitted_version
    gates = GateOptions(min_train_score=0.99, min_test_score=0.99, fail_on_quality_gates=True)
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


def test_an_incompatible_version_at_the_stage_is_refused_unless_latest(fitted_version):
    rows, contract, _, _, _ = fitted_version
    other = DataContract.from_frame(
        pd.DataFrame({"tenure": [1, 2, 3, 4], "plan": list("abab"), "churned": ["no", "yes", "no", "yes"]}), "churned"
    )

    class Version:  # what check_comparable reads of a Model Control Plane version
        number = 1

        def get_artifact(self, name):
            return type("Artifact", (), {"load": lambda self: contract.model_dump()})()

    with pytest.raises(DataError) as refused:
        check_comparable("e2e_use_case", PromotionOptions(), other, Version())
    message = str(refused.value)
    assert "version 1 at stage 'staging' was trained on other data (another target)" in message
    assert "target 'target'" in message and "a, color" in message and "target 'churned'" in message
    assert "tenure" in message and "--model-name" in message and "--promotion latest" in message
    check_comparable("e2e_use_case", PromotionOptions(promotion="latest"), other, Version())
    check_comparable("e2e_use_case", PromotionOptions(), contract, Version())
    check_comparable("e2e_use_case", PromotionOptions(), other, None)
