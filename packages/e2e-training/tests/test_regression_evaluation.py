"""A regression's evaluation, gates, holdout predictions, promotion and summary, on tiny tables with
real fitted scikit-learn models; and the rule that a regressor never replaces a classifier (or the reverse)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from e2e_common.contract import DATA_CONTRACT, HOLDOUT_PREDICTION_COLUMN, MODEL, PREPROCESS_PIPELINE, Task
from e2e_common.errors import DataError, QualityGateError
from e2e_common.preprocessing import NativeCategoriesRegressor, build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training import names
from e2e_training.evaluate import (
    assess,
    gate_failures,
    holdout_predictions,
    limit_failures,
    regression_scores,
)
from e2e_training.operations import check_movable
from e2e_training.preprocess import preprocessed
from e2e_training.profile import complete_contract, importance_scorer
from e2e_training.promote import (
    Scorer,
    check_comparable,
    compare,
    decide,
    describe_contract,
    incompatibility,
)
from e2e_training.registry import model_metadata
from e2e_training.report import (
    describe_gates,
    describe_metrics,
    describe_rows,
    describe_task,
    summary_markdown,
)
from e2e_training.settings import GateOptions, PromotionOptions, SplitOptions
from e2e_training.tracking import logged_params, raw_signature, whole_model


def price_rows(rows: int = 300, seed: int = 0, signal: bool = True) -> pd.DataFrame:
    """Prices that follow size and area (or, without ``signal``, do not)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"size": rng.normal(50, 10, rows), "area": rng.choice(["north", "south"], rows)})
    followed = 3 * frame["size"] + np.where(frame["area"] == "north", 20.0, 0.0)
    frame["price"] = (followed + rng.normal(0, 5, rows)) if signal else rng.normal(170, 30, rows)
    return frame


def fitted(rows: pd.DataFrame, model: object, target: str = "price"):
    """The contract, preprocessing, fitted model and preprocessed rows of ``rows``."""
    contract = DataContract.from_frame(rows, target)
    preprocess = build_preprocess_pipeline(contract).fit(rows[contract.feature_names])
    dataset = preprocessed(preprocess, rows, contract)
    model.fit(dataset.drop(columns=[target]), dataset[target])
    return contract, preprocess, model, dataset


@pytest.fixture(scope="module")
def regression():
    rows = price_rows()
    contract, preprocess, model, dataset = fitted(rows, Ridge())
    return rows, contract, preprocess, model, dataset


class Artifact:
    def __init__(self, value):
        self.value = value

    def load(self):
        return self.value


class Version:
    """What check_comparable and check_movable read of a Model Control Plane version."""

    def __init__(self, number: int, contract: DataContract, passed: bool = True):
        self.number = number
        self.contract = contract
        self.run_metadata = {names.METADATA_METRICS: {"quality_gates": {"passed": passed}}}

    def get_artifact(self, name):
        return Artifact(self.contract.model_dump() if name == DATA_CONTRACT else object())


def classification_contract() -> DataContract:
    rows = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "area": list("abab"), "y": [0, 1, 0, 1]})
    return DataContract.from_frame(rows, "y")


# The gates


@pytest.mark.parametrize(
    ("metric", "holdout", "baseline", "refused"),
    [
        ("rmse", 5.0, 30.0, False),  # needs below 28.5
        ("rmse", 29.0, 30.0, True),  # better than the mean, not by the margin
        ("rmse", 31.0, 30.0, True),
        ("mae", 3.0, 25.0, False),
        ("mae", 24.0, 25.0, True),
        ("r2", 0.8, 0.0, False),  # needs above 0.05
        ("r2", 0.04, 0.0, True),
        ("mape", 0.03, 0.2, False),
        ("mape", 0.195, 0.2, True),  # needs below 0.19
    ],
)
def test_the_baseline_gate_of_a_regression_metric_needs_a_margin_over_the_mean(metric, holdout, baseline, refused):
    failures = gate_failures(metric, None, holdout, baseline, GateOptions(metric=metric))
    assert bool(failures) is refused
    if refused:
        assert failures[0].startswith(f"holdout {metric} {holdout:.4f} does not beat the mean baseline's {baseline:.4f}")
        assert "majority-class" not in failures[0]


