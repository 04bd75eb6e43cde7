import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError
from e2e_common.preprocessing import PreprocessOptions, build_preprocess_pipeline, drop_na_rows
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


def test_pipeline_imputes_scales_encodes_and_drops(contract, training):
    pipeline = build_preprocess_pipeline(contract, PreprocessOptions(drop_columns=("noise",)))
    out = pipeline.fit_transform(training.drop(columns="label"))
    assert list(out.columns) == ["size", "color___missing__", "color_blue", "color_red"]
    assert out["size"].min() == 0.0 and out["size"].max() == 1.0
    assert not out.isna().any().any()


def test_unseen_category_is_encoded_as_all_zeros(contract, training):
    pipeline = build_preprocess_pipeline(contract, PreprocessOptions()).fit(training)
    out = pipeline.transform(pd.DataFrame({"size": [2.0], "color": ["green"], "noise": [1]}))
    assert out.filter(like="color_").to_numpy().sum() == 0


def test_no_normalize_keeps_raw_numbers(contract, training):
    pipeline = build_preprocess_pipeline(contract, PreprocessOptions(normalize=False)).fit(training)
    out = pipeline.transform(training)
    assert out["noise"].tolist() == [9, 8, 7, 6]
    assert out["size"].tolist()[2] == 3.0  # median of 1, 3, 5


def test_missing_column_at_transform_is_a_data_error(contract, training):
    pipeline = build_preprocess_pipeline(contract, PreprocessOptions()).fit(training)
    with pytest.raises(DataError, match="missing feature columns: color"):
        pipeline.transform(training.drop(columns="color"))


def test_unknown_or_target_drop_columns_are_refused(contract):
    with pytest.raises(DataError, match="columns to drop not in the data: nope"):
        build_preprocess_pipeline(contract, PreprocessOptions(drop_columns=("nope",)))
    with pytest.raises(DataError, match="cannot drop the target column 'label'"):
        build_preprocess_pipeline(contract, PreprocessOptions(drop_columns=("label",)))


def test_fitted_pipeline_survives_pickling(contract, training):
    import pickle

    pipeline = build_preprocess_pipeline(contract, PreprocessOptions()).fit(training)
    again = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(again.transform(training).to_numpy(), pipeline.transform(training).to_numpy())


def test_drop_na_rows(training):
    assert len(drop_na_rows(training, ["size", "color"])) == 2
    with pytest.raises(DataError, match="--no-drop-na"):
        drop_na_rows(training.assign(size=None), ["size"])
