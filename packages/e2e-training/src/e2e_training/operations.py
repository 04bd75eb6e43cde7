"""Model operations behind ``e2e-models``: see the models and their stages, move a stage, roll it back.

Every operation first repairs the stages it reads (``stages.repair``): afterwards the Model Control
Plane stage and the MLflow alias agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from e2e_common.contract import DATA_CONTRACT, METADATA_CONTRACT_VERSION, MODEL, PREPROCESS_PIPELINE, Stage
from e2e_common.errors import DataError, NoModelAtStageError
from e2e_common.registry import version_at_stage, version_at_stage_or_none, why_no_version
from e2e_training import promote, registry, stages
from e2e_training.names import METADATA_METRICS, METRICS_METRIC, METRICS_QUALITY_GATES

STAGES = tuple(stage.value for stage in Stage)


@dataclass(frozen=True)
class ModelSummary:
    """A model of the Model Control Plane: how many versions, and which one holds each stage."""

    name: str
    versions: int
    stages: dict[str, int | None]


@dataclass(frozen=True)
class StageStatus:
    """What holds a stage: the version, its scores, when it was trained, and its MLflow alias."""

    stage: str
    version: int | None
    trained_at: str | None = None
    metric: str | None = None
    holdout: dict[str, float] = field(default_factory=dict)
    contract_version: int | None = None
    registry_version: str | None = None
    alias: str | None = None
    alias_version: str | None = None
    alias_agrees: bool | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a command did: its result and the repairs made before it."""

    result: Any
    repairs: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        result = self.result
        if isinstance(result, list):
            result = [asdict(item) for item in result]
        elif result is not None:
            result = asdict(result)
        return {"result": result, "repairs": self.repairs}


def check_model(model_name: str) -> Any:
    """The model; NoModelAtStageError (exit 4) with the models there are when it does not exist."""
    from zenml.client import Client

    try:
        return Client().get_model(model_name)
    except KeyError as exc:
        raise NoModelAtStageError(model_name, "", why_no_version(model_name, Stage.STAGING)) from exc


def repair_all(model_name: str) -> list[str]:
    repairs: list[str] = []
    for stage in STAGES:
        with stages.stage_lock(model_name, stage):
            repairs.extend(stages.repair(model_name, stage))
    return repairs


def list_models() -> Outcome:
    from zenml.client import Client

    client = Client()
    summaries, repairs, page = [], [], 1
    while True:
        listed = client.list_models(page=page, size=100, sort_by="asc:name")
        for model in listed.items:
            repairs.extend(repair_all(model.name))
            count = client.list_model_versions(model.name, size=1).total
            holders = {stage: version_at_stage_or_none(model.name, stage) for stage in STAGES}
            summaries.append(
                ModelSummary(model.name, count, {s: v.number if v is not None else None for s, v in holders.items()})
            )
        if page >= listed.total_pages:
            return Outcome(summaries, repairs)
        page += 1


def stage_status(model_name: str, stage: str) -> StageStatus:
    version = version_at_stage_or_none(model_name, stage)
    if version is None:
        return StageStatus(stage, None)
    metadata = version.run_metadata
    metrics = metadata.get(METADATA_METRICS) or {}
    expected = stages.registry_version_of(version)
    state = registry.alias_state(model_name, stage, expected, version.number)
    hint = None
    if state is None:
        hint = "the active stack has no MLflow model registry; only the Model Control Plane stage is kept"
    elif expected is None:
        hint = f"version {version.number} was trained without a model registry in the stack, so it has no registry version"
    elif not state.agrees:
        hint = "run any e2e-models command to repair it"
    return StageStatus(
        stage=stage,
        version=version.number,
        trained_at=f"{version.created:%Y-%m-%dT%H:%M:%S}Z",
        metric=metrics.get(METRICS_METRIC),
        holdout={
            name: value
            for name, value in (metrics.get("holdout") or {}).items()
            if isinstance(value, float | int) and name != "rows"
        },
        contract_version=metadata.get(METADATA_CONTRACT_VERSION),
        registry_version=expected,
        alias=state.alias if state is not None else None,
        alias_version=state.aliased_version if state is not None else None,
        alias_agrees=state.agrees if state is not None else None,
        hint=hint,
    )


def status(model_name: str) -> Outcome:
    check_model(model_name)
    repairs = repair_all(model_name)
    return Outcome([stage_status(model_name, stage) for stage in STAGES], repairs)


