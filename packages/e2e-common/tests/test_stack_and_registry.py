"""The embedded default stack and stage lookups, on a real local ZenML store."""

import pytest

from e2e_common.errors import NoModelAtStageError
from e2e_common.registry import version_at_stage, version_at_stage_or_none
from e2e_common.stack import EMBEDDED_STACK_NAME, ensure_embedded_stack


def test_embedded_stack_is_registered_once_and_announced():
    said = []
    first = ensure_embedded_stack(said.append)
    assert first.name == EMBEDDED_STACK_NAME
    assert first.experiment_tracker and first.model_registry
    assert first.mlflow_tracking_uri.startswith("sqlite:")
    assert first.mlflow_ui_hint.startswith("mlflow ui --backend-store-uri sqlite:")
    assert len(said) == 1 and EMBEDDED_STACK_NAME in said[0]
    again = ensure_embedded_stack(said.append)
    assert again == first and len(said) == 1


def test_no_version_at_stage_is_exit_4_and_creates_no_model():
    from zenml.client import Client

    with pytest.raises(NoModelAtStageError, match="no version of model 'absent' at stage 'staging'") as caught:
        version_at_stage("absent", "staging")
    assert caught.value.exit_code == 4
    assert version_at_stage_or_none("absent", "production") is None
    assert [m.name for m in Client().list_models().items] == []
