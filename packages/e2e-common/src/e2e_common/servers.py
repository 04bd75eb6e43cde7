"""The servers a team-mode run needs (a ZenML server, an MLflow tracking server): reachable, and what
to fix when they are not, before any pipeline starts.

MLflow's client retries an unreachable tracking server for minutes, and only once a step logs to
it; a ZenML client whose API key is refused fails with an authentication error that names no
setting. These turn both into one line and an exit code.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from typing import Any

from e2e_common.errors import E2EError, UnavailableError, UsageError, exception_chain, one_line

REACH_TIMEOUT_SECONDS = 5.0
CREDENTIAL_ERRORS = ("CredentialsNotValid", "AuthorizationException", "AuthenticationError")


def http_tracking_uri(stack: Any) -> tuple[str, str] | None:
    """``(tracker name, tracking URI)`` of the stack's MLflow experiment tracker when it is a server."""
    tracker = getattr(stack, "experiment_tracker", None)
    if tracker is None or getattr(tracker, "flavor", None) != "mlflow":
        return None
    uri = str(tracker.get_tracking_uri())
    if not uri.startswith(("http://", "https://")):
        return None
    return tracker.name, uri.rstrip("/")


def check_tracking_server(stack: Any | None = None, timeout: float = REACH_TIMEOUT_SECONDS) -> None:
    """UnavailableError (exit 5) naming the tracker and its URI when the stack's MLflow tracking
    server does not answer ``/health`` within ``timeout`` seconds."""
    if stack is None:
        from zenml.client import Client

        stack = Client().active_stack
    found = http_tracking_uri(stack)
    if found is None:
        return
    name, uri = found
    problem = health_problem(uri, timeout)
    if problem is None:
        return
    raise UnavailableError(
        f"the MLflow tracking server at {uri} (experiment tracker '{name}' of stack '{stack.name}') does not "
        f"answer: {problem}; start it, or point the tracker at a running one: "
        f"zenml experiment-tracker update {name} --tracking_uri=URL"
    )


def health_problem(url: str, timeout: float = REACH_TIMEOUT_SECONDS) -> str | None:
    """Why ``url``'s ``/health`` does not answer within ``timeout`` seconds, or None when it does.

    Any HTTP answer below 500 counts as an answer: a proxy or an authentication in front of the
    server is its client's to handle.
    """
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as answer:
            return None if answer.status < 500 else f"it answers HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return None if exc.code < 500 else f"it answers HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return one_line(getattr(exc, "reason", exc))


def credentials_error(exc: BaseException) -> E2EError | None:
    """The one-line error for a ZenML server that refused this client's credentials, naming the
    setting to fix; None for any other exception."""
    names = {type(error).__name__ for error in exception_chain(exc)}
    if not names & set(CREDENTIAL_ERRORS):
        return None
    url = os.environ.get("ZENML_STORE_URL", "the ZenML server")
    detail = one_line(next(error for error in exception_chain(exc) if type(error).__name__ in CREDENTIAL_ERRORS))
    if os.environ.get("ZENML_STORE_API_KEY"):
        fix = (
            "ZENML_STORE_API_KEY is not a valid key of a service account there; create one with "
            "zenml service-account create NAME --output-file KEY (as an admin) and set ZENML_STORE_API_KEY to its content"
        )
    elif os.environ.get("ZENML_STORE_USERNAME"):
        fix = "ZENML_STORE_USERNAME / ZENML_STORE_PASSWORD are not accepted there"
    else:
        fix = "log in again (zenml login URL --api-key), or set ZENML_STORE_URL and ZENML_STORE_API_KEY"
    return UsageError(f"{url} refused this client's credentials ({detail}): {fix}")