def test_an_undefined_baseline_names_the_mean_baseline_and_fails():
    assert gate_failures("mape", None, 0.1, None, GateOptions(metric="mape")) == [
        "the mean baseline's holdout mape is not defined: the gate cannot pass"
    ]
    assert gate_failures("accuracy", None, 0.9, None, GateOptions())[0].startswith("the majority-class baseline's")


@pytest.mark.parametrize(
    ("limits", "holdout", "failures"),
    [
        ({"max_rmse": 2.0}, {"rmse": 1.5}, []),
        ({"max_rmse": 2.0}, {"rmse": 2.0}, []),  # at the limit is not above it
        ({"max_rmse": 2.0}, {"rmse": 2.5}, ["holdout rmse 2.5000 is above --max-rmse 2.0"]),
        ({"max_mae": 1.0}, {"mae": 1.25}, ["holdout mae 1.2500 is above --max-mae 1.0"]),
        ({"max_mape": 0.1}, {"mape": 0.05}, []),
        ({"min_r2": 0.5}, {"r2": 0.4}, ["holdout r2 0.4000 is below --min-r2 0.5"]),
        ({"min_r2": 0.5}, {"r2": 0.9}, []),
        (
            {"max_mape": 0.1},
            {"rmse": 1.0},
            ["holdout mape is not defined (a holdout target is 0), so --max-mape 0.1 cannot be checked"],
        ),
        ({"max_rmse": 2.0, "min_r2": 0.5}, {"rmse": 3.0, "r2": 0.1}, ["holdout rmse 3.0000 is above --max-rmse 2.0",
                                                                      "holdout r2 0.1000 is below --min-r2 0.5"]),
    ],
)
def test_error_limits_are_checked_on_the_holdout_in_each_direction(limits, holdout, failures):
    assert limit_failures(holdout, GateOptions(metric="rmse", **limits)) == failures


def test_a_regressor_is_scored_in_rmse_mae_r2_and_mape_against_the_mean_and_its_limits_recorded(regression):
    rows, contract, _, model, dataset = regression
    train, holdout = dataset.iloc[:240], dataset.iloc[240:]
    gates = GateOptions(metric="rmse", max_rmse=50.0, min_r2=0.99)
    outcome = assess(model, train, holdout, contract, SplitOptions(), gates, PromotionOptions(metric="rmse"), 3)
    recorded = outcome.metadata[names.METADATA_METRICS]
    assert recorded["metric"] == "rmse" and contract.task is Task.REGRESSION
    for name in ("train", "holdout", "baseline"):
        assert {"rmse", "mae", "r2", "mape"} <= set(recorded[name]), name
    assert recorded["holdout"]["rows"] == 60 and recorded["baseline"]["strategy"] == "mean"
    assert recorded["holdout"]["rmse"] < 0.5 * recorded["baseline"]["rmse"]
    assert recorded["holdout"]["r2"] > 0.8 and abs(recorded["baseline"]["r2"]) < 0.1
    assert "accuracy" not in recorded["holdout"] and "f1" not in recorded["holdout"]
    assert {"holdout_rmse", "holdout_mae", "holdout_r2", "holdout_mape", "baseline_rmse", "train_r2"} <= {
        f"{data_set}_{key}" for data_set, values in outcome.tracked.items() for key in values
    }
    # min_r2 0.99 is not met: the one failure, and the limits recorded with their verdicts
    assert outcome.refusal is None and len(outcome.failures) == 1
    assert outcome.failures[0].startswith("holdout r2 ") and outcome.failures[0].endswith("is below --min-r2 0.99")
    gates_recorded = recorded["quality_gates"]
    assert gates_recorded["passed"] is False
    assert gates_recorded["limits"] == {
        "rmse": {"flag": "--max-rmse", "limit": 50.0, "passed": True},
        "r2": {"flag": "--min-r2", "limit": 0.99, "passed": False},
    }
    assert outcome.metadata[names.METADATA_TASK] == "regression"
    assert outcome.metadata[names.METADATA_TASK_REASON].startswith("the target holds numbers with fractions")
    assert describe_gates(recorded).startswith("refused: holdout r2 ")


