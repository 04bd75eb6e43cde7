import datetime

import pandas as pd
import pytest

from e2e_common.contract import (
    CLASSIFICATION_CONTRACT_VERSION,
    CONTRACT_VERSION,
    SUPPORTED_CONTRACT_VERSIONS,
    Task,
)
from e2e_common.errors import DataError
from e2e_common.schemas import DataContract, FeatureKind


@pytest.fixture
def training():
    return pd.DataFrame(
        {
            "size": [1.0, 2.5, None, 4.0],
            "count": [1, 2, 3, 4],
            "color": ["red", "blue", "red", None],
            "member": [True, False, True, False],
            "label": ["a", "b", "c", "a"],
        }
    )


@pytest.fixture
def contract(training):
    return DataContract.from_frame(training, target="label")


def test_contract_describes_features_and_target(contract):
    kinds = {spec.name: spec.kind for spec in contract.features}
    assert kinds == {
        "size": FeatureKind.NUMERIC,
        "count": FeatureKind.NUMERIC,
        "color": FeatureKind.CATEGORICAL,
        "member": FeatureKind.BOOLEAN,
    }
    assert contract.feature("color").categories == ["blue", "red"]
    assert contract.classes == ["a", "b", "c"]
    assert contract.contract_version == CLASSIFICATION_CONTRACT_VERSION
    assert contract.task is Task.CLASSIFICATION and not contract.is_regression


def test_json_round_trip_keeps_class_types():
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 1]})
    contract = DataContract.from_frame(frame, target="y")
    again = DataContract.model_validate_json(contract.model_dump_json())
    assert again == contract
    assert again.classes == [0, 1] and all(type(c) is int for c in again.classes)


def test_missing_target_names_it(training):
    with pytest.raises(DataError, match="target column 'nope' not found"):
        DataContract.from_frame(training, target="nope")


def test_single_class_target_is_refused(training):
    with pytest.raises(DataError, match=r"target column 'label' has one value \('a'\) in every row; there is nothing to predict"):
        DataContract.from_frame(training.assign(label="a"), target="label")


def test_datetime_feature_is_refused_naming_the_column_and_what_to_do(training):
    with pytest.raises(DataError, match=r"column 'when' holds dates \(dtype datetime64\[.*--drop-columns"):
        DataContract.from_frame(training.assign(when=pd.Timestamp("2024-01-01")), target="label")


@pytest.mark.parametrize(
    ("values", "held"),
    [
        (["2024-01-31", "2024-02-01", None, "2023-12-31"], "dates as text"),
        (["2024-01-31 08:00", "2024-02-01T09:30:00Z", "2024-02-02 10:00:00.5", "2024-02-03"], "dates as text"),
        ([datetime.date(2024, 1, day) for day in (1, 2, 3, 4)], "dates"),
        (pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]).tz_localize("UTC"), "dates"),
    ],
)
def test_dates_as_text_or_objects_are_refused_not_read_as_categories(training, values, held):
    with pytest.raises(DataError, match=f"column 'when' holds {held}"):
        DataContract.from_frame(training.assign(when=list(values)), target="label")


def test_text_that_is_not_only_dates_is_a_categorical(training):
    contract = DataContract.from_frame(training.assign(when=["2024-01-31", "soon", None, "2024-02-01"]), "label")
    assert contract.feature("when").kind is FeatureKind.CATEGORICAL


def test_excluded_columns_are_recorded_and_not_features(training):
    contract = DataContract.from_frame(training, target="label", excluded_columns={"count": "identifier"})
    assert "count" not in contract.feature_names
    assert contract.excluded_columns == {"count": "identifier"}
    again = DataContract.model_validate_json(contract.model_dump_json())
    assert again.excluded_columns == {"count": "identifier"}
    rows = training.drop(columns="label")
    assert list(contract.validate(rows).features.columns) == contract.feature_names
    assert list(contract.validate(rows.drop(columns="count")).features.columns) == contract.feature_names


def test_no_feature_left_names_the_excluded_columns(training):
    excluded = {"size": "all missing", "count": "identifier", "color": "constant", "member": "constant"}
    with pytest.raises(DataError, match=r"no feature columns besides the target 'label'; left out: size \(all missing\)"):
        DataContract.from_frame(training, target="label", excluded_columns=excluded)


def test_validate_names_every_missing_column(contract, training):
    with pytest.raises(DataError, match="missing feature columns: size, color"):
        contract.validate(training.drop(columns=["size", "color"]))


