import pytest

from e2e_common.contract import Stage
from e2e_common.data import DEFAULT_TARGET
from e2e_common.errors import UsageError
from e2e_training.settings import TrainingSettings, package_defaults


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "E2E_MIN_TEST_ACCURACY", "E2E_MIN_TEST_SCORE", "E2E_N_ITER", "E2E_CONFIG", "E2E_TARGET_ENV", "E2E_DROP_COLUMNS",
        "E2E_FAIL_ON_QUALITY_GATES", "E2E_FAIL_ON_ACCURACY_QUALITY_GATES", "E2E_METRIC", "E2E_MIN_IMPROVEMENT",
        "E2E_TIME_BUDGET",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_come_from_the_packaged_config():
    settings = TrainingSettings.from_cli([])
    defaults = package_defaults()
    assert settings.target == DEFAULT_TARGET
    assert settings.target_env == Stage.STAGING and settings.promotion == "metric"
    assert settings.n_iter == defaults["n_iter"] and settings.cv_folds == defaults["cv_folds"]
    assert set(settings.search_space) == {"hist_gradient_boosting", "logistic_regression"}
    assert settings.halving_factor == defaults["halving_factor"] == 3 and settings.time_budget is None
    assert settings.no_hp_tuning is False and settings.drop_columns == []


def test_a_time_budget_is_seconds_above_zero_from_a_flag_a_variable_or_the_config(tmp_path, monkeypatch):
    assert TrainingSettings.from_cli(["--time-budget", "2.5"]).time_budget == 2.5
    config = tmp_path / "train.yaml"
    config.write_text("time_budget: 30\n")
    assert TrainingSettings.from_cli(["--config", str(config)]).time_budget == 30
    monkeypatch.setenv("E2E_TIME_BUDGET", "12")
    assert TrainingSettings.from_cli(["--config", str(config)]).time_budget == 12
    for bad in ("0", "-5", "soon"):
        with pytest.raises(UsageError, match="time_budget|time-budget"):
            TrainingSettings.from_cli(["--time-budget", bad])


def test_flag_beats_environment_beats_config_file_beats_default(tmp_path, monkeypatch):
    config = tmp_path / "train.yaml"
    config.write_text("min_test_score: 0.5\nn_iter: 3\n")
    assert TrainingSettings.from_cli([]).min_test_score is None
    from_file = TrainingSettings.from_cli(["--config", str(config)])
    assert (from_file.min_test_score, from_file.n_iter) == (0.5, 3)
    monkeypatch.setenv("E2E_MIN_TEST_SCORE", "0.6")
    assert TrainingSettings.from_cli(["--config", str(config)]).min_test_score == 0.6
    flagged = TrainingSettings.from_cli(["--config", str(config), "--min-test-score", "0.7"])
    assert flagged.min_test_score == 0.7 and flagged.n_iter == 3


def test_gates_are_off_but_the_baseline_margin_and_the_metric_have_defaults():
    settings = TrainingSettings.from_cli([])
    assert (settings.min_train_score, settings.min_test_score, settings.fail_on_quality_gates) == (None, None, False)
    assert (settings.metric, settings.baseline_margin, settings.min_improvement) == ("accuracy", 0.05, 0.0)
    assert "cv_scoring" not in package_defaults()


@pytest.mark.parametrize(
    "given",
    [
        (["--fail-on-quality-gates"], {}, ""),
        (["--fail-on-accuracy-quality-gates"], {}, ""),
        ([], {"E2E_FAIL_ON_QUALITY_GATES": "true"}, ""),
        ([], {"E2E_FAIL_ON_ACCURACY_QUALITY_GATES": "true"}, ""),
        ([], {}, "fail_on_accuracy_quality_gates: true\n"),
        ([], {}, "fail_on_quality_gates: true\n"),
    ],
)
def test_renamed_settings_keep_their_old_flag_variable_and_yaml_key(given, tmp_path, monkeypatch):
    argv, environment, yaml_text = given
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if yaml_text:
        (tmp_path / "train.yaml").write_text(yaml_text)
        argv = [*argv, "--config", str(tmp_path / "train.yaml")]
    assert TrainingSettings.from_cli(argv).fail_on_quality_gates is True


def test_the_old_accuracy_floors_are_the_score_floors(monkeypatch):
    settings = TrainingSettings.from_cli(["--min-train-accuracy", "0.8", "--metric", "balanced_accuracy"])
    assert settings.min_train_score == 0.8 and settings.metric == "balanced_accuracy"
    monkeypatch.setenv("E2E_MIN_TEST_ACCURACY", "0.75")
    assert TrainingSettings.from_cli([]).min_test_score == 0.75
    unprefixed = "FAIL_ON_QUALITY_GATES"
    monkeypatch.setenv(unprefixed, "true")
    assert TrainingSettings.from_cli([]).fail_on_quality_gates is False


@pytest.mark.parametrize(("argv", "setting"), [(["--metric", "f1"], "metric"), (["--min-improvement", "-1"], "min_improvement")])
def test_invalid_metric_settings_name_the_setting(argv, setting):
    with pytest.raises(UsageError, match=f"setting '{setting}'"):
        TrainingSettings.from_cli(argv)


def test_a_search_space_in_the_config_file_replaces_the_default(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(
        "search_space:\n  forest:\n    estimator: sklearn.ensemble.RandomForestClassifier\n"
        "    search:\n      n_estimators: {int: [5, 10]}\n      max_depth: [2, null]\n"
    )
    settings = TrainingSettings.from_cli(["--config", str(config)])
    assert list(settings.search_space) == ["forest"]
    assert settings.search_space["forest"].search["max_depth"] == [2, None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("search_space: {}\n", "at least one model family"),
        ("search_space:\n  Forest:\n    estimator: sklearn.tree.DecisionTreeClassifier\n", "lower_snake_case"),
        ("search_space:\n  f:\n    estimator: os.system\n", "search_space"),
        ("search_space:\n  f:\n    estimator: sklearn.tree.X\n    search: {a: {int: [3, 1]}}\n", "below high"),
        ("cv_folds: 1\n", "cv_folds"),
    ],
)
def test_invalid_search_settings_name_the_setting(tmp_path, text, message):
    config = tmp_path / "train.yaml"
    config.write_text(text)
    with pytest.raises(UsageError, match=message):
        TrainingSettings.from_cli(["--config", str(config)])


def test_toggles_lists_and_stages_from_flags_and_environment(monkeypatch):
    settings = TrainingSettings.from_cli(
        ["--no-hp-tuning", "--no-drop-na", "--drop-columns", "mean radius,mean area", "--target-env", "production"]
    )
    assert settings.no_hp_tuning and settings.no_drop_na
    assert settings.drop_columns == ["mean radius", "mean area"] and settings.target_env == Stage.PRODUCTION
    monkeypatch.setenv("E2E_TARGET_ENV", "production")
    assert TrainingSettings.from_cli([]).target_env == Stage.PRODUCTION
