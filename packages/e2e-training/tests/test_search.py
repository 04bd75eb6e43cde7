import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError, UsageError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.search import (
    CandidateScore,
    Selection,
    check_search,
    cv_splitter,
    search_family,
    select_best,
)
from e2e_training.settings import ModelFamily, SearchOptions


def options(**values) -> SearchOptions:
    return SearchOptions(**{"n_iter": 2, "cv_folds": 3, "metric": "accuracy", "random_state": 0, **values})


def test_selection_picks_the_best_cv_score_not_the_order():
    candidates = [
        CandidateScore("decision_tree", 0.81),
        CandidateScore("random_forest", 0.93),
        CandidateScore("logistic_regression", 0.88),
    ]
    assert select_best(candidates) == 1
    assert select_best(list(reversed(candidates))) == 1
    selection = Selection.of(candidates, 1)
    assert selection.selected == "random_forest" and selection.candidates["decision_tree"] == 0.81


def test_a_loss_selects_the_lowest_cv_score_and_stores_it_positive(separable):
    losses = [CandidateScore("a", 0.30, metric="log_loss"), CandidateScore("b", 0.12, metric="log_loss")]
    assert select_best(losses) == 1 and Selection.of(losses, 1).metric == "log_loss"
    features, target, preprocess = separable
    family = ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": {"log": [0.1, 10]}})
    candidate = search_family("linear", family, features, target, preprocess, options(metric="log_loss"))
    assert 0 < candidate.score.cv_score < 0.3 and candidate.score.metric == "log_loss"
    assert CandidateScore.from_metadata(candidate.score.as_metadata()) == candidate.score


def test_ties_go_to_the_steadier_candidate_then_the_name():
    assert select_best([CandidateScore("b", 0.9, 0.05), CandidateScore("a", 0.9, 0.01)]) == 1
    assert select_best([CandidateScore("b", 0.9, 0.01), CandidateScore("a", 0.9, 0.01)]) == 1
    with pytest.raises(ValueError):
        select_best([])


@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"x": rng.normal(size=200), "noise": rng.normal(size=200)})
    rows["target"] = np.where(rows["x"] > 0, "yes", "no")
    rules = DataContract.from_frame(rows, "target")
    return rows[rules.feature_names], rows["target"], build_preprocess_pipeline(rules)


def test_searching_families_of_known_quality_selects_the_good_one(separable):
    features, target, preprocess = separable
    families = {
        "guess": ModelFamily(estimator="sklearn.dummy.DummyClassifier", search={"strategy": ["most_frequent", "prior"]}),
        "linear": ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": {"log": [0.1, 10]}}),
    }
    found = [
        search_family(name, family, features, target, preprocess, options())
        for name, family in families.items()
    ]
    scores = [candidate.score for candidate in found]
    assert scores[0].cv_score < 0.7 < 0.9 < scores[1].cv_score
    assert scores[select_best(scores)].family == "linear"
    assert "C" in scores[1].hyperparameters and not hasattr(found[1].estimator, "coef_")


def test_a_family_without_search_is_scored_as_configured(separable):
    features, target, preprocess = separable
    family = ModelFamily(estimator="sklearn.tree.DecisionTreeClassifier", params={"max_depth": 2})
    candidate = search_family("tree", family, features, target, preprocess, options(n_iter=5))
    assert candidate.score.hyperparameters == {"max_depth": 2} and candidate.score.cv_score > 0.9
    assert candidate.estimator.get_params()["random_state"] == 0


def test_search_space_problems_name_the_setting():
    target = pd.Series(["a", "b"] * 10)
    unknown_parameter = ModelFamily(estimator="sklearn.ensemble.RandomForestClassifier", params={"n_trees": 3})
    with pytest.raises(UsageError, match="has no parameter n_trees"):
        check_search(options(search_space={"f": unknown_parameter}), target)
    with pytest.raises(UsageError, match="is not a classifier"):
        check_search(options(search_space={"f": ModelFamily(estimator="sklearn.linear_model.LinearRegression")}), target)
    with pytest.raises(ValueError, match="metric"):
        options(metric="no_such_score")
    with pytest.raises(DataError, match="class 'b' has only 1 row"):
        check_search(options(), pd.Series(["a"] * 10 + ["b"]))


def test_folds_shrink_to_the_smallest_class_and_refuse_a_single_row():
    assert cv_splitter(pd.Series(["a"] * 10 + ["b"] * 3), 5, 0).get_n_splits() == 3
    with pytest.raises(DataError, match="class 'b' has only 1 row"):
        cv_splitter(pd.Series(["a"] * 10 + ["b"]), 5, 0)
