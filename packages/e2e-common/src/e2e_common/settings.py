"""The settings base both CLIs share: CLI flag > ``E2E_`` environment > ``--config`` YAML > default.

pydantic-settings declares and parses everything: the command line (argparse underneath), the
environment and the YAML file. Flags named ``--no-X`` map to settings ``no_X`` (``E2E_NO_X``).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import (
    BaseSettings,
    CliSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from e2e_common.contract import DEFAULT_MODEL_NAME
from e2e_common.errors import UsageError, one_line

ENV_PREFIX = "E2E_"

SettingsT = TypeVar("SettingsT", bound="CommandSettings")
SectionT = TypeVar("SectionT", bound="Section")


# Titles of the groups of options in --help.
DATA_GROUP = "data"
MODEL_GROUP = "model"
GATES_GROUP = "gates"
RUNTIME_GROUP = "runtime"
HELP_GROUPS = (DATA_GROUP, MODEL_GROUP, GATES_GROUP, RUNTIME_GROUP)


def option(
    default: Any = PydanticUndefined,
    help: str = "",
    *,
    metavar: str | None = None,
    default_text: str | None = None,
    group: str | None = None,
    **constraints: Any,
) -> Any:
    """A setting: its default, one plain sentence of help, and how --help shows it.

    ``default_text`` says the default in words where the value alone would not (None, a file);
    ``group`` places it in a --help group other than its section's.
    """
    extra = {key: value for key, value in (("metavar", metavar), ("default_text", default_text), ("group", group)) if value}
    return Field(default, description=help, json_schema_extra=extra or None, **constraints)


class Section(BaseModel):
    """A group of settings that one part of a pipeline needs, declared once.

    A CLI's settings class inherits its sections, so each option is declared in one place (flag,
    ``E2E_`` variable, YAML key, default, help); the pipeline receives frozen section objects.
    """

    model_config = ConfigDict(frozen=True, validate_default=True)
    help_group: ClassVar[str] = RUNTIME_GROUP

    @classmethod
    def of(cls: type[SectionT], settings: BaseModel) -> SectionT:
        """This section's values taken from a CLI's parsed settings."""
        return cls.model_validate({name: getattr(settings, name) for name in cls.model_fields})


class UploadOptions(Section):
    """How a local input reaches steps that run on other machines (``e2e-train``, ``e2e-infer``)."""

    help_group = DATA_GROUP

    max_upload_bytes: int = option(
        1 << 30,
        "With an orchestrator that runs steps on other machines, a local --data file up to this many bytes is "
        "uploaded into the stack's artifact store for them; a larger one is refused (pass a URI instead).",
        default_text="1073741824 (1 GiB)",
        ge=0,
    )


class CommandSettings(BaseSettings):
    """Settings every command has: a config file, the model's name, --debug."""

    cli_examples: ClassVar[str] = ""
    cli_version: ClassVar[str] = ""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_prefix_target="all",  # a renamed setting's old name (a validation alias) is read as E2E_<OLD_NAME> too
        extra="forbid",
        cli_implicit_flags="toggle",
        cli_kebab_case=True,
        cli_exit_on_error=False,
        cli_use_class_docs_for_groups=False,
        validate_default=True,
    )

    config: Path | None = option(
        None, "YAML file of settings; flags and E2E_ variables win over it.", metavar="FILE", default_text="none"
    )
    model_name: str = option(
        DEFAULT_MODEL_NAME, "Name of the model in ZenML's Model Control Plane.", metavar="NAME", group=MODEL_GROUP,
        min_length=1,
    )
    debug: bool = option(False, "Show tracebacks and library logs.")

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
        check_config_file(config_path)
        with_file = type(cls.__name__, (cls,), {"model_config": {**cls.model_config, "yaml_file": config_path}})
        return _parse(with_file, args, prog, config_path)


YAML_KINDS = {list: "a list", str: "a text", int: "a number", float: "a number", bool: "a boolean"}


def check_config_file(path: Path) -> None:
    """UsageError unless ``path`` is a readable YAML file whose top level is a mapping of settings
    (or empty): the config file's shape, checked before any setting is read from it."""
    import yaml

    if path.is_dir():
        raise UsageError(f"config file {path} is a folder (setting 'config'); pass a YAML file")
    if not path.is_file():
        raise UsageError(f"config file {path} not found (setting 'config'); pass an existing YAML file")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"config file {path} is not UTF-8 text (setting 'config'); save it as UTF-8") from exc
    except OSError as exc:
        raise UsageError(f"config file {path} cannot be read ({exc.strerror or exc}) (setting 'config')") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {path} is not valid YAML: {one_line(exc)}") from exc
    if content is not None and not isinstance(content, dict):
        kind = YAML_KINDS.get(type(content), f"a {type(content).__name__}")
        raise UsageError(f"config file {path} must hold a mapping of settings (key: value), not {kind}")
    bad_keys = [key for key in (content or {}) if not isinstance(key, str)]
    if bad_keys:
        raise UsageError(f"config file {path}: setting names must be text, not {bad_keys[0]!r}")


