"""Reading the Model Control Plane: the model version at a stage, without side effects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from e2e_common.contract import Stage
from e2e_common.errors import NoModelAtStageError

if TYPE_CHECKING:
    from zenml.models import ModelVersionResponse


def version_at_stage(model_name: str, stage: Stage | str) -> ModelVersionResponse:
    """The model version at ``stage``; NoModelAtStageError when there is none.

    ZenML raises KeyError from some calls and RuntimeError from others for a missing model or
    stage; ``Model(name, version=stage)`` would also create an empty model, so it is not used.
    """
    from zenml.client import Client
    from zenml.enums import ModelStages

    stage = Stage(stage)
    try:
        return Client().get_model_version(model_name, ModelStages(stage.value))
    except (KeyError, RuntimeError) as exc:
        raise NoModelAtStageError(model_name, stage.value, why_no_version(model_name, stage)) from exc


SHOWN = 5


def why_no_version(model_name: str, stage: Stage) -> str:
    """Which case it is: no such model (and the models there are), or no version at the stage (and the
    versions there are, with the commands that promote one)."""
    from zenml.client import Client

    client = Client()
    try:
        client.get_model(model_name)
    except KeyError:
        known = [model.name for model in client.list_models(size=SHOWN + 1, sort_by="desc:updated").items]
        listed = ", ".join(known[:SHOWN]) + (", ..." if len(known) > SHOWN else "") if known else "none yet"
        return (
            f"no model named '{model_name}' in this ZenML store (models: {listed}); pass --model-name, "
            f"or train it first: e2e-train --model-name {model_name} --target-env {stage.value}"
        )
    versions = client.list_model_versions(model_name, size=SHOWN, sort_by="desc:number").items
    if not versions:
        return f"model '{model_name}' has no versions; train one: e2e-train --model-name {model_name}"
    described = ", ".join(f"{v.number} ({v.stage or 'no stage'})" for v in versions)
    latest = versions[0].number
    return (
        f"model '{model_name}' has no version at stage '{stage.value}' (latest versions: {described}); "
        f"promote one: zenml model version update {model_name} {latest} --stage {stage.value} "
        "(moves the ZenML stage, not the MLflow registry alias), "
        f"or train and promote: e2e-train --model-name {model_name} --target-env {stage.value}"
    )


def version_at_stage_or_none(model_name: str, stage: Stage | str) -> ModelVersionResponse | None:
    """The model version at ``stage``, or None."""
    try:
        return version_at_stage(model_name, stage)
    except NoModelAtStageError:
        return None
