import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from e2e_common.errors import DataError, UsageError
from e2e_common.preprocessing import NativeCategoriesClassifier, build_preprocess_pipeline
from e2e_common.schemas import DataContract, FeatureKind
from e2e_training.search import (
    CandidateScore,
    Selection,
    cheapness,
    check_search,
    cv_splitter,
    draw_candidates,
    family_deadline,
    round_sizes,
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
    candidate = search_family("linear", family, features, target, preprocess, options(metric="log_loss", n_iter=5))
    assert 0 < candidate.score.cv_score < 0.4 and candidate.score.metric == "log_loss"
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


@pytest.fixture(scope="module")
def mixed():
    """Rows whose class follows a categorical column (with a missing level) and a number."""
    rng = np.random.default_rng(1)
    n = 300
    colour = rng.choice(["red", "green", "blue", None], size=n)
    x = rng.normal(size=n)
    rows = pd.DataFrame({"colour": colour, "x": x})
    rows["target"] = np.where((colour == "red") | (x > 1.0), "yes", "no")
    rules = DataContract.from_frame(rows, "target")
    return rows[rules.feature_names], rows["target"], build_preprocess_pipeline(rules), rules


HGB = ModelFamily(
    estimator="sklearn.ensemble.HistGradientBoostingClassifier",
    params={"max_iter": 20},
    search={"learning_rate": {"log": [0.05, 0.3]}, "max_leaf_nodes": {"int": [4, 15]}},
)


def test_gradient_boosting_sees_each_categorical_as_one_column_of_codes(mixed):
    features, target, preprocess, rules = mixed
    categorical = rules.columns_of_kind(FeatureKind.CATEGORICAL)
    candidate = search_family("hgb", HGB, features, target, preprocess, options(n_iter=4), categorical)
    assert isinstance(candidate.estimator, NativeCategoriesClassifier) and candidate.score.cv_score > 0.9
    assert candidate.score.hyperparameters["max_iter"] == 20 and "learning_rate" in candidate.score.hyperparameters
    fitted = clone(candidate.estimator).fit(preprocess.fit_transform(features), target)
    assert set(fitted.groups_) == {"colour"} and "colour_red" in fitted.groups_["colour"]
    assert list(fitted.estimator_.feature_names_in_) == ["x", "colour__code"]
    assert fitted.estimator_.is_categorical_.tolist() == [False, True]
    # An unknown level (all its one-hot columns zero) is a missing value, not an error.
    unseen = preprocess.transform(pd.DataFrame({"colour": ["purple", "red"], "x": [0.0, 0.0]}))
    assert fitted.predict(unseen)[1] == "yes" and fitted.predict_proba(unseen).shape == (2, 2)


def test_a_numeric_feature_named_like_a_level_stays_a_feature_of_its_own():
    rng = np.random.default_rng(4)
    rows = pd.DataFrame({
        "colour": rng.choice(["red", "blue", "green"], size=300),
        "colour_count": rng.normal(size=300),
    })
    rows["target"] = np.where(rows["colour_count"] > 0, "yes", "no")
    rules = DataContract.from_frame(rows, "target")
    features, target = rows[rules.feature_names], rows["target"]
    preprocess = build_preprocess_pipeline(rules)
    candidate = search_family("hgb", HGB, features, target, preprocess, options(n_iter=2), ["colour"])
    fitted = clone(candidate.estimator).fit(preprocess.fit_transform(features), target)
    assert "colour_count" not in fitted.groups_["colour"]
    assert "colour_count" in list(fitted.estimator_.feature_names_in_)
    assert candidate.score.cv_score > 0.9, "the numeric feature decides the target"


def test_without_categoricals_the_classifier_is_not_wrapped(separable):
    features, target, preprocess = separable
    candidate = search_family("hgb", HGB, features, target, preprocess, options(n_iter=2), categorical=[])
    assert type(candidate.estimator).__name__ == "HistGradientBoostingClassifier"


def test_halving_rounds_grow_to_all_rows_and_keep_the_best_third():
    assert round_sizes(5600, 10, 3, 100) == [208, 623, 1867, 5600]
    assert round_sizes(432, 10, 3, 100) == [144, 432]
    assert round_sizes(90, 10, 3, 100) == [90]
    assert round_sizes(5600, 1, 3, 100) == [5600]


def test_successive_halving_scores_the_configured_model_first_and_halves():
    rng = np.random.default_rng(2)
    rows = pd.DataFrame({"x": rng.normal(size=600), "noise": rng.normal(size=600)})
    rows["target"] = np.where(rows["x"] > 0, "yes", "no")
    rules = DataContract.from_frame(rows, "target")
    features, target, preprocess = rows[rules.feature_names], rows["target"], build_preprocess_pipeline(rules)
    family = ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": {"log": [0.001, 10]}})
    candidate = search_family("linear", family, features, target, preprocess, options(n_iter=9, cv_folds=3))
    search = candidate.score.search
    assert search["rounds"] == [{"rows": 200, "candidates": 9}, {"rows": 600, "candidates": 3}]
    assert search["fits"] == (9 + 3) * 3 and search["stopped_by_budget"] is False
    assert candidate.score.cv_score > 0.9


def test_a_rare_class_keeps_every_round_possible():
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"x": rng.normal(size=3000), "noise": rng.normal(size=3000)})
    rows["target"] = "common"
    rows.loc[rng.choice(3000, size=30, replace=False), "target"] = "rare"  # 1%
    rules = DataContract.from_frame(rows, "target")
    features, target, preprocess = rows[rules.feature_names], rows["target"], build_preprocess_pipeline(rules)
    family = ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": {"log": [0.001, 10]}})
    candidate = search_family("linear", family, features, target, preprocess, options(n_iter=10, cv_folds=5))
    first_round = candidate.score.search["rounds"][0]["rows"]
    assert first_round >= 5 * 3000 / 30, "the first round holds at least one rare row per fold"
    assert candidate.score.search["rounds"][-1]["rows"] == 3000


