import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract


@pytest.fixture
def training():
    return pd.DataFrame(
        {
            "size": [1.0, 3.0, None, 5.0],
            "color": ["red", "blue", "red", None],
            "noise": [9, 8, 7, 6],
            "label": [0, 1, 0, 1],
        }
    )


@pytest.fixture
def contract(training):
    return DataContract.from_frame(training, target="label")


def test_pipeline_imputes_scales_and_encodes_the_contract_features_only(training):
    contract = DataContract.from_frame(training.drop(columns="noise"), target="label")
    pipeline = build_preprocess_pipeline(contract)
    out = pipeline.fit_transform(training.drop(columns="label"))
    assert list(out.columns) == ["size", "missingindicator_size", "color___missing__", "color_blue", "color_red"]
    assert out["size"].min() == 0.0 and out["size"].max() == 1.0
    assert out["missingindicator_size"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert not out.isna().any().any()


def test_gradient_boosting_sees_missing_numbers_as_missing_as_on_raw_rows():
    """The wrapper gives HistGradientBoosting the missing values back: its predictions are those of a
    default model fitted on the raw rows with their missing values (scaling does not move a tree's splits)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from e2e_common.preprocessing import NativeCategoriesRegressor

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    frame["y"] = 3 * frame["x"] + frame["z"] + rng.normal(scale=0.1, size=n)
    frame.loc[frame.index % 4 == 0, "x"] = np.nan  # missing values that carry no signal of their own
    frame.loc[frame["x"].isna(), "y"] += 10.0  # ... and missing values that do
    contract = DataContract.from_frame(frame, target="y")
    pipeline = build_preprocess_pipeline(contract).fit(frame[["x", "z"]])
    model = NativeCategoriesRegressor(HistGradientBoostingRegressor(random_state=0), (), ("x", "z"))
    model.fit(pipeline.transform(frame[["x", "z"]]), frame["y"])
    assert model.missing_ == {"x": "missingindicator_x"}
    raw = HistGradientBoostingRegressor(random_state=0).fit(frame[["x", "z"]], frame["y"])
    ours = model.predict(pipeline.transform(frame[["x", "z"]]))
    assert np.allclose(ours, raw.predict(frame[["x", "z"]]), atol=1e-6)


def test_unseen_category_is_encoded_as_all_zeros(contract, training):
    pipeline = build_preprocess_pipeline(contract).fit(training)
    out = pipeline.transform(pd.DataFrame({"size": [2.0], "color": ["green"], "noise": [1]}))
    assert out.filter(like="color_").to_numpy().sum() == 0


def test_no_normalize_keeps_raw_numbers(contract, training):
    pipeline = build_preprocess_pipeline(contract, normalize=False).fit(training)
    out = pipeline.transform(training)
    assert out["noise"].tolist() == [9, 8, 7, 6]
    assert out["size"].tolist()[2] == 3.0  # median of 1, 3, 5


def test_missing_column_at_transform_is_a_data_error(contract, training):
    pipeline = build_preprocess_pipeline(contract).fit(training)
    with pytest.raises(DataError, match="missing feature columns: color"):
        pipeline.transform(training.drop(columns="color"))


def test_fitted_pipeline_survives_pickling(contract, training):
    import pickle

    pipeline = build_preprocess_pipeline(contract).fit(training)
    again = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(again.transform(training).to_numpy(), pipeline.transform(training).to_numpy())


def test_max_categories_bounds_the_one_hot_columns_and_groups_rare_levels():
    levels = [f"city{i:02d}" for i in range(12)]
    # city00 the most frequent, then city01, ...: 12 levels, most of them rare.
    values = [level for rank, level in enumerate(levels) for _ in range(12 - rank)]
    training = pd.DataFrame({"city": values, "label": [i % 2 for i in range(len(values))]})
    contract = DataContract.from_frame(training, target="label")
    pipeline = build_preprocess_pipeline(contract, max_categories=4).fit(training)
    out = pipeline.transform(pd.DataFrame({"city": ["city00", "city11", "nowhere"]}))
    assert list(out.columns) == ["city_city00", "city_city01", "city_city02", "city_infrequent_sklearn"]
    assert out.to_numpy().tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


def test_max_categories_leaves_a_column_with_fewer_levels_as_it_is(contract, training):
    bounded = build_preprocess_pipeline(contract, max_categories=50).fit(training)
    unbounded = build_preprocess_pipeline(contract).fit(training)
    assert list(bounded.transform(training).columns) == list(unbounded.transform(training).columns)



def test_native_categories_regressor_predicts_numbers_from_category_codes():
    from sklearn.base import clone, is_regressor
    from sklearn.ensemble import HistGradientBoostingRegressor

    from e2e_common.preprocessing import NativeCategoriesRegressor, build_preprocess_pipeline

    frame = pd.DataFrame({"size": [float(i) for i in range(60)], "colour": ["red", "blue", "green"] * 20})
    frame["price"] = frame["size"] * 2 + frame["colour"].map({"red": 100.0, "blue": 0.0, "green": 50.0})
    contract = DataContract.from_frame(frame, target="price")
    assert contract.is_regression
    pipeline = build_preprocess_pipeline(contract).fit(frame[contract.feature_names])
    features = pipeline.transform(frame[contract.feature_names])
    model = NativeCategoriesRegressor(
        HistGradientBoostingRegressor(categorical_features="from_dtype", min_samples_leaf=2, random_state=0),
        ("colour",),
        ("size",),
    )
    assert is_regressor(model) and is_regressor(clone(model))
    model.fit(features, frame["price"])
    assert list(model.groups_) == ["colour"]
    predicted = model.predict(features)
    assert predicted.dtype.kind == "f"
    assert abs(predicted - frame["price"]).mean() < 10
