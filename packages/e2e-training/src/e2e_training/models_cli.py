"""``e2e-models``: see the models and their stages, promote a version, roll a stage back.

``e2e-models COMMAND [options]``; each command has its own ``--help``. ZenML and MLflow are imported
only after the settings parsed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import AliasChoices
from pydantic_settings import CliPositionalArg

from e2e_common.contract import Stage, StageName
from e2e_common.errors import UsageError, run_cli
from e2e_common.settings import MODEL_GROUP, CommandSettings, option
from e2e_training.__about__ import __version__

PROGRAM = "e2e-models"


class ModelsSettings(CommandSettings):
    """Options every e2e-models command has."""

    cli_version = __version__

    as_json: bool = option(False, "Print JSON instead of text.", validation_alias=AliasChoices("json"))


class ListSettings(ModelsSettings):
    """List the models: how many versions each has and which version holds each stage."""

    cli_examples = "  e2e-models list\n  e2e-models list --json\n"


class StatusSettings(ModelsSettings):
    """For each stage of a model: its version, holdout metrics, when it was trained, its data contract
    version, and whether the MLflow alias points at the same version."""

    cli_examples = "  e2e-models status\n  e2e-models status --model-name churn --json\n"


class HistorySettings(ModelsSettings):
    """Every stage move of a model, oldest first: when, which version came and which left, and why."""

    cli_examples = "  e2e-models history --model-name churn\n"


class PromoteSettings(ModelsSettings):
    """Move a stage to a version (the MLflow alias with it): the usual staging-to-production step."""

    cli_examples = "  e2e-models promote 3 --to production\n  e2e-models promote 3 --to staging --model-name churn\n"

    version: CliPositionalArg[str] = option(..., "The model version to promote (its number or name).")
    to: StageName = option(Stage.PRODUCTION.value, "Stage to move to the version.", group=MODEL_GROUP)
    force: bool = option(
        False,
        "Move it even when its data contract differs from the stage's version or its quality gates refused it "
        "(never across tasks: a regressor never replaces a classifier, nor the reverse).",
    )


class RollbackSettings(ModelsSettings):
    """Move a stage back to the version that held it before the version there now."""

    cli_examples = "  e2e-models rollback --stage production\n"

    stage: StageName = option(Stage.PRODUCTION.value, "Stage to roll back.", group=MODEL_GROUP)
    force: bool = option(
        False,
        "Roll back even when the earlier version's data contract differs (never across tasks: a regressor never "
        "replaces a classifier, nor the reverse).",
    )


SUMMARIES = {
    "list": "the models, their versions count and the version at each stage",
    "status": "each stage of a model: version, metrics, trained when, data contract, MLflow alias",
    "history": "every stage move of a model, oldest first, and why",
    "promote": "move a stage to a version, e.g. e2e-models promote 3 --to production",
    "rollback": "move a stage back to the version that held it before",
}
COMMANDS: dict[str, type[ModelsSettings]] = {
    "list": ListSettings,
    "status": StatusSettings,
    "history": HistorySettings,
    "promote": PromoteSettings,
    "rollback": RollbackSettings,
}


def usage() -> str:
    lines = [f"usage: {PROGRAM} COMMAND [options]   ({PROGRAM} COMMAND --help for its options)", "", "commands:"]
    lines.extend(f"  {name:<10}{SUMMARIES[name]}" for name in COMMANDS)
    return "\n".join(lines)


def main() -> None:
    """Console script ``e2e-models``."""
    argv = sys.argv[1:]
    parsed: list[ModelsSettings] = []

    def debug() -> bool:
        return parsed[0].debug if parsed else "--debug" in argv

    run_cli(lambda: run(argv, parsed.append), debug)


def run(argv: Sequence[str], on_settings: Callable[[ModelsSettings], None] | None = None) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"{PROGRAM} {__version__}")
        return 0
    command, *rest = argv
    if command not in COMMANDS:
        raise UsageError(f"unknown command '{command}'; commands: {', '.join(COMMANDS)} (see {PROGRAM} --help)")
    settings = COMMANDS[command].from_cli(rest, prog=f"{PROGRAM} {command}")
    if on_settings is not None:
        on_settings(settings)
    from e2e_common.runtime import configure_runtime
    from e2e_common.stores import check_store_early

    check_store_early()
    configure_runtime(settings.debug)
    from e2e_common.servers import check_tracking_server
    from e2e_training import operations

    check_tracking_server()

    if isinstance(settings, PromoteSettings):
        outcome = operations.promote_version(settings.model_name, settings.version, settings.to, settings.force)
        text = describe_move(outcome.result, f"version {settings.version} already holds stage '{settings.to}'")
    elif isinstance(settings, RollbackSettings):
        outcome = operations.rollback(settings.model_name, settings.stage, settings.force)
        text = describe_move(outcome.result, "")
    elif isinstance(settings, StatusSettings):
        outcome = operations.status(settings.model_name)
        text = describe_status(settings.model_name, outcome.result)
    elif isinstance(settings, HistorySettings):
        outcome = operations.history(settings.model_name)
        text = describe_history(settings.model_name, outcome.result)
    else:
        outcome = operations.list_models()
        text = describe_models(outcome.result)
    if settings.as_json:
        print(json.dumps(outcome.as_json(), indent=2, default=str))
    else:
        for line in outcome.repairs:
            print(f"repaired: {line}")
        print(text)
    return 0


def describe_move(move: Any, unchanged: str) -> str:
    if move is None:
        return f"{unchanged}; nothing moved"
    left = f"version {move.left} left it" if move.left is not None else "no version held it before"
    return f"stage '{move.stage}' now holds version {move.came} ({left}): {move.why}"


def describe_models(models: list[Any]) -> str:
    if not models:
        return "no models in this ZenML store yet; train one: e2e-train"
    stage_names = [stage.value for stage in Stage]
    rows = [("MODEL", "VERSIONS", *(name.upper() for name in stage_names))]
    for model in models:
        holders = [str(model.stages.get(name)) if model.stages.get(name) is not None else "-" for name in stage_names]
        rows.append((model.name, str(model.versions), *holders))
    return table(rows)


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows)


def describe_status(model_name: str, statuses: list[Any]) -> str:
    lines = [f"model '{model_name}'"]
    width = max(len(status.stage) for status in statuses) + 2
    for status in statuses:
        label = f"{status.stage}:".ljust(width)
        if status.version is None:
            lines.append(f"{label}no version")
            continue
        lines.append(
            f"{label}version {status.version}, trained {status.trained_at}, data contract v{status.contract_version}"
        )
        pad = " " * width
        if status.holdout:
            scores = ", ".join(f"{name} {value:.4f}" for name, value in status.holdout.items())
            lines.append(f"{pad}holdout: {scores}" + (f" (metric: {status.metric})" if status.metric else ""))
        if status.alias is not None and status.registry_version is not None:
            verdict = "agrees" if status.alias_agrees else f"DISAGREES: it points at {status.alias_version or 'nothing'}"
            lines.append(f"{pad}MLflow alias '{status.alias}' of registry version {status.registry_version}: {verdict}")
        if status.hint:
            lines.append(f"{pad}note: {status.hint}")
    return "\n".join(lines)


def describe_history(model_name: str, moves: list[Any]) -> str:
    if not moves:
        return f"model '{model_name}' has never had a version at a stage"
    lines = []
    for move in moves:
        came = f"version {move.came} came" if move.came is not None else "left empty"
        left = f", version {move.left} left" if move.left is not None else ""
        lines.append(f"{move.at[:19]}Z  {move.stage:<10}  {came}{left} ({move.kind}): {move.why}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