def test_a_regressor_that_passes_its_limits_and_the_mean_baseline_is_described_as_passed(regression):
    _, contract, _, model, dataset = regression
    gates = GateOptions(metric="mae", max_mae=100.0)
    outcome = assess(model, dataset, dataset, contract, SplitOptions(), gates, PromotionOptions(metric="mae"), 3)
    assert outcome.failures == []
    described = describe_gates(outcome.metrics)
    assert described.startswith("passed: holdout mae ") and "beats the mean baseline's" in described
    assert described.endswith("(needs below {:.4f}); within --max-mae 100.0".format(outcome.metrics["quality_gates"]["required"]))
    assert describe_metrics(outcome.metrics)[1].startswith("holdout rmse ")
    assert ", mae " in describe_metrics(outcome.metrics)[1] and ", r2 " in describe_metrics(outcome.metrics)[1]


def test_a_regressor_of_a_target_independent_of_the_features_fails_the_mean_baseline_and_with_the_flag_exits_3():
    rows = price_rows(seed=2, signal=False)
    contract, preprocess, model, train = fitted(rows.iloc[:220], DecisionTreeRegressor(max_depth=6, random_state=0))
    holdout = preprocessed(preprocess, rows.iloc[220:], contract)
    for metric in ("rmse", "mae", "r2"):
        gates = GateOptions(metric=metric)
        outcome = assess(model, train, holdout, contract, SplitOptions(), gates, PromotionOptions(metric=metric), 2)
        assert outcome.refusal is None and outcome.failures, metric
        assert "does not beat the mean baseline's" in outcome.failures[0]
    failing = GateOptions(metric="rmse", fail_on_quality_gates=True)
    refused = assess(model, train, holdout, contract, SplitOptions(), failing, PromotionOptions(metric="rmse"), 2)
    assert isinstance(refused.refusal, QualityGateError)
    assert refused.metadata[names.METADATA_PROMOTION]["reason"].startswith("quality gate: holdout rmse")


def test_mape_is_left_out_where_a_holdout_target_is_0_and_a_max_mape_then_fails():
    rows = price_rows(seed=3)
    rows.loc[rows.index[-1], "price"] = 0.0
    contract, _, model, dataset = fitted(rows, Ridge())
    gates = GateOptions(metric="rmse", max_mape=0.5)
    outcome = assess(model, dataset, dataset, contract, SplitOptions(), gates, PromotionOptions(metric="rmse"), 1)
    assert "mape" not in outcome.metrics["holdout"] and "mape" not in outcome.metrics["baseline"]
    assert "rmse" in outcome.metrics["holdout"] and "holdout_mape" not in outcome.tracked
    assert outcome.failures == ["holdout mape is not defined (a holdout target is 0), so --max-mape 0.5 cannot be checked"]
    assert regression_scores([0.0, 1.0], [0.5, 1.0]).mape is None
    assert regression_scores([2.0, 2.0], [1.0, 3.0]).r2 is None


def test_a_metric_of_the_other_task_is_refused_before_anything_is_scored(regression):
    _, contract, _, model, dataset = regression
    with pytest.raises(DataError, match="--metric accuracy scores a classification, and this target is a regression"):
        assess(model, dataset, dataset, contract, SplitOptions(), GateOptions(), PromotionOptions(), 1)


# The holdout predictions


def test_the_holdout_predictions_are_the_model_s_numbers_on_the_holdout_rows(regression):
    _, contract, _, model, dataset = regression
    holdout = dataset.iloc[250:]
    predictions = holdout_predictions(model, holdout, contract)
    assert list(predictions.columns) == [HOLDOUT_PREDICTION_COLUMN] and len(predictions) == 50
    assert predictions[HOLDOUT_PREDICTION_COLUMN].dtype == "float64"
    expected = model.predict(holdout.drop(columns=["price"]))
    assert np.allclose(predictions[HOLDOUT_PREDICTION_COLUMN].to_numpy(), expected)
    assert not np.allclose(predictions[HOLDOUT_PREDICTION_COLUMN].to_numpy(), holdout["price"].to_numpy())


def test_the_holdout_predictions_of_a_classifier_are_its_classes():
    rng = np.random.default_rng(4)
    rows = pd.DataFrame({"a": rng.normal(size=120), "color": rng.choice(["red", "blue"], 120)})
    rows["target"] = np.where(rows["a"] > 0, "yes", "no")
    contract, _, model, dataset = fitted(rows, LogisticRegression(), target="target")
    predictions = holdout_predictions(model, dataset.iloc[:30], contract)
    assert list(predictions.columns) == [HOLDOUT_PREDICTION_COLUMN] and len(predictions) == 30
    assert set(predictions[HOLDOUT_PREDICTION_COLUMN]) <= {"yes", "no"}