def test_a_passed_deadline_still_scores_the_first_candidate_and_says_the_budget_stopped_it(separable):
    features, target, preprocess = separable
    family = ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": {"log": [0.001, 10]}})
    candidate = search_family(
        "linear", family, features, target, preprocess, options(n_iter=9, cv_folds=3), deadline=time.time() - 1
    )
    search = candidate.score.search
    assert search["stopped_by_budget"] is True and search["candidates_scored"] == 1 and search["fits"] == 3
    assert candidate.score.hyperparameters == {"C": 1.0} and candidate.score.cv_score > 0.8  # the configured model
    assert Selection.of([candidate.score], 0).stopped_by_budget == ["linear"]


def test_the_budget_left_is_shared_by_the_families_still_to_search():
    assert family_deadline(None, 0.0, 2, 0.0, now=100.0) is None
    assert family_deadline(10.0, 0.0, 2, 0.5, now=100.0) == pytest.approx(104.5)
    assert family_deadline(10.0, 2.0, 1, 0.0, now=100.0) == pytest.approx(108.0)
    assert family_deadline(10.0, 12.0, 1, 0.0, now=100.0) == pytest.approx(100.0)


def test_a_family_whose_every_candidate_fails_names_the_setting(separable):
    features, target, preprocess = separable
    family = ModelFamily(
        estimator="sklearn.linear_model.LogisticRegression", params={"solver": "newton-cg", "penalty": "l1"}
    )
    with pytest.raises(UsageError, match="every candidate of model family 'bad' failed"):
        search_family("bad", family, features, target, preprocess, options())


def test_candidates_go_cheapest_first():
    assert cheapness({"n_estimators": 50, "max_depth": 4}) < cheapness({"n_estimators": 50, "max_depth": None})
    assert draw_candidates({}, 10, 0) == [{}]
    drawn = draw_candidates({"criterion": ["gini", "entropy"]}, 10, 0)
    assert drawn[0] == {} and len(drawn) == 3


@pytest.fixture(scope="module")
def priced():
    """A regression table: a price that follows a categorical (with missing values) and a number."""
    rng = np.random.default_rng(2)
    n = 400
    colour = rng.choice(["red", "green", "blue", None], size=n)
    size = rng.uniform(0, 10, size=n)
    rows = pd.DataFrame({"colour": colour, "size": size})
    rows["price"] = 20 * size + np.where(colour == "red", 50.0, 0.0) + rng.normal(scale=2.0, size=n)
    rules = DataContract.from_frame(rows, "price")
    return rows[rules.feature_names], rows["price"], build_preprocess_pipeline(rules), rules


