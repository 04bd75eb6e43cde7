import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError
from e2e_common.schemas import DataContract
from e2e_training.settings import SplitOptions
from e2e_training.split import (
    SPLIT_SCHEME,
    SplitInfo,
    prepare_splits,
    row_buckets,
    rows_held_out_by_both,
    split_rows,
)


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "colour": rng.choice(["red", "blue", None], size=rows),
            "target": rng.choice(["a", "b"], size=rows),
        }
    )


def test_a_row_keeps_its_side_when_rows_are_added():
    original = frame(500)
    grown = pd.concat([frame(300, seed=1), original, frame(300, seed=2)], ignore_index=True)
    held_before = (row_buckets(original) < 0.2).to_numpy()
    held_after = (row_buckets(grown) < 0.2).to_numpy()[300:800]
    assert (held_before == held_after).all()
    _, holdout = split_rows(grown, 0.2)
    assert len(holdout) == pytest.approx(0.2 * len(grown), rel=0.2)


def test_the_holdout_fraction_is_close_to_test_size_in_every_class():
    rows = frame(4000)
    train, holdout = split_rows(rows, 0.25)
    assert len(train) + len(holdout) == len(rows)
    for label in ("a", "b"):
        share = (holdout["target"] == label).sum() / (rows["target"] == label).sum()
        assert share == pytest.approx(0.25, abs=0.04)


def test_buckets_survive_a_csv_round_trip_and_column_order(tmp_path):
    rows = frame(200).assign(count=range(200))
    rows.to_csv(tmp_path / "rows.csv", index=False)
    read_back = pd.read_csv(tmp_path / "rows.csv")[["target", "count", "colour", "x"]]
    assert np.allclose(row_buckets(rows).to_numpy(), row_buckets(read_back).to_numpy())


def test_rows_held_out_by_both_versions_are_below_the_smaller_fraction():
    rows = frame(1000)
    _, holdout = split_rows(rows, 0.3)
    both = rows_held_out_by_both(holdout, 0.3, 0.1)
    assert set(both.index) == set(rows.index[row_buckets(rows) < 0.1])


def test_prepare_splits_drops_missing_values_unless_told_not_to():
    rows = frame(400)
    rules = DataContract.from_frame(rows, "target")
    train, holdout = prepare_splits(rows, rules, SplitOptions(test_size=0.2))
    assert not train.isna().any().any() and not holdout.isna().any().any()
    train, holdout = prepare_splits(rows, rules, SplitOptions(test_size=0.2, no_drop_na=True))
    assert len(train) + len(holdout) == 400


def test_prepare_splits_refuses_an_empty_holdout():
    rows = frame(3)
    with pytest.raises(DataError, match="is empty"):
        prepare_splits(rows, DataContract.from_frame(frame(50), "target"), SplitOptions(test_size=0.01, no_drop_na=True))


def test_split_info_round_trips_through_metadata():
    info = SplitInfo(0.2, 80, 20)
    assert SplitInfo.holdout_fraction_of(info.as_metadata()) == 0.2
    assert SplitInfo.holdout_fraction_of({"holdout_fraction": 0.2, "scheme": "other"}) is None
    assert SplitInfo.holdout_fraction_of(None) is None
    assert info.scheme == SPLIT_SCHEME
