"""The averaged models of e2e_common.preprocessing (the blend of model selection) on tiny tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from e2e_common.preprocessing import AveragedClassifier, AveragedRegressor

X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], "b": [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]})
LABELS = pd.Series(["no", "no", "no", "yes", "no", "yes", "yes", "yes"])


def test_the_classifier_averages_probabilities_and_predicts_the_likeliest_label():
    members = [("linear", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=1, random_state=0))]
    model = AveragedClassifier(members).fit(X, LABELS)
    each = [clone(estimator).fit(X, LABELS).predict_proba(X) for _, estimator in members]
    assert list(model.classes_) == ["no", "yes"]
    assert np.allclose(model.predict_proba(X), (each[0] + each[1]) / 2)
    assert list(model.predict(X)) == [["no", "yes"][i] for i in ((each[0] + each[1]) / 2).argmax(axis=1)]
    assert members[0][1] is not model.estimators_[0]  # the given estimators stay unfitted


def test_members_see_the_labels_as_they_are_where_voting_classifier_re_encodes_them():
    members = [("weighted", LogisticRegression(class_weight={"yes": 3.0})), ("tree", DecisionTreeClassifier(max_depth=1))]
    with pytest.raises(ValueError, match="class_weight"):
        VotingClassifier(members, voting="soft").fit(X, LABELS)
    assert list(AveragedClassifier(members).fit(X, LABELS).classes_) == ["no", "yes"]


def test_any_member_names_are_accepted():
    members = [("a__b", LogisticRegression()), ("weights", DecisionTreeClassifier(max_depth=1))]
    assert AveragedClassifier(members).fit(X, LABELS).predict(X).shape == (8,)


def test_the_regressor_averages_predictions():
    target = X["a"] * 2 + X["b"]
    members = [("line", LinearRegression()), ("stump", DecisionTreeRegressor(max_depth=1))]
    model = AveragedRegressor(members).fit(X, target)
    expected = (LinearRegression().fit(X, target).predict(X) + DecisionTreeRegressor(max_depth=1).fit(X, target).predict(X)) / 2
    assert np.allclose(model.predict(X), expected)
    assert clone(model).get_params()["estimators"][0][0] == "line"


def test_fewer_than_two_members_or_different_classes_are_refused():
    with pytest.raises(ValueError, match="at least two estimators, got 1"):
        AveragedRegressor([("line", LinearRegression())]).fit(X, X["a"])

    class Relabelled(DecisionTreeClassifier):
        def fit(self, X, y, **kwargs):
            return super().fit(X, pd.Series(y).map({"no": "n", "yes": "y"}), **kwargs)

    with pytest.raises(ValueError, match="different classes: odd has"):
        AveragedClassifier([("plain", LogisticRegression()), ("odd", Relabelled())]).fit(X, LABELS)
