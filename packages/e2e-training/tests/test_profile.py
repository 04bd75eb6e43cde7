"""The training profile the drift gate reads: ranges on the train split, importance in the run's metric."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_training.profile import complete_contract


@pytest.mark.parametrize("metric", ["accuracy", "log_loss", "roc_auc"])
def test_the_signal_column_carries_the_importance_and_ranges_come_from_the_train_rows(metric):
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    rows["color"] = rng.choice(["red", "blue"], 400)
    rows["target"] = np.where(rows["signal"] + rng.normal(scale=0.3, size=400) > 0, "yes", "no")
    train, holdout = rows.iloc[:300], rows.iloc[300:]
    contract = DataContract.from_frame(train, "target")
    preprocess = build_preprocess_pipeline(contract).fit(train[contract.feature_names])
    model = LogisticRegression().fit(preprocess.transform(train[contract.feature_names]), train["target"])
    completed = complete_contract(contract, train, holdout, preprocess, model, metric)
    importance = {spec.name: spec.importance for spec in completed.features}
    assert sum(importance.values()) == pytest.approx(1.0)
    assert max(importance, key=importance.get) == "signal" and importance["signal"] > 0.8
    signal = completed.feature("signal")
    assert (signal.minimum, signal.maximum) == (train["signal"].min(), train["signal"].max())
    assert completed.feature("color").minimum is None and completed.feature("color").categories == ["blue", "red"]


def test_a_wide_table_is_permuted_fewer_times_but_at_least_once():
    from e2e_training.profile import IMPORTANCE_REPEATS, importance_repeats

    assert importance_repeats(4) == IMPORTANCE_REPEATS
    assert importance_repeats(30) == 4
    assert importance_repeats(73) == 1 and importance_repeats(500) == 1
