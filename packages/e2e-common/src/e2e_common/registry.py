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
        raise NoModelAtStageError(model_name, stage.value) from exc


def version_at_stage_or_none(model_name: str, stage: Stage | str) -> ModelVersionResponse | None:
    """The model version at ``stage``, or None."""
    try:
        return version_at_stage(model_name, stage)
    except NoModelAtStageError:
        return None