def history(model_name: str) -> Outcome:
    check_model(model_name)
    repairs = repair_all(model_name)
    return Outcome(stages.history(model_name), repairs)


def _version(model_name: str, version: str) -> Any:
    from zenml.client import Client

    check_model(model_name)
    try:
        return Client().get_model_version(model_name, int(version) if version.isdigit() else version)
    except KeyError as exc:
        latest = Client().list_model_versions(model_name, size=1, sort_by="desc:number").items
        known = f"the latest is {latest[0].number}" if latest else "it has none"
        raise DataError(f"model '{model_name}' has no version '{version}' ({known}); see e2e-models status") from exc


def check_movable(model_name: str, version: Any, stage: str, current: Any | None, force: bool) -> None:
    """DataError (exit 2) when ``version`` cannot replace ``current`` at ``stage`` for its consumers:
    artifacts inference needs are missing, or it predicts for another task (a regressor never replaces
    a classifier, nor the reverse, even with ``force``), or (unless ``force``) its data contract is not
    compatible, or its quality gates refused it."""
    where = f"version {version.number} of model '{model_name}'"
    lacking = [name for name in (DATA_CONTRACT, PREPROCESS_PIPELINE, MODEL) if version.get_artifact(name) is None]
    if lacking:
        raise DataError(f"{where} has no {', '.join(lacking)} artifact, so inference could not use it at stage '{stage}'")
    new = promote.contract_of(version)
    existing = None if current is None else promote.contract_of(current)
    changed = None if new is None or existing is None else promote.task_change(new, existing)
    if changed is not None:
        raise DataError(
            f"{where} is {promote.describe_task(new)}; version {current.number} at stage '{stage}' is "
            f"{promote.describe_task(existing)}: {changed}, not even with --force; "
            "train a model of its own with e2e-train --model-name"
        )
    if force:
        return
    gates = (version.run_metadata.get(METADATA_METRICS) or {}).get(METRICS_QUALITY_GATES) or {}
    if gates.get("passed") is False:
        raise DataError(f"{where} was refused by its quality gates; pass --force to move it to stage '{stage}' anyway")
    if current is None:
        return
    problem = None if new is None or existing is None else promote.incompatibility(new, existing)
    if problem is not None:
        raise DataError(
            f"{where} was trained on other data than version {current.number} at stage '{stage}' ({problem}): "
            f"it has {promote.describe_contract(new)}; the stage's consumers send {promote.describe_contract(existing)}. "
            "Pass --force to move it anyway"
        )


def promote_version(model_name: str, version_name: str, stage: str, force: bool = False) -> Outcome:
    """Move ``stage`` to the version (a manual promotion)."""
    version = _version(model_name, version_name)
    with stages.stage_lock(model_name, stage):
        repairs = stages.repair(model_name, stage, strict=False)
        current = version_at_stage_or_none(model_name, stage)
        if current is not None and current.id == version.id:
            return Outcome(None, repairs)
        check_movable(model_name, version, stage, current, force)
        came_from = f"from stage '{version.stage}'" if version.stage else "from no stage"
        why = f"manual promotion with e2e-models ({came_from})" + (" with --force" if force else "")
        return Outcome(stages.move(model_name, version, stage, stages.PROMOTE, why), repairs)


def rollback(model_name: str, stage: str, force: bool = False) -> Outcome:
    """Move ``stage`` back to the version that held it before the version there now."""
    from zenml.client import Client

    check_model(model_name)
    with stages.stage_lock(model_name, stage):
        repairs = stages.repair(model_name, stage)
        current = version_at_stage(model_name, stage)
        last = stages.last_move_into(stages.history(model_name), stage)
        if last is None or last.left is None:
            raise DataError(
                f"version {current.number} is the first version of model '{model_name}' recorded at stage '{stage}'; "
                "there is no earlier version to roll back to (see e2e-models history)"
            )
        try:
            previous = Client().get_model_version(model_name, last.left)
        except KeyError as exc:
            raise DataError(
                f"version {last.left}, which held stage '{stage}' before version {current.number}, no longer exists; "
                "promote another version with e2e-models promote"
            ) from exc
        check_movable(model_name, previous, stage, current, force)
        why = f"rollback with e2e-models: version {previous.number} held stage '{stage}' before version {current.number}"
        return Outcome(stages.move(model_name, previous, stage, stages.ROLLBACK, why), repairs)