# Promotion: the same fair rule, in the error's direction; never across tasks


def test_a_better_regressor_replaces_a_worse_one_and_not_the_reverse_on_the_same_rows():
    rows = price_rows(rows=400, seed=5)
    contract, preprocess, better, _ = fitted(rows, HistGradientBoostingRegressor(max_iter=50, random_state=0))
    _, stump_preprocess, worse, _ = fitted(rows, DecisionTreeRegressor(max_depth=1))
    good, stump = Scorer(preprocess, better, 0.2), Scorer(stump_preprocess, worse, 0.2)

    replaced = compare(rows, "price", good, stump, current_version=1, metric="rmse")
    assert replaced.problem is None and replaced.new_score < replaced.current_score
    promoted = decide("metric", "staging", 2, replaced, "rmse", 0.5)
    assert promoted.promoted and promoted.reason.startswith(f"holdout rmse {replaced.new_score:.4f} is better than")

    kept = compare(rows, "price", stump, good, current_version=2, metric="rmse")
    refused = decide("metric", "staging", 3, kept, "rmse")
    assert not refused.promoted and "is worse than" in refused.reason

    gap = replaced.current_score - replaced.new_score
    too_small = decide("metric", "staging", 2, replaced, "rmse", gap + 0.01)
    assert not too_small.promoted and "not more than --min-improvement" in too_small.reason
    r2 = compare(rows, "price", good, stump, current_version=1, metric="r2")
    assert decide("metric", "staging", 2, r2, "r2").promoted and r2.new_score > r2.current_score


def test_a_task_change_is_incompatible_and_a_regression_target_is_a_number(regression):
    _, contract, _, _, _ = regression
    classes = classification_contract()
    assert incompatibility(contract, classes) == "another task"
    assert incompatibility(classes, contract) == "another task"
    assert incompatibility(contract, contract) is None
    assert describe_contract(contract) == "target 'price' (a number), 2 feature columns: size, area"
    assert describe_contract(classes).startswith("target 'y' (classes 0, 1)")


@pytest.mark.parametrize("promotion", ["metric", "latest"])
def test_a_regressor_never_replaces_a_classifier_nor_the_reverse_even_with_latest(regression, promotion):
    _, regression_contract, _, _, _ = regression
    classes = classification_contract()
    options = PromotionOptions(promotion=promotion, metric="rmse")
    with pytest.raises(DataError) as refused:
        check_comparable("m", options, regression_contract, Version(3, classes))
    assert str(refused.value) == (
        "model 'm' version 3 at stage 'staging' is a classification (target 'y', classes 0, 1); this data is a "
        "regression (target 'price'): a regressor never replaces a classifier; pass --model-name to train a model "
        "of its own"
    )
    with pytest.raises(DataError, match="is a regression .target 'price'.; this data is a classification .* a classifier never replaces a regressor"):
        check_comparable("m", PromotionOptions(promotion=promotion), classes, Version(3, regression_contract))
    check_comparable("m", options, regression_contract, Version(3, regression_contract))
    check_comparable("m", options, regression_contract, None)


def test_other_regression_data_is_refused_by_metric_promotion_and_replaced_with_latest(regression):
    _, contract, _, _, _ = regression
    other = DataContract.from_frame(price_rows(rows=20).rename(columns={"price": "cost"}), "cost")
    with pytest.raises(DataError, match=r"\(another target\): it has target 'price' \(a number\)"):
        check_comparable("m", PromotionOptions(metric="rmse"), other, Version(1, contract))
    check_comparable("m", PromotionOptions(metric="rmse", promotion="latest"), other, Version(1, contract))


def test_e2e_models_moves_no_stage_across_tasks_even_with_force(regression):
    _, contract, _, _, _ = regression
    classes = classification_contract()
    for force in (False, True):
        with pytest.raises(DataError) as refused:
            check_movable("m", Version(4, contract), "production", Version(2, classes), force)
        message = str(refused.value)
        assert message.startswith("version 4 of model 'm' is a regression (target 'price'); version 2 at stage")
        assert "a regressor never replaces a classifier, not even with --force" in message
    check_movable("m", Version(4, contract), "production", Version(2, contract), False)
    check_movable("m", Version(4, contract, passed=False), "production", None, True)
    with pytest.raises(DataError, match="refused by its quality gates"):
        check_movable("m", Version(4, contract, passed=False), "production", Version(2, contract), False)


