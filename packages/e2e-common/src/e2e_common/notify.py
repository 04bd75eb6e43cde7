"""Messages on success and failure: through the stack's alerter when it has one, else a log line."""

from __future__ import annotations

import logging

logger = logging.getLogger("e2e")

NOTIFY_ON_FAILURE_PARAMETER = "notify_on_failure"


def notify(message: str) -> bool:
    """Post ``message`` through the active stack's alerter; log it when there is none.

    Returns True when an alerter took the message.
    """
    from zenml.client import Client

    alerter = Client().active_stack.alerter
    if alerter is None:
        logger.warning("notification (no alerter in the stack): %s", message)
        print(f"notification: {message}")
        return False
    return bool(alerter.post(message))


def notify_failure_hook(exception: BaseException) -> None:
    """ZenML ``on_failure`` hook: notify unless the pipeline ran with ``notify_on_failure=False``."""
    from zenml import get_step_context

    context = get_step_context()
    parameters = context.pipeline_run.config.parameters or {}
    if not parameters.get(NOTIFY_ON_FAILURE_PARAMETER, True):
        return
    notify(
        f"pipeline '{context.pipeline.name}' run '{context.pipeline_run.name}' failed in step "
        f"'{context.step_run.name}': {type(exception).__name__}: {exception}"
    )
