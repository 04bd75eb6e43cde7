"""e2e-train's check of its input before the pipeline (issue 16): values, columns, the config file,
the search space, and messages that point at the real cause. No pipeline runs here."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from e2e_common.errors import DataError, UsageError
from e2e_training.cli import check_input
from e2e_training.data import derive_contract, load_training_table
from e2e_training.screening import FREE_TEXT, NOT_SCALAR, exclusion
from e2e_training.search import check_search
from e2e_training.settings import DataOptions, ModelFamily, SearchOptions, TrainingSettings

ROWS = 200


def customers(rows: int = ROWS, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    usage = rng.normal(size=rows)
    return pd.DataFrame({"usage": usage, "plan": np.where(usage > 1, "pro", "basic"), "y": (usage > 0).astype(int)}).assign(
        **columns
    )


def settings_for(path, *args: str) -> TrainingSettings:
    return TrainingSettings.from_cli(["--data", str(path), "--target", "y", *args])


def test_infinities_are_missing_values_with_a_warning_naming_column_and_count(tmp_path, capsys):
    path = tmp_path / "inf.csv"
    data = customers()
    data.loc[[3, 5, 7], "usage"] = [math.inf, -math.inf, math.inf]
    data.to_csv(path, index=False)
    frame, _ = check_input(settings_for(path))
    assert frame["usage"].isna().sum() == 3 and not np.isinf(frame["usage"].dropna()).any()
    assert "warning: column 'usage' holds 3 infinite value(s) (inf or -inf), read as missing values" in (
        capsys.readouterr().out.splitlines()
    )


def test_the_pipeline_reads_the_same_checked_rows_as_the_check(tmp_path):
    from e2e_common.data import frame_fingerprint
    from e2e_training.data import load_checked

    path = tmp_path / "inf.csv"
    data = customers()
    data.loc[0, "usage"] = math.inf
    data.to_csv(path, index=False)
    checked = load_training_table(DataOptions(data=path, target="y"))
    frame, contract = load_checked(DataOptions(data=path, target="y"), frame_fingerprint(checked.frame))
    assert frame["usage"].isna().sum() == 1 and "usage" in contract.feature_names


def test_huge_values_are_refused_before_the_pipeline_naming_column_and_value(tmp_path):
    path = tmp_path / "huge.csv"
    data = customers(extra=np.random.default_rng(2).normal(size=ROWS))
    data.loc[0, "usage"] = 1e300
    data.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'usage' holds 1e\+300 beyond ±1e\+150.*rescale it .* or drop the column"):
        check_input(settings_for(path))
    assert check_input(settings_for(path, "--drop-columns", "usage")) is not None  # a dropped column is not looked at


def test_list_struct_and_binary_columns_are_left_out_with_a_warning_and_recorded(tmp_path, capsys):
    path = tmp_path / "nested.parquet"
    customers(
        tags=[[i % 3, 1] for i in range(ROWS)], meta=[{"k": i} for i in range(ROWS)], raw=[b"x%d" % i for i in range(ROWS)]
    ).to_parquet(path)
    frame, _ = check_input(settings_for(path))
    out = capsys.readouterr().out
    for name in ("tags", "meta", "raw"):
        assert f"warning: column '{name}' is not a feature: not scalar (it holds " in out
    contract = derive_contract(frame, "y")
    assert {name: contract.excluded_columns[name] for name in ("tags", "meta", "raw")} == dict.fromkeys(
        ("tags", "meta", "raw"), NOT_SCALAR
    )
    assert contract.feature_names == ["usage", "plan"]


def test_free_text_is_left_out_with_a_warning(tmp_path):
    rows = 4000
    rng = np.random.default_rng(1)
    notes = pd.Series([f"note {i}" for i in rng.integers(0, rows, size=rows)])
    found = exclusion("notes", notes)
    assert found is not None and found.reason == FREE_TEXT
    assert found.warning().startswith(f"column 'notes' is not a feature: free text ({notes.nunique()} distinct values in {rows} rows)")
    assert exclusion("city", pd.Series([f"city {i % 900}" for i in range(rows)])) is None  # many levels, not free text
    assert exclusion("small", pd.Series([f"w{i % 500}" for i in range(600)])) is None  # under 1000 levels


def test_all_rows_identical_is_said_as_such(tmp_path):
    path = tmp_path / "same.csv"
    pd.DataFrame({"a": [1.0] * 50, "b": ["x"] * 50, "y": [1] * 50}).to_csv(path, index=False)
    with pytest.raises(DataError, match="^all 50 rows are identical; a model needs rows that differ$"):
        check_input(settings_for(path))


def test_few_distinct_rows_on_one_side_of_the_split_are_named_as_the_cause(tmp_path):
    path = tmp_path / "two.csv"
    pd.DataFrame({"a": [1.0, 2.0] * 40, "y": [0, 1] * 40}).to_csv(path, index=False)
    with pytest.raises(DataError, match="the 80 rows are only 2 distinct rows, and copies of a row are always on the same side"):
        check_input(settings_for(path))


def test_a_target_with_measures_is_refused_as_classes_and_read_as_a_regression_otherwise(tmp_path):
    path = tmp_path / "measure.csv"
    customers(y=np.linspace(0, 1, ROWS)).to_csv(path, index=False)
    with pytest.raises(DataError, match="target column 'y' holds .*, which is not a class label: --task classification"):
        check_input(settings_for(path, "--task", "classification"))
    assert check_input(settings_for(path))[1].is_regression


def test_a_target_spelled_with_spaces_is_pointed_at(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text("usage, y\n1,0\n2,1\n")
    with pytest.raises(DataError, match="the data has ' y' for 'y': names must match exactly"):
        check_input(settings_for(path))


def test_a_symbolic_link_loop_as_data_says_so(tmp_path):
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    with pytest.raises(DataError, match="symbolic link loop"):
        check_input(settings_for(loop))


# --- the config file and the search space -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "a text"), ("42\n", "a number")]
)
def test_a_config_file_that_is_not_a_mapping_is_a_usage_error(tmp_path, content, kind):
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    with pytest.raises(UsageError, match=f"config file {config} must hold a mapping of settings \\(key: value\\), not {kind}$"):
        TrainingSettings.from_cli(["--config", str(config)])


def test_a_config_file_that_is_a_folder_or_not_utf_8_says_so(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        TrainingSettings.from_cli(["--config", str(tmp_path)])
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("n_iter: 3 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        TrainingSettings.from_cli(["--config", str(latin)])


def test_an_empty_config_file_is_no_settings(tmp_path):
    config = tmp_path / "empty.yaml"
    config.write_text("# nothing\n")
    assert TrainingSettings.from_cli(["--config", str(config)]).cv_folds == 5


def options(**values) -> SearchOptions:
    return SearchOptions(**{"n_iter": 2, "cv_folds": 3, "metric": "accuracy", "random_state": 0, **values})


@pytest.mark.parametrize(
    ("family", "message"),
    [
        (
            ModelFamily(estimator="sklearn.tree.DecisionTreeClassifier", params={"max_depth": -1}),
            "model family 'f': DecisionTreeClassifier refuses max_depth = -1: The 'max_depth' parameter of "
            "DecisionTreeClassifier must be an int in the range [1, inf) or None. Got -1 instead. (setting 'search_space')",
        ),
        (
            ModelFamily(estimator="sklearn.ensemble.RandomForestClassifier", search={"n_estimators": ["many", 10]}),
            "RandomForestClassifier refuses n_estimators = 'many': The 'n_estimators' parameter",
        ),
        (
            ModelFamily(estimator="sklearn.tree.DecisionTreeClassifier", search={"min_samples_leaf": {"int": [0, 5]}}),
            "refuses min_samples_leaf = 0",
        ),
        (
            ModelFamily(estimator="sklearn.linear_model.LogisticRegression", params={"C": -1.0}),
            "LogisticRegression refuses C = -1.0",
        ),
    ],
)
def test_an_estimator_parameter_the_estimator_refuses_is_named_with_the_first_line_of_its_reason(family, message):
    with pytest.raises(UsageError) as raised:
        check_search(options(search_space={"f": family}), pd.Series(["a", "b"] * 10))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_cv_folds_set_above_the_smallest_class_is_refused_and_the_default_shrinks():
    target = pd.Series([0] * 30 + [1] * 4)
    with pytest.raises(DataError, match=r"^cv_folds 1000 is more than the 4 train rows of the smallest class \(1\)"):
        check_search(options(cv_folds=1000), target, folds_configured=True)
    check_search(options(cv_folds=5), target, folds_configured=False)  # the default: 4 folds
    check_search(options(cv_folds=4), target, folds_configured=True)


def test_cv_folds_from_the_config_file_is_checked_before_the_pipeline(tmp_path):
    path, config = tmp_path / "small.csv", tmp_path / "folds.yaml"
    customers().to_csv(path, index=False)
    config.write_text("cv_folds: 1000\n")
    with pytest.raises(DataError, match="cv_folds 1000 is more than the"):
        check_input(settings_for(path, "--config", str(config)))


def test_max_categories_is_bounded_above():
    with pytest.raises(UsageError, match="max_categories"):
        TrainingSettings.from_cli(["--max-categories", "100000"])
    assert TrainingSettings.from_cli(["--max-categories", "1000"]).max_categories == 1000


def test_a_class_named_in_a_message_is_a_plain_value():
    from e2e_training.search import cv_splitter

    with pytest.raises(DataError) as raised:
        cv_splitter(pd.Series(np.array([0] * 10 + [1], dtype=np.int64)), 5, 0)
    assert str(raised.value).startswith("class 1 has only 1 row") and "np." not in str(raised.value)


def prices(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    size = rng.uniform(1, 10, size=rows)
    return pd.DataFrame({"size": size, "plan": rng.choice(["a", "b"], size=rows), "y": 100 + 20 * size + rng.normal(size=rows)})


def test_a_regression_gets_rmse_unless_a_metric_is_given(tmp_path):
    from e2e_training.cli import settings_for_task

    path = tmp_path / "prices.csv"
    prices().to_csv(path, index=False)
    settings = settings_for(path)
    _, rules = check_input(settings)
    assert rules.is_regression and "fractions" in rules.task_reason
    assert settings_for_task(settings, rules).metric == "rmse"
    assert settings_for_task(settings_for(path, "--metric", "mae"), rules).metric == "mae"
    _, classified = check_input(settings_for(tmp_path / "prices.csv", "--drop-columns", "size", "--target", "plan"))
    assert not classified.is_regression and settings_for_task(settings, classified).metric == "accuracy"


@pytest.mark.parametrize(
    ("data", "args", "message"),
    [
        ("prices", ["--metric", "accuracy"], "--metric accuracy scores a classification, and this target is a regression"),
        ("customers", ["--metric", "rmse"], "--metric rmse scores a regression, and this target is a classification"),
        ("customers", ["--max-rmse", "3", "--min-r2", "0.5"], "--max-rmse, --min-r2 only apply to a regression"),
        ("zeros", ["--metric", "mape"], "mape divides by the target, and 3 rows have a target of 0"),
        ("zeros", ["--max-mape", "0.2"], "mape divides by the target"),
        ("customers", ["--task", "regression", "--target", "plan"], "holds values that are not numbers (e.g. 'basic')"),
    ],
)
def test_settings_that_do_not_fit_the_task_are_usage_errors_before_the_run(tmp_path, data, args, message):
    path = tmp_path / f"{data}.csv"
    frame = customers() if data == "customers" else prices()
    if data == "zeros":
        frame.loc[[1, 2, 3], "y"] = 0.0
    frame.to_csv(path, index=False)
    with pytest.raises((UsageError, DataError)) as raised:
        check_input(settings_for(path, *args))
    assert message in str(raised.value)


def test_rows_without_a_target_are_counted_in_a_warning_and_left_out(tmp_path, capsys):
    path = tmp_path / "some_unlabelled.csv"
    frame = prices()
    frame.loc[[0, 5, 9, 11], "y"] = np.nan
    frame.to_csv(path, index=False)
    _, rules = check_input(settings_for(path))
    assert rules.is_regression
    assert f"warning: 4 of {ROWS} rows have no value in the target column 'y'; they are left out" in capsys.readouterr().out


def test_few_whole_numbers_stay_classes_unless_task_regression(tmp_path):
    path = tmp_path / "ratings.csv"
    customers().assign(y=lambda f: (f["usage"].rank(pct=True) * 4).round().astype(int) + 1).to_csv(path, index=False)
    _, rules = check_input(settings_for(path))
    assert not rules.is_regression and rules.classes == [1, 2, 3, 4, 5]
    _, forced = check_input(settings_for(path, "--task", "regression"))
    assert forced.is_regression and forced.task_reason == "--task regression"


def test_score_floors_on_a_regression_need_the_metric_they_are_in(tmp_path):
    path = tmp_path / "prices.csv"
    prices().to_csv(path, index=False)
    with pytest.raises(UsageError, match=r"--min-test-score are in the units of --metric, and this target is a regression"):
        check_input(settings_for(path, "--min-test-score", "0.8"))
    check_input(settings_for(path, "--min-test-score", "0.8", "--metric", "r2"))


def test_mape_on_a_target_of_zeros_written_as_text_is_refused(tmp_path):
    path = tmp_path / "text.parquet"
    prices().assign(y=lambda f: f["y"].round(1).astype(str)).assign(y=lambda f: f["y"].where(f.index > 2, "0.0")).to_parquet(path)
    with pytest.raises(UsageError, match="3 rows have a target of 0"):
        check_input(settings_for(path, "--task", "regression", "--metric", "mape"))
