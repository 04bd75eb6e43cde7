"""Messages on success and failure: through the stack's alerter when it has one, else a log line."""

from __future__ import annotations

NOTIFY_ON_FAILURE_PARAMETER = "notify_on_failure"


def notify(message: str) -> bool:
    """Post ``message`` through the active stack's alerter; log it when there is none.

    Returns True when an alerter took the message.
    """
    from zenml.client import Client

    alerter = Client().active_stack.alerter
    if alerter is None:
        print(f"notification: {message}")
        return False
    return bool(alerter.post(message))


def notify_failure_hook(exception: BaseException) -> None:
    """ZenML ``on_failure`` hook: notify unless the pipeline ran with ``notify_on_failure=False``.

    Static pipelines call it inside the failed step; dynamic pipelines once for the run.
    """
    pipeline_name, run_name, step_name, parameters = _failure_context()
    if not parameters.get(NOTIFY_ON_FAILURE_PARAMETER, True):
        return
    where = f" in step '{step_name}'" if step_name else ""
    notify(
        f"pipeline '{pipeline_name}' run '{run_name}' failed{where}: {type(exception).__name__}: {exception}"
    )


def _failure_context() -> tuple[str, str, str | None, dict]:
    """Pipeline name, run name, step name (if any) and run parameters of the failing run."""
    from zenml import get_step_context

    try:
        context = get_step_context()
    except RuntimeError:
        from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

        run_context = DynamicPipelineRunContext.get()
        if run_context is None:
            return "unknown", "unknown", None, {}
        run = run_context.run
        return run_context.pipeline.name, run.name, None, dict(run.config.parameters or {})
    parameters = dict(context.pipeline_run.config.parameters or {})
    return context.pipeline.name, context.pipeline_run.name, context.step_run.name, parameters
