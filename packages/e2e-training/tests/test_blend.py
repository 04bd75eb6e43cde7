"""The blend of the two best families (e2e_training.blend) on tiny tables: scored on out-of-fold
predictions, selected when cross-validation cannot tell the two apart, fitted as one model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from e2e_common.preprocessing import AveragedClassifier, AveragedRegressor, NativeCategoriesClassifier
from e2e_training import blend, data, metrics, preprocess, search
from e2e_training.settings import ModelFamily, PreprocessingOptions, SearchOptions


def out_of_fold(target, predictions, folds=(0, 0, 1, 1, 2, 2)) -> search.OutOfFold:
    return search.OutOfFold(np.asarray(folds), pd.Series(target), np.asarray(predictions, dtype="float64"))


def score(family: str, cv_score: float, metric: str = "rmse") -> search.CandidateScore:
    return search.CandidateScore(family=family, cv_score=cv_score, metric=metric)


TARGET = [1.0, 3.0, 2.0, 4.0, 0.0, 2.0]


def shifted(by_fold: list[float]) -> list[float]:
    """TARGET plus each fold's error (folds 0, 0, 1, 1, 2, 2): the fold's RMSE is the error's size."""
    return [t + by_fold[i // 2] for i, t in enumerate(TARGET)]


def test_two_families_within_their_noise_erring_in_opposite_directions_are_blended():
    over, under = out_of_fold(TARGET, shifted([0.5, 1.0, 1.5])), out_of_fold(TARGET, shifted([-0.6, -1.1, -1.6]))
    found = blend.score_blend([score("trees", 1.0), score("linear", 1.1)], [over, under])
    assert found is not None and found.members == ("trees", "linear") and found.name == "trees+linear"
    assert found.best_family_score == pytest.approx(1.0) and found.runner_up_score == pytest.approx(1.1)
    assert found.best_family_standard_error == pytest.approx(np.std([0.5, 1.0, 1.5]) / np.sqrt(3))
    assert found.cv_score == pytest.approx(0.05) and found.selected


def test_a_runner_up_worse_by_more_than_the_best_familys_standard_error_is_not_blended_even_when_the_blend_scores_better():
    best, worse = out_of_fold(TARGET, shifted([0.9, 1.0, 1.1])), out_of_fold(TARGET, shifted([-1.3, -1.4, -1.5]))
    found = blend.score_blend([score("best", 1.0), score("worse", 1.4)], [best, worse])
    assert found is not None and found.cv_score == pytest.approx(0.2)  # better than 1.0 on these folds
    assert found.runner_up_score - found.best_family_score > found.best_family_standard_error
    assert not found.selected


def test_a_blend_worse_than_the_best_family_by_more_than_its_standard_error_is_not_selected():
    exact = out_of_fold(TARGET, [t + 0.1 * (i % 2) for i, t in enumerate(TARGET)])
    wild = out_of_fold(TARGET, [t + 10 for t in TARGET])
    found = blend.score_blend([score("wild", 10.0), score("exact", 0.07)], [wild, exact])
    assert found is not None and found.members == ("exact", "wild")
    assert not found.selected
    assert found.cv_score - found.best_family_score > found.best_family_standard_error


def test_a_blend_slightly_worse_than_the_best_family_but_within_its_standard_error_is_selected():
    # The best family's fold errors: 0, 1, 2 (standard error 0.47); the runner-up's 0.3 higher.
    best, other = out_of_fold(TARGET, shifted([0.0, 1.0, 2.0])), out_of_fold(TARGET, shifted([0.3, 1.3, 2.3]))
    found = blend.score_blend([score("best", 1.0), score("other", 1.3)], [best, other])
    assert found is not None and found.cv_score == pytest.approx(1.15) and found.cv_score > found.best_family_score
    assert found.best_family_standard_error == pytest.approx(np.std([0, 1, 2]) / np.sqrt(3))
    assert found.selected


@pytest.mark.parametrize("missing", [0, 1])
def test_no_blend_when_either_of_the_two_best_has_no_out_of_fold_predictions(missing):
    predictions = [out_of_fold(TARGET, TARGET), out_of_fold(TARGET, TARGET)]
    predictions[missing] = None
    assert blend.score_blend([score("a", 1.0), score("b", 2.0)], predictions) is None


def test_no_blend_of_one_family_or_of_predictions_on_other_folds():
    first = out_of_fold(TARGET, TARGET)
    assert blend.score_blend([score("a", 1.0)], [first]) is None
    other_folds = out_of_fold(TARGET, TARGET, folds=(0, 1, 0, 1, 2, 2))
    assert blend.score_blend([score("a", 1.0), score("b", 2.0)], [first, other_folds]) is None


def test_a_classification_blend_averages_probabilities_and_scores_the_likeliest_class():
    target = ["no", "yes", "no", "yes", "no", "yes"]
    # columns in the order of numpy.unique(target): "no", "yes"
    sure_but_wrong_once = out_of_fold(target, [[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9]])
    hesitant_and_right = out_of_fold(target, [[0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.4, 0.6], [0.7, 0.3], [0.4, 0.6]])
    scores = [score("sure", 5 / 6, "accuracy"), score("hesitant", 1.0, "accuracy")]
    found = blend.score_blend(scores, [sure_but_wrong_once, hesitant_and_right])
    assert found is not None and found.members == ("hesitant", "sure")
    # the fifth row: (0.2 + 0.7) / 2 = 0.45 for "no", so the blend is wrong there too
    assert found.cv_score == pytest.approx(np.mean([1.0, 1.0, 0.5]))
    assert not found.selected  # the best scores 1.0 in every fold: no noise to forgive the runner-up


def test_score_predictions_agrees_with_score_of_the_fitted_model():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    target = pd.Series(np.where(features["a"] + rng.normal(scale=0.5, size=60) > 0, "yes", "no"))
    model = LogisticRegression().fit(features, target)
    for name in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"):
        expected = metrics.score(name, model, features, target)
        assert metrics.score_predictions(name, target, model.predict_proba(features), model.classes_) == pytest.approx(expected)


def test_score_predictions_is_none_where_the_metric_is_not_defined():
    assert metrics.score_predictions("mape", pd.Series([0.0, 1.0]), np.array([0.5, 1.0])) is None


def test_each_family_search_keeps_out_of_fold_predictions_on_the_same_folds_and_the_blend_fits_as_one_model(tmp_path):
    rng = np.random.default_rng(1)
    rows = 240
    frame = pd.DataFrame({"size": rng.normal(size=rows), "colour": rng.choice(["red", "blue", "green"], rows)})
    frame["label"] = np.where(frame["size"] + (frame["colour"] == "red") + rng.normal(scale=0.7, size=rows) > 0.5, "b", "a")
    contract = data.derive_contract(frame, "label", [])
    preprocessing = preprocess.fit_preprocessing(frame, contract, PreprocessingOptions())
    features, target = preprocess.features_and_target(frame, contract)
    options = SearchOptions(n_iter=3, cv_folds=3, parallel_backend="threading")
    families = {
        "hist_gradient_boosting": ModelFamily(estimator="sklearn.ensemble.HistGradientBoostingClassifier", search={"max_iter": [20, 40]}),
        "logistic_regression": ModelFamily(estimator="sklearn.linear_model.LogisticRegression", search={"C": [0.1, 1.0]}),
    }
    found = [
        search.search_family(name, family, features, target, preprocessing, options, categorical=("colour",))
        for name, family in families.items()
    ]
    first, second = (candidate.out_of_fold for candidate in found)
    assert first is not None and second is not None and blend.aligned(first, second)
    assert first.predictions.shape == (rows, 2) and set(np.unique(first.fold)) == {0, 1, 2}
    assert np.allclose(first.predictions.sum(axis=1), 1.0)
    # the frame the search step stores round-trips through Parquet (the artifact's format)
    stored = tmp_path / "out_of_fold.parquet"
    first.as_frame().to_parquet(stored)
    again = search.OutOfFold.from_frame(pd.read_parquet(stored))
    assert np.array_equal(again.fold, first.fold) and np.allclose(again.predictions, first.predictions)
    assert again.target.equals(first.target) and blend.aligned(again, second)
    search.OutOfFold.none().to_parquet(stored)
    assert search.OutOfFold.from_frame(pd.read_parquet(stored)) is None

    members = [(candidate.score.family, candidate.estimator) for candidate in found]
    assert isinstance(members[0][1], NativeCategoriesClassifier)
    blended = blend.blended_estimator(members, "classification")
    model = Pipeline([("preprocess", clone(preprocessing)), ("model", blended)]).fit(features, target)
    assert isinstance(blended, AveragedClassifier) and list(model.classes_) == ["a", "b"]
    each = [
        Pipeline([("preprocess", clone(preprocessing)), ("model", clone(member))]).fit(features, target).predict_proba(features)
        for _, member in members
    ]
    assert np.allclose(model.predict_proba(features), (each[0] + each[1]) / 2)
    assert isinstance(blend.blended_estimator(members, "regression"), AveragedRegressor)


def test_a_selected_blend_is_recorded_under_its_name_with_each_members_hyperparameters():
    scores = [
        search.CandidateScore("trees", 1.0, 0.2, {"max_iter": 100}, "rmse"),
        search.CandidateScore("linear", 1.1, 0.2, {"alpha": 1.0}, "rmse"),
    ]
    chosen = blend.BlendScore(("trees", "linear"), 0.9, 0.1, 1.0, 1.1, 0.2, True)
    selection = search.Selection.of(scores, 0, chosen)
    assert selection.selected == "trees+linear" and selection.cv_score == 0.9
    assert selection.hyperparameters == {"trees": {"max_iter": 100}, "linear": {"alpha": 1.0}}
    assert selection.candidates == {"trees": 1.0, "linear": 1.1, "trees+linear": 0.9}
    assert selection.blend["selected"] is True and selection.blend["members"] == ["trees", "linear"]

    not_chosen = blend.BlendScore(("trees", "linear"), 1.5, 0.1, 1.0, 1.1, 0.2, False)
    kept = search.Selection.of(scores, 0, not_chosen)
    assert kept.selected == "trees" and "trees+linear" not in kept.candidates and kept.blend["cv_score"] == 1.5


def test_the_search_line_names_the_selected_family_or_blend():
    from e2e_training import report

    searches = {"trees": {"fits": 20}, "linear": {"fits": 11}}
    single = {"selected": "trees", "searches": searches, "blend": {"selected": False}}
    assert report.describe_search(single) == "2 families, 31 cross-validation fits by successive halving; selected trees"
    blended = {"selected": "trees+linear", "searches": searches, "blend": {"selected": True}}
    assert report.describe_search(blended).endswith("; selected the blend trees+linear")


def test_integer_labels_survive_the_artifact_and_score_the_same():
    target = pd.Series([0, 1, 0, 1, 2, 2])
    found = out_of_fold(target, np.eye(3)[[0, 1, 0, 1, 2, 1]])
    again = search.OutOfFold.from_frame(found.as_frame())
    assert list(again.classes) == [0, 1, 2]
    assert blend.fold_scores("accuracy", again, again.predictions) == [1.0, 1.0, 0.5]


def test_the_training_summary_page_shows_a_selected_blend_as_a_row_of_its_own():
    from types import SimpleNamespace

    from e2e_training import report

    selection = {
        "metric": "rmse", "selected": "trees+linear", "candidates": {"trees": 1.0, "linear": 1.1, "trees+linear": 0.9},
        "blend": {"selected": True, "members": ["trees", "linear"]},
    }
    page = report.summary_markdown(
        "m", 1, {}, {"promoted": True, "stage": "staging", "reason": "first version"}, selection,
        {"trees": 2.5, "linear": 0.4}, SimpleNamespace(features=[]),
    )
    assert "| trees | 1.0000 | 2.5 s |  |" in page and "| linear | 1.1000 | 0.4 s |  |" in page
    assert "| trees+linear | 0.9000 | — (the average of two families) | **yes** |" in page
