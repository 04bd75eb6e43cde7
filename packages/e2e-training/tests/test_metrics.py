from typing import get_args

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer

from e2e_training import metrics


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(4)
    features = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})
    target = pd.Series(np.where(features["x"] + rng.normal(scale=0.7, size=300) > 0.3, "yes", "no"))
    return LogisticRegression().fit(features, target), features, target


def test_the_registry_is_the_setting_s_choices_and_scikit_learn_knows_every_scorer():
    assert list(metrics.METRICS) == list(get_args(metrics.MetricName))
    for metric in metrics.METRICS.values():
        get_scorer(metric.scorer)


@pytest.fixture(scope="module")
def fitted_regressor():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(5)
    features = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})
    target = pd.Series(50 + 3 * features["x"] - 2 * features["y"] + rng.normal(scale=0.5, size=300))
    return Ridge().fit(features, target), features, target


@pytest.mark.parametrize("name", list(metrics.METRICS))
def test_each_metric_agrees_with_its_cross_validation_scorer(fitted, fitted_regressor, name):
    model, features, target = fitted_regressor if metrics.metric(name).task == metrics.REGRESSION else fitted
    value = metrics.score(name, model, features, target)
    scorer_value = get_scorer(metrics.metric(name).scorer)(model, features, target)
    assert value == pytest.approx(metrics.from_scorer(name, scorer_value))
    baseline = metrics.baseline_score(name, target, target)
    assert metrics.better(name, value, baseline), (name, value, baseline)
    assert not metrics.better(name, baseline, value)


def test_log_loss_is_positive_and_lower_is_better(fitted):
    model, features, target = fitted
    loss = metrics.score("log_loss", model, features, target)
    assert loss > 0 and metrics.from_scorer("log_loss", -loss) == loss
    assert metrics.better("log_loss", 0.2, 0.3) and not metrics.better("log_loss", 0.3, 0.2)
    assert metrics.gain("log_loss", 0.2, 0.3) == pytest.approx(0.1)
    assert metrics.ranking_key("log_loss", 0.2) < metrics.ranking_key("log_loss", 0.3)
    assert metrics.required_score("log_loss", 0.6, 0.05) == pytest.approx(0.57)
    assert metrics.required_score("accuracy", 0.8, 0.05) == pytest.approx(0.81)


def test_ties_and_margins_are_not_better():
    assert not metrics.better("accuracy", 0.9, 0.9)
    assert not metrics.better("accuracy", 0.92, 0.90, 0.02)
    assert metrics.better("accuracy", 0.9201, 0.90, 0.02)


def test_the_majority_class_baseline_predicts_the_most_frequent_train_class_with_its_shares():
    train = pd.Series(["a"] * 7 + ["b"] * 3)
    holdout = pd.Series(["a", "b", "b", "b"])
    assert metrics.baseline_score("accuracy", train, holdout) == 0.25
    assert metrics.baseline_score("balanced_accuracy", train, holdout) == 0.5
    assert metrics.baseline_score("roc_auc", train, holdout) == 0.5
    assert metrics.baseline_score("log_loss", train, holdout) == pytest.approx(-(np.log(0.7) + 3 * np.log(0.3)) / 4)


def test_a_metric_undefined_on_the_rows_is_none(fitted):
    model, features, target = fitted
    one_class = target == "yes"
    assert metrics.score("roc_auc", model, features[one_class], target[one_class]) is None


def test_each_task_has_its_default_metric_and_a_metric_of_the_other_task_is_refused():
    assert metrics.default_metric("classification") == "accuracy"
    assert metrics.default_metric("regression") == "rmse"
    assert metrics.of_task("regression") == ["rmse", "mae", "r2", "mape"]
    assert metrics.task_mismatch("rmse", "regression") is None
    assert "--metric accuracy scores a classification, and this target is a regression" in metrics.task_mismatch(
        "accuracy", "regression"
    )


def test_errors_are_lower_is_better_and_r2_higher():
    assert metrics.better("rmse", 1.0, 2.0) and not metrics.better("rmse", 2.0, 1.0)
    assert metrics.better("mae", 1.0, 2.0) and metrics.better("mape", 0.1, 0.2)
    assert metrics.better("r2", 0.9, 0.5) and not metrics.better("r2", 0.5, 0.9)
    # The relative gate: 5 percent of the way from the mean's error to a perfect 0.
    assert metrics.required_score("rmse", 10.0, 0.05) == pytest.approx(9.5)


def test_mape_is_not_defined_where_a_target_is_zero_and_r2_not_on_one_row():
    from sklearn.dummy import DummyRegressor

    model = DummyRegressor(strategy="constant", constant=1.0).fit(np.zeros((2, 1)), [0.0, 2.0])
    assert metrics.score("mape", model, np.zeros((2, 1)), pd.Series([0.0, 2.0])) is None
    assert metrics.score("mape", model, np.zeros((2, 1)), pd.Series([2.0, 4.0])) == pytest.approx(0.625)
    assert metrics.score("r2", model, np.zeros((1, 1)), pd.Series([2.0])) is None
    assert metrics.score("rmse", model, np.zeros((2, 1)), pd.Series([2.0, 4.0])) == pytest.approx((5 / 1) ** 0.5)
