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


@pytest.mark.parametrize("name", list(metrics.METRICS))
def test_each_metric_agrees_with_its_cross_validation_scorer(fitted, name):
    model, features, target = fitted
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