class E2ESettings(CommandSettings):
    """Settings every command that runs a pipeline has."""

    no_cache: bool = option(False, "Run every step again instead of reusing results of earlier runs.")
    notify_on_failure: bool = option(True, "Do not send a message through the stack's alerter when the run fails.")
    notify_on_success: bool = option(False, "Send a message through the stack's alerter when the run succeeds.")


def _parse(
    settings_cls: type[SettingsT], args: list[str], prog: str | None, config_path: Path | None = None
) -> SettingsT:
    try:
        source = CliSettingsSource(
            settings_cls,
            root_parser=_root_parser(settings_cls, prog or Path(sys.argv[0]).name),
            add_argument_method=_add_argument_in_groups(settings_cls),
        )
        return settings_cls(_cli_settings_source=source(args=args))
    except SettingsError as exc:
        raise UsageError(f"{one_line(exc).removeprefix('error parsing CLI: ')}; see --help") from exc
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, config_path)) from exc
    except Exception as exc:  # a YAML file that does not parse
        if config_path is not None and type(exc).__module__.startswith("yaml"):
            raise UsageError(f"config file {config_path} is not valid YAML: {one_line(exc)}") from exc
        raise


def _root_parser(settings_cls: type[CommandSettings], prog: str) -> argparse.ArgumentParser:
    """The command line's parser: the class docstring on top, option groups, examples at the end."""
    from pydantic_settings.sources.providers.cli import _CliInternalArgParser

    description = inspect.cleandoc(settings_cls.__doc__ or "").split("\n\n")[0]
    parser = _CliInternalArgParser(
        cli_exit_on_error=False,
        prog=prog,
        description=description,
        epilog=f"examples:\n{settings_cls.cli_examples}" if settings_cls.cli_examples else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    if settings_cls.cli_version:
        parser.add_argument(
            "--version", action="version", version=f"{prog} {settings_cls.cli_version}", help="Show the version and exit."
        )
    parser._e2e_groups = {title: parser.add_argument_group(f"{title} options") for title in HELP_GROUPS}
    return parser


def _add_argument_in_groups(settings_cls: type[CommandSettings]) -> Callable[..., Any]:
    """``add_argument`` that puts each option in its group with help and metavar for people."""
    fields = settings_cls.model_fields
    by_alias = {alias: name for name, field in fields.items() for alias in _aliases(field)}

    def add_argument(parser: argparse.ArgumentParser, *names: str, **kwargs: Any) -> Any:
        name = kwargs.get("dest")
        name = by_alias.get(name, name) if isinstance(name, str) else name
        field = fields.get(name) if isinstance(name, str) else None
        groups = getattr(parser, "_e2e_groups", None)
        if field is None or groups is None or kwargs.get("help") == argparse.SUPPRESS:
            return parser.add_argument(*names, **kwargs)
        kwargs["help"] = help_text(field)
        if kwargs.get("metavar"):
            kwargs["metavar"] = metavar_of(field)
        return groups[help_group(settings_cls, name)].add_argument(*names, **kwargs)

    return add_argument


def _aliases(field: FieldInfo) -> list[str]:
    """The names a field is also read under (its validation aliases)."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return [alias]
    return [choice for choice in getattr(alias, "choices", []) if isinstance(choice, str)]


def _extra(field: FieldInfo) -> dict[str, Any]:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def help_group(settings_cls: type[BaseModel], name: str) -> str:
    """The --help group of a setting: its own, else that of the section that declares it."""
    group = _extra(settings_cls.model_fields[name]).get("group")
    if group:
        return str(group)
    for klass in settings_cls.__mro__:
        if name in getattr(klass, "__annotations__", {}) and issubclass(klass, Section):
            return klass.help_group
    return RUNTIME_GROUP


def help_text(field: FieldInfo) -> str:
    """The field's sentence, then its default in words (a flag's default is not to be given)."""
    text = (field.description or "").strip()
    if field.annotation is bool:
        return text
    return f"{text} Default: {default_in_words(field)}."


def default_in_words(field: FieldInfo) -> str:
    written = _extra(field).get("default_text")
    if written:
        return str(written)
    default = field.get_default(call_default_factory=True)
    if default is None or default == []:
        return "none"
    return str(default)


METAVARS = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


def metavar_of(field: FieldInfo) -> str:
    """What --help shows for an option's value: the field's own word, or one from its type."""
    written = _extra(field).get("metavar")
    if written:
        return str(written)
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Literal:
        return "{" + ",".join(map(str, get_args(annotation))) + "}"
    if get_origin(annotation) is list:
        return "A,B"
    return METAVARS.get(annotation, "VALUE")


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
