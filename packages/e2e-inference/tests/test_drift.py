"""The drift decision, read from Evidently's test outcomes, on small synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import QualityGateError
from e2e_inference.drift import ColumnDrift, DriftDecision, enforce, run_drift_check, sample_rows


def frame(rows: int, seed: int, shift: float = 0.0, colors=("a", "b", "c")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1, rows),
            "y": rng.normal(5, 1, rows),
            "color": rng.choice(colors, rows),
            "w": rng.normal(0, 1, rows),
        }
    )


def check(reference, current, drift_share=0.5, na=0.1, sample_size=10_000):
    return run_drift_check(
        reference,
        current,
        drift_share=drift_share,
        na_drift_tolerance=na,
        categorical_columns=["color"],
        sample_size=sample_size,
    )


@pytest.fixture(scope="module")
def reference():
    return frame(400, seed=0)


def test_same_distribution_passes(reference):
    result = check(reference, frame(300, seed=1))
    assert not result.decision.refused
    assert result.decision.drifted_columns == []
    assert result.html.startswith("<!DOCTYPE html>")


def test_share_of_drifted_columns_must_exceed_the_limit(reference):
    current = frame(300, seed=2)
    current["x"] += 5
    current["y"] -= 5
    at_limit = check(reference, current, drift_share=0.5).decision
    assert at_limit.drifted_columns == ["x", "y"]
    assert at_limit.drifted_share == 0.5
    assert not at_limit.refused, "a share equal to the limit does not exceed it"
    below = check(reference, current, drift_share=0.49).decision
    assert below.refused and below.drift_share_exceeded
    assert {c.column for c in below.most_drifted()} == {"x", "y"}
    assert below.summary().startswith("drift check refused: share of drifted columns 0.50 > --drift-share 0.49")
    assert "2 of 4 columns drifted" in at_limit.summary()
    with pytest.raises(QualityGateError, match="--no-drift-check") as refused:
        enforce(below, "artifact 'drift_report' version 9")
    assert "full report: artifact 'drift_report' version 9" in str(refused.value)
    assert refused.value.exit_code == 3


def test_missing_values_moving_past_tolerance_refuse_even_without_distribution_drift(reference):
    current = frame(300, seed=3)
    current.loc[current.index[:60], "w"] = np.nan  # 20% missing, none in the reference
    moved = check(reference, current, na=0.1).decision
    assert moved.na_moved_columns == ["w"]
    assert moved.refused and not moved.drift_share_exceeded
    assert "w (missing 0% -> 20%)" in moved.summary()
    assert not check(reference, current, na=0.25).decision.refused


def test_a_column_with_no_value_left_is_flagged_by_its_missing_share(reference):
    current = frame(100, seed=4)
    current["color"] = None
    decision = check(reference, current).decision
    assert decision.na_moved_columns == ["color"]
    assert decision.refused


def test_decision_round_trips_and_orders_most_drifted_first():
    columns = [
        ColumnDrift("a", True, "K-S p_value", 0.01, 0.05, 0.0, 0.0, False),
        ColumnDrift("b", True, "K-S p_value", 1e-9, 0.05, 0.0, 0.0, False),
        ColumnDrift("c", True, "Wasserstein distance (normed)", 0.3, 0.1, 0.0, 0.0, False),
        ColumnDrift("d", False, "K-S p_value", 0.5, 0.05, 0.0, 0.3, True),
        ColumnDrift("e", False, "K-S p_value", 0.6, 0.05, 0.0, 0.0, False),
    ]
    decision = DriftDecision(0.6, 0.5, True, 0.1, columns, 100, 50)
    assert [c.column for c in decision.most_drifted()] == ["b", "a", "c", "d"]
    assert DriftDecision.from_dict(decision.to_dict()) == decision
    assert decision.metadata()["columns"]["d"]["na_share_current"] == 0.3


def test_sample_is_bounded_and_deterministic():
    big = frame(5000, seed=5)
    first, second = sample_rows(big, 1000), sample_rows(big, 1000)
    assert len(first) == 1000 and first.index.equals(second.index)
    small = frame(10, seed=6)
    assert sample_rows(small, 1000) is small


def test_drift_check_compares_bounded_samples(reference):
    decision = check(reference, frame(3000, seed=7), sample_size=200).decision
    assert (decision.reference_rows, decision.current_rows) == (200, 200)


def test_a_small_batch_counts_drifted_columns_with_the_columns_own_tests():
    """A reference above 1,000 rows and a batch below: the share of drifted columns counts the columns
    the per-column tests flag (K-S and chi-squared), not Evidently's distance measures by the
    reference's size, which a batch this small from the same distribution crosses by chance."""
    reference = frame(5000, seed=3)
    for seed in range(4, 9):
        decision = check(reference, frame(40, seed=seed)).decision
        assert {c.method for c in decision.columns} == {"K-S p_value", "chi-square p_value"}
        assert decision.drifted_share == pytest.approx(len(decision.drifted_columns) / len(decision.columns))