# The summary


def test_the_summary_says_which_task_and_why_and_the_rows_left_out(regression):
    _, contract, _, model, dataset = regression
    outcome = assess(model, dataset, dataset, contract, SplitOptions(), GateOptions(metric="rmse"),
                     PromotionOptions(metric="rmse"), 1)
    metadata = {**outcome.metadata, names.METADATA_ROWS: {"read": 305, "without_target": 5, "with_missing_values": 0,
                                                          "train": 240, "holdout": 60}}
    assert describe_task(metadata).startswith("regression: the target holds numbers with fractions (e.g. ")
    assert describe_rows(metadata) == "305 read, 5 without a target left out: 240 train, 60 holdout"
    assert describe_task({}) is None and describe_rows({}) is None
    decision = decide("metric", "staging", 1, None, "rmse").as_metadata()
    page = summary_markdown("prices", 1, outcome.metrics, decision, {"metric": "rmse"}, {}, contract,
                            metadata[names.METADATA_ROWS])
    assert "Task: regression: the target holds numbers with fractions" in page
    assert "Rows: 305 read, 5 without a target left out: 240 train, 60 holdout" in page
    assert "| holdout | holdout rmse " in page and "| baseline (mean) | baseline (mean) rmse " in page
    assert "beats the mean baseline's" in page


# The registry model, the importance


def test_the_whole_model_of_a_regressor_logs_the_wrapped_regressor_and_outputs_doubles(regression):
    rows, contract, preprocess, _, dataset = regression
    wrapped = NativeCategoriesRegressor(HistGradientBoostingRegressor(max_iter=20), categorical=("area",),
                                        other_features=("size",))
    wrapped.fit(dataset.drop(columns=["price"]), dataset["price"])
    params = logged_params(wrapped)
    assert params["estimator"] == "HistGradientBoostingRegressor" and params["max_iter"] == "20"
    whole = whole_model(preprocess, wrapped)
    example = rows[contract.feature_names].head(5)
    signature = raw_signature(contract, example, whole.predict(example))
    assert [spec.type.name for spec in signature.outputs.inputs] == ["double"]
    assert model_metadata("prices", 1, contract)["task"] == "regression"


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2", "mape"])
def test_the_importance_of_a_regression_is_measured_in_its_metric(metric):
    rng = np.random.default_rng(6)
    rows = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    rows["price"] = 100 + 20 * rows["signal"] + rng.normal(scale=2, size=400)
    train, holdout = rows.iloc[:300], rows.iloc[300:]
    contract, preprocess, model, _ = fitted(train, Ridge())
    completed = complete_contract(contract, train, holdout, preprocess, model, metric)
    importance = {spec.name: spec.importance for spec in completed.features}
    assert sum(importance.values()) == pytest.approx(1.0) and importance["signal"] > 0.9


def test_the_importance_falls_back_to_rmse_for_mape_on_a_holdout_target_of_0(regression):
    _, contract, _, _, _ = regression
    assert importance_scorer("mape", pd.DataFrame({"price": [1.0, 0.0]}), contract) == "neg_root_mean_squared_error"
    assert importance_scorer("mape", pd.DataFrame({"price": [1.0, 2.0]}), contract) == "neg_mean_absolute_percentage_error"
    assert importance_scorer("rmse", pd.DataFrame({"price": [0.0]}), contract) == "neg_root_mean_squared_error"


def test_a_version_without_a_preprocessing_or_model_artifact_cannot_be_moved(regression):
    _, contract, _, _, _ = regression

    class Bare(Version):
        def get_artifact(self, name):
            return None if name in (PREPROCESS_PIPELINE, MODEL) else super().get_artifact(name)

    with pytest.raises(DataError, match="has no preprocess_pipeline, model artifact"):
        check_movable("m", Bare(5, contract), "staging", None, True)


def test_predictions_that_are_not_numbers_leave_every_metric_undefined_instead_of_crashing():
    import numpy as np

    from e2e_training.evaluate import regression_scores

    scores = regression_scores(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 3.0]))
    assert scores.rmse is None and scores.mae is None and scores.r2 is None and scores.rows == 3