def test_validate_names_unreadable_columns(contract, training):
    rows = training.astype({"size": object, "member": object})
    rows.loc[0, "size"] = "big"
    rows.loc[1, "member"] = "maybe"
    with pytest.raises(DataError, match=r"size \(1 value\(s\) not a number, e.g. 'big'\).*member"):
        contract.validate(rows)


def test_validate_coerces_text_and_counts_unseen_categories(contract):
    rows = pd.DataFrame(
        {"size": ["1.5", None], "count": ["3", "4"], "color": ["green", "red"], "member": ["yes", "False"]}
    )
    checked = contract.validate(rows)
    assert checked.features["size"].tolist()[0] == 1.5
    assert checked.features["member"].tolist() == [1.0, 0.0]
    assert checked.unseen_categories == {"color": 1}
    assert list(checked.features.columns) == contract.feature_names


def test_unsupported_contract_version_names_both_versions(contract):
    future = contract.model_copy(update={"contract_version": CONTRACT_VERSION + 1})
    supported = ", ".join(map(str, sorted(SUPPORTED_CONTRACT_VERSIONS)))
    expected = f"contract version {CONTRACT_VERSION + 1}, this package supports versions {supported}"
    with pytest.raises(DataError, match=expected):
        future.check_supported()


@pytest.mark.parametrize(
    ("target", "task", "reason"),
    [
        ([24.5, 31.0, 12.25, 40.0], Task.REGRESSION, "numbers with fractions (e.g. 24.5)"),
        (list(range(30)), Task.REGRESSION, "30 distinct whole numbers (more than 20)"),
        ([1, 2, 3, 4, 5] * 6, Task.CLASSIFICATION, "5 distinct whole numbers (at most 20"),
        # A label column with a missing value reads as floats: whole floats are still classes.
        ([0.0, 1.0, None, 1.0], Task.CLASSIFICATION, "2 distinct whole numbers"),
        (["yes", "no", "yes", "no"], Task.CLASSIFICATION, "labels, not numbers"),
        ([True, False, True, False], Task.CLASSIFICATION, "labels, not numbers"),
    ],
)
def test_the_task_is_read_from_the_target_and_says_why(target, task, reason):
    rows = len(target)
    frame = pd.DataFrame({"x": range(rows), "size": [float(i % 7) for i in range(rows)], "y": target})
    contract = DataContract.from_frame(frame, target="y")
    assert contract.task is task
    assert reason in contract.task_reason
    if task is Task.REGRESSION:
        assert contract.classes == [] and contract.contract_version == CONTRACT_VERSION
    else:
        assert contract.classes and contract.contract_version == CLASSIFICATION_CONTRACT_VERSION


def test_task_option_overrides_what_the_target_suggests():
    frame = pd.DataFrame({"x": range(12), "y": [1, 2, 3] * 4})
    contract = DataContract.from_frame(frame, target="y", task="regression")
    assert contract.task is Task.REGRESSION and contract.task_reason == "--task regression"
    again = DataContract.model_validate_json(contract.model_dump_json())
    assert again == contract and again.is_regression


def test_a_contract_without_a_task_is_a_classification():
    """Contracts written before version 3 carry no task: they are all classifiers."""
    old = {"contract_version": 2, "features": [{"name": "x", "kind": "numeric", "dtype": "int64"}], "target": "y", "classes": [0, 1]}
    assert DataContract.model_validate(old).task is Task.CLASSIFICATION


@pytest.mark.parametrize(
    ("target", "task", "message"),
    [
        ([3.5] * 6, "regression", r"target column 'y' has one value \(3.5\) in every row; there is nothing to predict"),
        ([3.5] * 6, None, r"target column 'y' has one value \(3.5\) in every row"),
        (["a", "b", "a", "b", "c", "d"], "regression", r"holds values that are not numbers \(e.g. 'a'\); a regression predicts numbers"),
        ([None] * 6, None, r"target column 'y' has no values: every row's target is missing"),
    ],
)
def test_a_target_nothing_can_be_learned_from_is_a_data_error(target, task, message):
    frame = pd.DataFrame({"x": range(6), "y": pd.Series(target, dtype=object if target[0] is None else None)})
    with pytest.raises(DataError, match=message):
        DataContract.from_frame(frame, target="y", task=task)


def test_floats_too_large_to_be_labels_are_a_regression():
    frame = pd.DataFrame({"x": range(60), "y": [1e17, 2e17, 3e17] * 20})
    contract = DataContract.from_frame(frame, target="y")
    assert contract.is_regression and "too large to be class labels (e.g. 1e+17)" in contract.task_reason
