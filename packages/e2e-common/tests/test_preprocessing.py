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
    assert list(out.columns) == ["size", "color___missing__", "color_blue", "color_red"]
    assert out["size"].min() == 0.0 and out["size"].max() == 1.0
    assert not out.isna().any().any()


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

