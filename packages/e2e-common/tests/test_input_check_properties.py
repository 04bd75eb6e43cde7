"""Property test of the input check (``e2e_common.checks``): for any small frame, the check either
refuses it with the product's data error (exit 2), or everything after it works on it.

The frames hypothesis draws have odd and repeated column names, columns of mixed types, missing
values, infinities, huge and tiny numbers, list and dict cells, and no rows at all. What happens
after the check is what training and scoring do with a table: derive the data contract, fit and
apply the shared preprocessing, fit a classifier and predict, and check the same rows as rows to
score. The check (``check_table`` and ``DataContract.from_frame``, which e2e-train both runs before
the pipeline) may only raise ``DataError``; nothing after it may raise at all.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier

from e2e_common.checks import LARGEST_MAGNITUDE, check_table, labelled_rows
from e2e_common.errors import DataError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract

pytestmark = pytest.mark.slow  # a property test (project rule)

TARGET = "target"
MAX_ROWS = 8

names = st.one_of(
    st.sampled_from(["a", "b", "a ", " a", "", " ", "a.1", "Unnamed: 0", "mean radius", "é", "x" * 300, TARGET]),
    st.text(min_size=0, max_size=6),
)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e149, -1e149, 1e150, 1e300, -1e308, math.inf, -math.inf, math.nan]),
)
scalars = st.one_of(
    floats,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)
cells = st.one_of(
    scalars,
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["k", "v"]), st.integers(0, 3), max_size=2),
    st.binary(max_size=3),
)


@st.composite
def columns(draw: st.DrawFn, rows: int) -> list[object]:
    """One column: of one kind (as files hold them) or of any mix (as Python objects can)."""
    kind = draw(st.sampled_from(["float", "int", "text", "bool", "mixed", "cells"]))
    element = {
        "float": floats,
        "int": st.integers(-1000, 1000),
        "text": st.one_of(st.text(max_size=4), st.none()),
        "bool": st.booleans(),
        "mixed": scalars,
        "cells": cells,
    }[kind]
    return draw(st.lists(element, min_size=rows, max_size=rows))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, MAX_ROWS))
    width = draw(st.integers(0, 4))
    parts = [pd.Series(draw(columns(rows)), name=draw(names), dtype=None if rows else object) for _ in range(width)]
    labels = draw(
        st.one_of(
            st.lists(st.sampled_from([0, 1]), min_size=rows, max_size=rows),
            st.lists(st.sampled_from(["yes", "no", None]), min_size=rows, max_size=rows),
            st.lists(st.one_of(st.sampled_from([0, 1, "a", 1.5, math.nan, math.inf, True]), cells), min_size=rows, max_size=rows),
        )
    )
    parts.insert(draw(st.integers(0, width)), pd.Series(labels, name=TARGET, dtype=None if rows else object))
    frame = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    return frame.reset_index(drop=True)


def checked_then_used(frame: pd.DataFrame) -> str:
    """The check, then what training and scoring do with the frame; which way it went."""
    try:
        checked = check_table(frame, TARGET)
        contract = DataContract.from_frame(checked.frame, TARGET, excluded_columns=dict.fromkeys(checked.unsupported, "not scalar"))
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        assert "np.int64" not in str(exc) and "np.float64" not in str(exc)
        return "refused"

    table = checked.frame
    rows = labelled_rows(table, TARGET)  # training drops rows without a label
    features = rows[contract.feature_names]
    pipeline = build_preprocess_pipeline(contract, max_categories=5).fit(features)
    transformed = pipeline.transform(features)
    assert transformed.shape[0] == len(rows)
    assert np.isfinite(transformed.to_numpy(dtype="float64")).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(transformed, rows[TARGET])
    predicted = model.predict(pipeline.transform(frame[contract.feature_names]))
    assert len(predicted) == len(frame)

    validated = contract.validate(frame)  # the same rows, as rows to score (infinities and all)
    numeric = validated.features.select_dtypes("number").to_numpy(dtype="float64")
    assert not np.isinf(numeric).any()
    assert (np.abs(numeric[~np.isnan(numeric)]) < LARGEST_MAGNITUDE).all()
    return "accepted"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames())
def test_the_check_refuses_with_a_data_error_or_everything_after_it_works(frame):
    checked_then_used(frame)


def test_the_generated_frames_reach_both_outcomes():
    """The strategy is not vacuous: some drawn frames pass the check, some are refused."""
    outcomes: set[str] = set()

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(frames())
    def collect(frame):
        outcomes.add(checked_then_used(frame))

    collect()
    assert outcomes == {"accepted", "refused"}