def regression_options(**values) -> SearchOptions:
    return options(**{"metric": "rmse", **values})


def test_a_regression_searches_its_own_families_in_the_same_machinery(priced):
    from sklearn.base import is_regressor

    from e2e_common.preprocessing import NativeCategoriesRegressor

    features, target, preprocess, rules = priced
    assert rules.is_regression
    categorical = rules.columns_of_kind(FeatureKind.CATEGORICAL)
    families = regression_options().families("regression")
    assert set(families) == {"hist_gradient_boosting", "random_forest", "ridge"}
    scores = {}
    for name, family in families.items():
        candidate = search_family(
            name, family, features, target, preprocess, regression_options(n_iter=3), categorical, task="regression"
        )
        assert is_regressor(candidate.estimator) and candidate.score.metric == "rmse"
        scores[name] = candidate.score.cv_score
    hgb = search_family(
        "hgb", families["hist_gradient_boosting"], features, target, preprocess, regression_options(), categorical,
        task="regression",
    )
    assert isinstance(hgb.estimator, NativeCategoriesRegressor)
    # RMSE is positive and lower is better; the noise is 2, the target's spread about 60.
    assert all(0 < score < 15 for score in scores.values()), scores
    assert select_best([CandidateScore(n, s, metric="rmse") for n, s in scores.items()]) == min(
        range(len(scores)), key=lambda i: list(scores.values())[i]
    )


def test_a_classifier_in_the_regression_space_names_the_setting(priced):
    features, target, preprocess, rules = priced
    space = {"trees": ModelFamily(estimator="sklearn.ensemble.RandomForestClassifier")}
    with pytest.raises(UsageError, match=r"is not a regressor \(setting 'regression_search_space'\)"):
        check_search(regression_options(regression_search_space=space), target, task="regression")
    # A classification's space is not looked at for a regression, nor the reverse.
    check_search(regression_options(search_space=space), target, task="regression")


def test_regression_folds_are_plain_folds_and_never_refuse_a_rare_value():
    target = pd.Series([1.5, 2.5, 3.5, 4.5, 100.0, 6.5])
    splitter = cv_splitter(target, 5, 0, "regression")
    assert splitter.get_n_splits() == 5 and type(splitter).__name__ == "KFold"
    assert cv_splitter(target.head(3), 5, 0, "regression").get_n_splits() == 3
    with pytest.raises(DataError, match="the train split has 1 row"):
        cv_splitter(target.head(1), 5, 0, "regression")


def test_the_configured_parameters_win_within_one_standard_error_of_the_best():
    from e2e_training.search import HalvingOutcome

    def outcome(default_score: float) -> HalvingOutcome:
        # Candidate 2 is best by 0.01, its folds spread 0.02 over 4 folds: one standard error is 0.01.
        return HalvingOutcome(
            candidates=[{}, {"C": 1.0}, {"C": 2.0}],
            scores={0: default_score, 1: 0.70, 2: 0.80},
            spreads={0: 0.02, 1: 0.02, 2: 0.02},
            round_reached={0: 1, 1: 0, 2: 1},
            folds=4,
        )

    assert outcome(0.795).best == 0  # within noise: the tested defaults stay
    assert outcome(0.785).best == 2  # beyond one standard error: the better candidate wins
    lost_early = outcome(0.795)
    lost_early.round_reached[0] = 0
    assert lost_early.best == 2  # only candidates of the last round compete


def test_the_time_budget_stops_a_regression_search_as_it_stops_a_classification(priced):
    features, target, preprocess, rules = priced
    family = regression_options().families("regression")["ridge"]
    candidate = search_family(
        "ridge", family, features, target, preprocess, regression_options(n_iter=9, cv_folds=3),
        deadline=time.time() - 1, task="regression",
    )
    search = candidate.score.search
    assert search["stopped_by_budget"] is True and search["candidates_scored"] == 1 and search["fits"] == 3
    assert candidate.score.hyperparameters == {"alpha": 1.0} and 0 < candidate.score.cv_score < 15
