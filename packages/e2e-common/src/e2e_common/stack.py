"""The embedded default: a local ZenML stack with MLflow tracking and registry when none is set up.

With no ZenML server configured the CLIs use ZenML's local store. When the active stack lacks an
MLflow experiment tracker and model registry and is the local default, a local stack with them
is registered and activated (once) and the CLIs say so. Any other stack is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EMBEDDED_STACK_NAME = "e2e_local_mlflow"
EMBEDDED_TRACKER_NAME = "e2e_mlflow_tracker"
EMBEDDED_REGISTRY_NAME = "e2e_mlflow_registry"
MLFLOW_FLAVOR = "mlflow"
LOCAL_FLAVOR = "local"


@dataclass(frozen=True)
class StackInfo:
    """What the CLIs tell users about the stack a run uses."""

    name: str
    experiment_tracker: str | None
    model_registry: str | None
    mlflow_tracking_uri: str | None
    dashboard_hint: str

    @property
    def mlflow_ui_hint(self) -> str | None:
        if self.mlflow_tracking_uri is None:
            return None
        if self.mlflow_tracking_uri.startswith(("http://", "https://")):
            return f"open {self.mlflow_tracking_uri}"
        return f"mlflow ui --backend-store-uri {self.mlflow_tracking_uri}"


def _flavors(components: dict, component_type: object) -> list[str]:
    return [component.flavor_name for component in components.get(component_type, [])]


def ensure_embedded_stack(say: Callable[[str], None] = print) -> StackInfo:
    """Use the active stack, or register and activate the embedded one; describe the result.

    The store is opened first with bounded waits (``e2e_common.stores``): a locked local store or a
    server that does not answer is UnavailableError (exit 5) within seconds, not minutes of retries.
    """
    from e2e_common.stores import open_zen_store

    open_zen_store(say)
    from zenml.client import Client
    from zenml.enums import StackComponentType, StoreType

    client = Client()
    local_store = client.zen_store.type == StoreType.SQL
    components = client.active_stack_model.components
    has_mlflow = MLFLOW_FLAVOR in _flavors(components, StackComponentType.EXPERIMENT_TRACKER) and (
        MLFLOW_FLAVOR in _flavors(components, StackComponentType.MODEL_REGISTRY)
    )
    runs_locally = _flavors(components, StackComponentType.ORCHESTRATOR) == [LOCAL_FLAVOR] and _flavors(
        components, StackComponentType.ARTIFACT_STORE
    ) == [LOCAL_FLAVOR]
    if not has_mlflow and local_store and runs_locally:
        _register_embedded_stack(client, StackComponentType)
        client.activate_stack(EMBEDDED_STACK_NAME)
        say(
            f"Activated the local ZenML stack '{EMBEDDED_STACK_NAME}' (local orchestrator and artifact "
            "store, MLflow experiment tracker and model registry); the previous stack lacked MLflow."
        )
    elif not has_mlflow:
        say(
            f"The active stack '{client.active_stack_model.name}' has no MLflow experiment tracker and "
            "model registry: running without MLflow tracking and registry."
        )
    return describe_active_stack()


def _register_embedded_stack(client: object, component_type: type) -> None:
    def ensure_component(name: str, kind: object) -> None:
        try:
            client.get_stack_component(kind, name, allow_name_prefix_match=False)
        except KeyError:
            client.create_stack_component(name=name, flavor=MLFLOW_FLAVOR, component_type=kind, configuration={})

    ensure_component(EMBEDDED_TRACKER_NAME, component_type.EXPERIMENT_TRACKER)
    ensure_component(EMBEDDED_REGISTRY_NAME, component_type.MODEL_REGISTRY)
    try:
        client.get_stack(EMBEDDED_STACK_NAME, allow_name_prefix_match=False)
    except KeyError:
        active = client.active_stack_model.components
        client.create_stack(
            name=EMBEDDED_STACK_NAME,
            components={
                component_type.ORCHESTRATOR: active[component_type.ORCHESTRATOR][0].name,
                component_type.ARTIFACT_STORE: active[component_type.ARTIFACT_STORE][0].name,
                component_type.EXPERIMENT_TRACKER: EMBEDDED_TRACKER_NAME,
                component_type.MODEL_REGISTRY: EMBEDDED_REGISTRY_NAME,
            },
        )


def describe_active_stack() -> StackInfo:
    from zenml.client import Client
    from zenml.enums import StoreType

    client = Client()
    stack = client.active_stack
    tracker = stack.experiment_tracker
    registry = stack.model_registry
    tracking_uri = None
    if tracker is not None and tracker.flavor == MLFLOW_FLAVOR:
        tracking_uri = tracker.get_tracking_uri()
    local_store = client.zen_store.type == StoreType.SQL
    dashboard = "zenml login --local" if local_store else f"open {client.zen_store.url}"
    return StackInfo(
        name=stack.name,
        experiment_tracker=tracker.name if tracker is not None else None,
        model_registry=registry.name if registry is not None and registry.flavor == MLFLOW_FLAVOR else None,
        mlflow_tracking_uri=tracking_uri,
        dashboard_hint=dashboard,
    )


def run_dashboard_url(run_name: str) -> str | None:
    """The dashboard page of a pipeline run when a ZenML server is connected; None on the local store."""
    from zenml.client import Client
    from zenml.utils.dashboard_utils import get_run_url

    try:
        return get_run_url(Client().get_pipeline_run(run_name))
    except Exception:  # noqa: BLE001 - a link is a courtesy; the run's outcome is what matters
        return None
