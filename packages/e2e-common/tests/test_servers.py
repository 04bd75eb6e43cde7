"""Reachability of an MLflow tracking server and the message for refused ZenML credentials."""

from __future__ import annotations

import http.server
import socket
import threading
from dataclasses import dataclass

import pytest

from e2e_common.errors import UnavailableError, UsageError
from e2e_common.servers import check_tracking_server, credentials_error


@dataclass
class Tracker:
    uri: str
    name: str = "team_mlflow"
    flavor: str = "mlflow"

    def get_tracking_uri(self) -> str:
        return self.uri


@dataclass
class Stack:
    experiment_tracker: Tracker | None
    name: str = "team_stack"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def health_server():
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_tracking_server_that_answers_passes(health_server):
    check_tracking_server(Stack(Tracker(health_server)))


def test_a_local_tracking_store_is_not_checked():
    check_tracking_server(Stack(Tracker("sqlite:////nowhere/mlflow.db")))
    check_tracking_server(Stack(None))


def test_a_tracking_server_that_is_down_is_exit_5_naming_tracker_and_fix():
    uri = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(UnavailableError) as raised:
        check_tracking_server(Stack(Tracker(uri)), timeout=2)
    message = str(raised.value)
    assert raised.value.exit_code == 5
    assert f"the MLflow tracking server at {uri} (experiment tracker 'team_mlflow' of stack 'team_stack')" in message
    assert "zenml experiment-tracker update team_mlflow --tracking_uri=URL" in message


class CredentialsNotValid(Exception):
    """Named as ZenML's exception: the check goes by the name, so it needs no ZenML import."""


def test_refused_credentials_name_the_setting(monkeypatch):
    monkeypatch.setenv("ZENML_STORE_URL", "http://127.0.0.1:8237")
    monkeypatch.setenv("ZENML_STORE_API_KEY", "bogus")
    try:
        try:
            raise CredentialsNotValid("Authentication error: error decoding API key")
        except CredentialsNotValid as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        error = credentials_error(outer)
    assert isinstance(error, UsageError) and error.exit_code == 2
    assert str(error).startswith("http://127.0.0.1:8237 refused this client's credentials (")
    assert "ZENML_STORE_API_KEY is not a valid key" in str(error)
    assert credentials_error(ValueError("other")) is None
