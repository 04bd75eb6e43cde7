"""Process setup both CLIs do before ZenML is imported."""

from __future__ import annotations

import logging
import os
import sys
import warnings


def colors_wanted() -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def configure_runtime(debug: bool) -> None:
    """Quiet library logs unless ``debug``; never open browsers; plain tracebacks; colour only on a terminal."""
    if not colors_wanted():
        os.environ["ZENML_LOGGING_COLORS_DISABLED"] = "true"
    level = "DEBUG" if debug else "WARN"
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", level)
    os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
    os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        for noisy in ("mlflow", "alembic", "urllib3", "git", "evidently"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")


def release_zenml_log_store() -> None:
    """Shut down the active stack's log store if ZenML is loaded; call before the process exits.

    ZenML 0.98 leaves its OpenTelemetry log handler alive; on Python 3.12+ its flush at
    interpreter shutdown starts a thread, which fails and prints a traceback on stderr.
    """
    import sys

    if "zenml.client" not in sys.modules:
        return
    try:
        from zenml.client import Client

        log_store = Client().active_stack.log_store
    except Exception:  # noqa: BLE001 - nothing to release when the stack cannot be read
        return
    deactivate = getattr(log_store, "deactivate", None)
    if callable(deactivate):
        deactivate()
