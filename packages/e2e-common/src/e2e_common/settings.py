"""The settings base both CLIs share: CLI flag > ``E2E_`` environment > ``--config`` YAML > default.

pydantic-settings declares and parses everything: the command line (argparse underneath), the
environment and the YAML file. Flags named ``--no-X`` map to settings ``no_X`` (``E2E_NO_X``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from e2e_common.contract import DEFAULT_MODEL_NAME
from e2e_common.errors import UsageError, one_line

ENV_PREFIX = "E2E_"

SettingsT = TypeVar("SettingsT", bound="E2ESettings")
SectionT = TypeVar("SectionT", bound="Section")


class Section(BaseModel):
    """A group of settings that one part of a pipeline needs, declared once.

    A CLI's settings class inherits its sections, so each option is declared in one place (flag,
    ``E2E_`` variable, YAML key, default, help); the pipeline receives frozen section objects.
    """

    model_config = ConfigDict(frozen=True, validate_default=True)

    @classmethod
    def of(cls: type[SectionT], settings: BaseModel) -> SectionT:
        """This section's values taken from a CLI's parsed settings."""
        return cls.model_validate({name: getattr(settings, name) for name in cls.model_fields})


class E2ESettings(BaseSettings):
    """Settings every CLI has."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        cli_implicit_flags="toggle",
        cli_kebab_case=True,
        cli_exit_on_error=False,
        cli_use_class_docs_for_groups=False,
        validate_default=True,
    )

    config: Path | None = Field(None, description="YAML file with settings (flags and E2E_ variables win over it)")
    model_name: str = Field(DEFAULT_MODEL_NAME, min_length=1, description="model name in the Model Control Plane")
    no_cache: bool = Field(False, description="run every step again instead of reusing cached results")
    notify_on_failure: bool = Field(True, description="send a message through the stack's alerter on failure")
    notify_on_success: bool = Field(False, description="send a message through the stack's alerter on success")
    debug: bool = Field(False, description="show tracebacks and library logs")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The CLI source is put in front of these by pydantic-settings itself.
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))

    @classmethod
    def from_cli(cls: type[SettingsT], argv: Sequence[str] | None = None, prog: str | None = None) -> SettingsT:
        """Parse settings from the command line, environment and config file.

        Raises UsageError naming the setting at fault. ``--help`` prints and exits 0.
        """
        args = list(sys.argv[1:] if argv is None else argv)
        located = _parse(cls, args, prog)
        if located.config is None:
            return located
        config_path = Path(located.config)
        if not config_path.is_file():
            raise UsageError(f"config file {config_path} not found (setting 'config'); pass an existing YAML file")
        with_file = type(cls.__name__, (cls,), {"model_config": {**cls.model_config, "yaml_file": config_path}})
        return _parse(with_file, args, prog, config_path)


def _parse(
    settings_cls: type[SettingsT], args: list[str], prog: str | None, config_path: Path | None = None
) -> SettingsT:
    try:
        return settings_cls(_cli_parse_args=args, _cli_prog_name=prog or Path(sys.argv[0]).name)
    except SettingsError as exc:
        raise UsageError(f"{one_line(exc).removeprefix('error parsing CLI: ')}; see --help") from exc
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, config_path)) from exc
    except Exception as exc:  # a YAML file that does not parse
        if config_path is not None and type(exc).__module__.startswith("yaml"):
            raise UsageError(f"config file {config_path} is not valid YAML: {one_line(exc)}") from exc
        raise


def describe_validation_error(exc: ValidationError, config_path: Path | None = None) -> str:
    """One line naming each invalid setting, its flag and variable, and what is wrong."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        if error["type"] == "extra_forbidden":
            where = f" in {config_path}" if config_path else ""
            problems.append(f"unknown setting '{name}'{where}")
            continue
        flag = "--" + name.replace("_", "-")
        env = ENV_PREFIX + name.upper()
        value = error.get("input")
        shown = f" {value!r}" if value is not None and not isinstance(value, dict) else ""
        problems.append(f"invalid value{shown} for setting '{name}' ({flag} / {env}): {error['msg']}")
    return "; ".join(problems)


def split_comma_list(value: Any) -> Any:
    """Accept ``A,B`` (flag or variable) as well as a YAML or JSON list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def comma_list_validator(*fields: str) -> Any:
    """A before-validator for list settings given as ``A,B``."""
    return field_validator(*fields, mode="before")(lambda cls, value: split_comma_list(value))
