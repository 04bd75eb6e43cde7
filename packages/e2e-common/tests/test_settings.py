from typing import Annotated

import pytest
from pydantic import Field
from pydantic_settings import NoDecode

from e2e_common.contract import DEFAULT_MODEL_NAME
from e2e_common.errors import UsageError
from e2e_common.settings import E2ESettings, comma_list_validator


class ExampleSettings(E2ESettings):
    test_size: float = Field(0.2, gt=0, lt=1)
    no_normalize: bool = False
    drop_columns: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _split_drop_columns = comma_list_validator("drop_columns")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("E2E_TEST_SIZE", "E2E_MODEL_NAME", "E2E_NO_NORMALIZE", "E2E_DROP_COLUMNS", "E2E_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = ExampleSettings.from_cli([])
    assert settings.model_name == DEFAULT_MODEL_NAME
    assert settings.test_size == 0.2 and settings.no_normalize is False and settings.drop_columns == []


def test_precedence_cli_over_env_over_file_over_default(tmp_path, monkeypatch):
    config = tmp_path / "settings.yaml"
    config.write_text("test_size: 0.1\nmodel_name: from_file\ndrop_columns: [a, b]\n")
    assert ExampleSettings.from_cli(["--config", str(config)]).test_size == 0.1
    monkeypatch.setenv("E2E_TEST_SIZE", "0.3")
    from_env = ExampleSettings.from_cli(["--config", str(config)])
    assert (from_env.test_size, from_env.model_name, from_env.drop_columns) == (0.3, "from_file", ["a", "b"])
    assert ExampleSettings.from_cli(["--config", str(config), "--test-size", "0.4"]).test_size == 0.4


def test_no_flags_and_comma_lists_from_cli_and_env(monkeypatch):
    settings = ExampleSettings.from_cli(["--no-normalize", "--drop-columns", "a,b"])
    assert settings.no_normalize is True and settings.drop_columns == ["a", "b"]
    monkeypatch.setenv("E2E_NO_NORMALIZE", "true")
    monkeypatch.setenv("E2E_DROP_COLUMNS", "c")
    settings = ExampleSettings.from_cli([])
    assert settings.no_normalize is True and settings.drop_columns == ["c"]


def test_invalid_value_names_the_setting_flag_and_variable(monkeypatch):
    with pytest.raises(UsageError, match=r"setting 'test_size' \(--test-size / E2E_TEST_SIZE\)"):
        ExampleSettings.from_cli(["--test-size", "3"])
    monkeypatch.setenv("E2E_TEST_SIZE", "lots")
    with pytest.raises(UsageError, match="'lots' for setting 'test_size'"):
        ExampleSettings.from_cli([])


def test_unknown_option_is_a_usage_error():
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        ExampleSettings.from_cli(["--bogus"])


def test_config_file_problems_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="config file .*missing.yaml not found"):
        ExampleSettings.from_cli(["--config", str(tmp_path / "missing.yaml")])
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("tset_size: 0.1\n")
    with pytest.raises(UsageError, match="unknown setting 'tset_size' in"):
        ExampleSettings.from_cli(["--config", str(unknown)])
    broken = tmp_path / "broken.yaml"
    broken.write_text("test_size: [\n")
    with pytest.raises(UsageError, match="is not valid YAML"):
        ExampleSettings.from_cli(["--config", str(broken)])


@pytest.mark.parametrize(
    ("content", "kind"), [("- test_size: 0.1\n", "a list"), ("0.1\n", "a number"), ("yes\n", "a boolean")]
)
def test_a_config_file_whose_top_level_is_not_a_mapping_is_a_usage_error(tmp_path, content, kind):
    config = tmp_path / "settings.yaml"
    config.write_text(content)
    with pytest.raises(UsageError) as raised:
        ExampleSettings.from_cli(["--config", str(config)])
    assert str(raised.value) == f"config file {config} must hold a mapping of settings (key: value), not {kind}"


def test_a_config_file_that_is_a_folder_not_utf_8_or_with_a_key_that_is_not_text_says_so(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        ExampleSettings.from_cli(["--config", str(tmp_path)])
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("model_name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        ExampleSettings.from_cli(["--config", str(latin)])
    numbered = tmp_path / "numbered.yaml"
    numbered.write_text("1: 2\n")
    with pytest.raises(UsageError, match="setting names must be text, not 1"):
        ExampleSettings.from_cli(["--config", str(numbered)])
