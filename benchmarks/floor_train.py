"""The hand-written floor for training: the same split, preprocessing, search and fit in plain sklearn.

The search is scikit-learn's own successive halving (``HalvingRandomSearchCV``) with the package
config's candidates per family (``n_iter``), ``halving_factor``, ``cv_folds`` and smallest round of
at least 100 rows, as ``e2e-train`` searches; a config without ``halving_factor`` (before 0.2) is
searched with ``RandomizedSearchCV`` as e2e-train did then.
"""

import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import HalvingRandomSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.tree import DecisionTreeClassifier

ESTIMATORS = {
    "sklearn.ensemble.RandomForestClassifier": RandomForestClassifier,
    "sklearn.tree.DecisionTreeClassifier": DecisionTreeClassifier,
    "sklearn.linear_model.LogisticRegression": LogisticRegression,
    "sklearn.ensemble.HistGradientBoostingClassifier": HistGradientBoostingClassifier,
}
MIN_ROUND_ROWS = 100


def distribution(values):
    if isinstance(values, list):
        return values
    (kind, (low, high)), = values.items()
    if kind == "int":
        return stats.randint(low, high + 1)
    if kind == "float":
        return stats.uniform(low, high - low)
    return stats.loguniform(low, high)


timings = {}
started = time.perf_counter()
config = yaml.safe_load(Path(sys.argv[1]).read_text())

mark = time.perf_counter()
frame = load_breast_cancer(as_frame=True).frame
frame = frame.drop(index=frame.sample(frac=0.05, random_state=42).index).reset_index(drop=True)
buckets = pd.util.hash_pandas_object(frame, index=False).to_numpy() / 2.0**64
train, holdout = frame[buckets >= 0.2], frame[buckets < 0.2]
features = [c for c in frame.columns if c != "target"]
timings["load + split"] = time.perf_counter() - mark

mark = time.perf_counter()
preprocess = ColumnTransformer(
    [("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", MinMaxScaler())]), features)]
).fit(train[features])
x_train, x_holdout = preprocess.transform(train[features]), preprocess.transform(holdout[features])
timings["preprocess"] = time.perf_counter() - mark

best = None
for family, spec in config["search_space"].items():
    mark = time.perf_counter()
    estimator = ESTIMATORS[spec["estimator"]](**spec.get("params", {}))
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=config["random_state"])
    space = {name: distribution(values) for name, values in spec["search"].items()}
    common = {"cv": config["cv_folds"], "scoring": "accuracy", "n_jobs": -1, "random_state": config["random_state"]}
    if "halving_factor" in config:
        search = HalvingRandomSearchCV(
            estimator, space, n_candidates=config["n_iter"], factor=config["halving_factor"],
            min_resources=max(MIN_ROUND_ROWS, 2 * config["cv_folds"] * 2), **common,
        ).fit(x_train, train["target"])
    else:
        search = RandomizedSearchCV(estimator, space, n_iter=config["n_iter"], **common).fit(x_train, train["target"])
    timings[f"search {family}"] = time.perf_counter() - mark
    if best is None or search.best_score_ > best.best_score_:
        best = search

mark = time.perf_counter()
model = best.best_estimator_
accuracy = accuracy_score(holdout["target"], model.predict(x_holdout))
timings["evaluate winner (refit in search)"] = time.perf_counter() - mark
timings["total"] = time.perf_counter() - started
for name, seconds in timings.items():
    print(f"{name:28} {seconds:7.2f} s")
print(f"holdout accuracy {accuracy:.4f} ({type(model).__name__})")
