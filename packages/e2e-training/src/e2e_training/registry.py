"""The MLflow model registry of the active stack: register a trained model, read and move a stage's alias.

A stage of the Model Control Plane is an alias in MLflow 3, named as ZenML's MLflow model registry
names them: ``staging`` for staging, ``champion`` for production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from e2e_common.contract import METADATA_CONTRACT_VERSION, Stage
from e2e_common.errors import UnavailableError, one_line
from e2e_common.schemas import DataContract

STAGE_ALIASES = {Stage.STAGING.value: "staging", Stage.PRODUCTION.value: "champion"}

# Metadata of the registered MLflow model: where it came from in the Model Control Plane.
ZENML_MODEL_KEY = "zenml_model_name"
ZENML_VERSION_KEY = "zenml_model_version"
MODEL_TASK_KEY = "task"


@dataclass(frozen=True)
class RunOrigin:
    """Where a registered model came from, recorded with the registry version."""

    pipeline_name: str
    run_name: str
    run_id: str
    step_name: str
    mlflow_run_id: str


def alias_of(stage: str) -> str:
    """The MLflow alias of a stage (``production`` -> ``champion``)."""
    return STAGE_ALIASES[Stage(stage).value]


def model_metadata(model_name: str, version_number: int, contract: DataContract) -> dict[str, Any]:
    """The MLflow model's metadata: its Model Control Plane version, data contract version and task
    (``classification`` or ``regression``: what its ``predict`` returns, classes or numbers)."""
    return {
        ZENML_MODEL_KEY: model_name,
        ZENML_VERSION_KEY: version_number,
        METADATA_CONTRACT_VERSION: contract.contract_version,
        MODEL_TASK_KEY: contract.task.value,
    }


def mlflow_registry() -> Any | None:
    """The active stack's MLflow model registry, or None when it has none (or another kind)."""
    from zenml.client import Client

    registry = Client().active_stack.model_registry
    if registry is None or registry.flavor != "mlflow":
        return None
    return registry


def register_model(model_name: str, model_uri: str, version_number: int, origin: RunOrigin) -> str | None:
    """Register the logged model as a new version of ``model_name``; the registry version, if any.

    MLflow's client is called directly with the logged model's id: an MLflow 3 tracking server
    refuses a ``models:/m-...`` source without it (ZenML's registry wrapper does not pass it).
    """
    from mlflow.exceptions import MlflowException

    registry = mlflow_registry()
    if registry is None:
        return None
    client = _client(registry)
    try:
        client.create_registered_model(model_name)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/m-") else None
    registered = client.create_model_version(
        name=model_name,
        source=model_uri,
        run_id=origin.mlflow_run_id,
        description=description_of(model_name, version_number),
        tags={
            "zenml_pipeline_name": origin.pipeline_name,
            "zenml_run_name": origin.run_name,
            "zenml_pipeline_run_uuid": origin.run_id,
            "zenml_step_name": origin.step_name,
            ZENML_VERSION_KEY: str(version_number),
        },
        model_id=model_id,
    )
    return str(registered.version)


@dataclass(frozen=True)
class AliasState:
    """Where a stage's alias points in the MLflow registry, and whether the expected version exists."""

    alias: str
    tracking_uri: str
    aliased_version: str | None
    expected_version: str | None
    expected_exists: bool

    @property
    def agrees(self) -> bool:
        return self.aliased_version == self.expected_version


def _client(registry: Any) -> Any:
    try:
        return registry.mlflow_client
    except Exception as exc:  # an unreachable tracking server surfaces here or on the first call
        raise UnavailableError(f"the MLflow model registry cannot be reached: {one_line(exc)}") from exc


def _is_missing(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE")


def alias_state(
    model_name: str, stage: str, expected_version: Any, zenml_version: int | None = None
) -> AliasState | None:
    """The stage's alias and the registry version it should point at (the one the stage's Model
    Control Plane version ``zenml_version`` recorded); None when the stack has no MLflow registry."""
    from mlflow.exceptions import MlflowException

    registry = mlflow_registry()
    if registry is None:
        return None
    client = _client(registry)
    alias = alias_of(stage)
    expected = None if expected_version is None else str(expected_version)
    try:
        aliased: str | None = str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as exc:
        if not _is_missing(exc):
            raise UnavailableError(f"the MLflow model registry cannot be read: {one_line(exc)}") from exc
        aliased = None
    exists = expected is not None and _holds(client, model_name, expected, zenml_version)
    import mlflow

    return AliasState(alias, mlflow.get_tracking_uri(), aliased, expected, exists)


def holds(model_name: str, registry_version: str, zenml_version: int) -> bool:
    """Whether the stack's MLflow registry holds ``registry_version`` as registered for ``zenml_version``
    (True when the stack has no MLflow registry: there is nothing to disagree with)."""
    registry = mlflow_registry()
    return registry is None or _holds(_client(registry), model_name, str(registry_version), zenml_version)


def description_of(model_name: str, version_number: int) -> str:
    return f"ZenML model '{model_name}' version {version_number}"


def _holds(client: Any, model_name: str, version: str, zenml_version: int | None) -> bool:
    """Whether the registry has ``version`` of the model, registered for ``zenml_version`` (a registry
    that was reset numbers its versions from 1 again)."""
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_model_version(model_name, version)
    except MlflowException as exc:
        if _is_missing(exc):
            return False
        raise UnavailableError(f"the MLflow model registry cannot be read: {one_line(exc)}") from exc
    description = registered.description or ""
    if zenml_version is None or not description.startswith("ZenML model"):
        return True
    return description == description_of(model_name, zenml_version)


def point_alias(model_name: str, stage: str, registry_version: Any | None) -> bool:
    """Point the stage's alias at ``registry_version``, or remove it when None; False without a registry."""
    from mlflow.exceptions import MlflowException

    registry = mlflow_registry()
    if registry is None:
        return False
    client = _client(registry)
    alias = alias_of(stage)
    try:
        if registry_version is None:
            client.delete_registered_model_alias(model_name, alias)
        else:
            client.set_registered_model_alias(model_name, alias, str(registry_version))
    except MlflowException as exc:
        if registry_version is None and _is_missing(exc):
            return True
        raise UnavailableError(f"the MLflow alias '{alias}' of model '{model_name}' cannot be set: {one_line(exc)}") from exc
    return True
