"""Columns that never become features (identifiers, constant, all missing) and the warnings about the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError
from e2e_training import screening
from e2e_training.cli import check_input
from e2e_training.data import derive_contract
from e2e_training.screening import MIN_ROWS_FOR_UNIQUE, data_warnings, exclusion, is_id_name, screen_columns
from e2e_training.settings import TrainingSettings

ROWS = MIN_ROWS_FOR_UNIQUE


def frame(rows: int = ROWS, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"x": rng.normal(size=rows), "y": np.arange(rows) % 2})
    return base.assign(**columns)


@pytest.mark.parametrize(
    "name", ["id", "ID", "Id", "customer_id", "customerId", "CustomerID", "order-uuid", "row guid"]
)
def test_names_whose_last_word_is_an_id_word(name):
    assert is_id_name(name)


@pytest.mark.parametrize("name", ["paid", "valid", "grid", "idle", "key", "id_type", "Android", "userID2", "size"])
def test_names_that_are_not_ids(name):
    assert not is_id_name(name)


def test_an_id_name_is_an_identifier_whatever_its_values():
    found = exclusion("store_id", pd.Series([1, 2, 1, 2]))
    assert (found.reason, found.detail) == (screening.IDENTIFIER, "its name says it is an id")


def test_all_different_integers_or_texts_are_identifiers_from_the_minimum_row_count():
    assert exclusion("row", pd.Series(np.arange(ROWS))).reason == screening.IDENTIFIER
    texts = pd.Series([f"c{i:04d}" for i in range(ROWS)] + [None])
    assert exclusion("code", texts).detail == f"its {ROWS} values are all different"
    assert exclusion("code", texts.astype("category")).reason == screening.IDENTIFIER
    # A slice of a sequence (every other number) is still one.
    assert exclusion("ticket", pd.Series(np.arange(ROWS) * 2 + 1000)).reason == screening.IDENTIFIER


def test_small_tables_floats_and_widely_spread_integers_are_features():
    assert exclusion("rank", pd.Series(np.arange(ROWS - 1))) is None  # too few rows to tell
    assert exclusion("ratio", pd.Series(np.arange(ROWS) / 7)) is None  # floats are naturally all different
    income = pd.Series(np.random.default_rng(1).choice(10**6, size=ROWS, replace=False))
    assert exclusion("income", income) is None  # all different, but spread over a wide span
    assert exclusion("rank", pd.Series(np.arange(ROWS) % 50)) is None  # repeated values


def test_constant_and_all_missing_columns():
    constant = exclusion("country", pd.Series(["FR", None, "FR"]))
    assert (constant.reason, constant.detail) == (screening.CONSTANT, "every value is 'FR', or missing")
    assert exclusion("flag", pd.Series([True, True])).detail == "every value is True"
    empty = exclusion("notes", pd.Series([None, np.nan, None], dtype="object"))
    assert (empty.reason, empty.detail) == (screening.ALL_MISSING, "no value in 3 rows")
    # All missing wins over the name rule, constant too.
    assert exclusion("old_id", pd.Series([np.nan, np.nan])).reason == screening.ALL_MISSING
    assert exclusion("batch_id", pd.Series([7, 7])).reason == screening.CONSTANT


def test_the_target_is_never_screened():
    rows = frame(y_id=np.arange(ROWS) % 2)
    assert [item.column for item in screen_columns(rows, "y_id")] == []


def test_the_contract_records_the_excluded_columns_and_keeps_the_others_as_features():
    rows = frame(
        row=np.arange(ROWS), customer_id=np.arange(ROWS) % 10, one=5, nothing=np.nan, city=[f"c{i % 60}" for i in range(ROWS)]
    )
    contract = derive_contract(rows, "y", drop_columns=["one"])
    assert contract.excluded_columns == {"row": "identifier", "customer_id": "identifier", "nothing": "all missing"}
    assert contract.feature_names == ["x", "city"]


def test_a_table_of_excluded_columns_only_is_refused_naming_them():
    with pytest.raises(DataError, match=r"no feature columns besides the target 'y'; left out: id \(identifier\)"):
        derive_contract(frame()[["y"]].assign(id=range(ROWS)), "y")


def test_warnings_name_each_excluded_column_and_each_bounded_categorical():
    rows = frame(order_id=np.arange(ROWS), plan="basic", notes=None, city=[f"c{i % 60}" for i in range(ROWS)])
    contract = derive_contract(rows, "y")
    assert data_warnings(rows, contract, max_categories=50) == [
        "column 'order_id' is not a feature: identifier (its name says it is an id); e2e-infer uses it as the id "
        "column of the predictions when the rows to score carry it",
        "column 'plan' is not a feature: constant (every value is 'basic')",
        f"column 'notes' is not a feature: all missing (no value in {ROWS} rows)",
        "column 'city' has 60 levels, more than --max-categories 50: its 49 most frequent levels are one-hot "
        "encoded and the other 11 grouped as one infrequent level",
    ]
    assert data_warnings(rows, contract, max_categories=60) == data_warnings(rows, contract, max_categories=50)[:3]


def test_e2e_train_prints_the_warnings_before_running(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    frame(customer_id=np.arange(ROWS), plan="basic").to_csv(path, index=False)
    settings = TrainingSettings.from_cli(["--data", str(path), "--target", "y", "--max-categories", "10"])
    check_input(settings)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":", 2)[:2] for line in lines] == [
        ["warning", " column 'customer_id' is not a feature"],
        ["warning", " column 'plan' is not a feature"],
    ]


def test_max_categories_below_two_is_a_usage_error():
    from e2e_common.errors import UsageError

    with pytest.raises(UsageError, match="max_categories"):
        TrainingSettings.from_cli(["--max-categories", "1"])
