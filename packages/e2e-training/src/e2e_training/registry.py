"""The MLflow model registry of the active stack: register a trained model, move a stage's alias.

ZenML's MLflow model registry maps stage ``staging`` to the alias ``staging`` and ``production``
to ``champion`` (MLflow 3 has aliases instead of stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunOrigin:
    """Where a registered model came from, recorded with the registry version."""

    pipeline_name: str
    run_name: str
    run_id: str
    step_name: str
    mlflow_run_id: str


def register_model(model_name: str, model_uri: str, version_number: int, origin: RunOrigin) -> str | None:
    """Register the logged model as a new version of ``model_name``; the registry version, if any."""
    from zenml.client import Client
    from zenml.model_registries.base_model_registry import ModelRegistryModelMetadata

    registry = Client().active_stack.model_registry
    if registry is None:
        return None
    registered = registry.register_model_version(
        name=model_name,
        model_source_uri=model_uri,
        description=f"ZenML model '{model_name}' version {version_number}",
        metadata=ModelRegistryModelMetadata(
            zenml_pipeline_name=origin.pipeline_name,
            zenml_run_name=origin.run_name,
            zenml_pipeline_run_uuid=origin.run_id,
            zenml_step_name=origin.step_name,
            mlflow_run_id=origin.mlflow_run_id,
        ),
    )
    return str(registered.version)


def move_stage_alias(model_name: str, registry_version: Any, stage: str) -> bool:
    """Point the stage's alias at ``registry_version``; False when the stack has no registry."""
    from zenml.client import Client
    from zenml.model_registries.base_model_registry import ModelVersionStage

    registry = Client().active_stack.model_registry
    if registry is None or registry_version is None:
        return False
    registry.update_model_version(name=model_name, version=str(registry_version), stage=ModelVersionStage[stage.upper()])
    return True
