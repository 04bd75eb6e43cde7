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

    with pytest.raises(NoModelAtStageError) as caught:
        version_at_stage("absent", "staging")
    assert caught.value.exit_code == 4
    assert str(caught.value).startswith("no model named 'absent' in this ZenML store (models: none yet)")
    assert "e2e-train --model-name absent --target-env staging" in str(caught.value)
    assert version_at_stage_or_none("absent", "production") is None
    assert [m.name for m in Client().list_models().items] == []


def test_a_model_without_a_version_at_the_stage_lists_its_versions_and_how_to_promote():
    from zenml.client import Client

    client = Client()
    client.create_model("unpromoted")
    for _ in range(2):
        client.create_model_version("unpromoted")
    client.get_model_version("unpromoted", 1).set_stage("staging", force=True)
    with pytest.raises(NoModelAtStageError) as caught:
        version_at_stage("unpromoted", "production")
    message = str(caught.value)
    assert message.startswith("model 'unpromoted' has no version at stage 'production'")
    assert "latest versions: 2 (no stage), 1 (staging)" in message
    assert "zenml model version update unpromoted 2 --stage production" in message
    other = pytest.raises(NoModelAtStageError, version_at_stage, "absent_too", "staging")
    assert "(models: unpromoted)" in str(other.value)
