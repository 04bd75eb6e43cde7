"""No traceback on stderr without --debug, and stores that are busy, read-only or down as exit 5,
without ZenML: the traceback filter, the classification of library errors, the wait on a locked
SQLite database, the check of a ZenML server URL, the store URL read as ZenML reads it."""

from __future__ import annotations

import io
import logging
import socket
import sqlite3
import subprocess
import sys
import time
import traceback

import pytest

from e2e_common.errors import UnavailableError, UsageError
from e2e_common.runtime import TracebackFreeStream
from e2e_common.stores import (
    check_zen_server,
    configured_store_url,
    sqlite_path,
    store_wait_seconds,
    unavailable_error,
    wait_for_sqlite,
    without_credentials,
)


def chained() -> BaseException:
    try:
        try:
            raise ZeroDivisionError("inner")
        except ZeroDivisionError as inner:
            raise ValueError("outer\nsecond line of the message") from inner
    except ValueError as outer:
        return outer


def test_the_filter_drops_tracebacks_written_whole_or_in_pieces_and_keeps_the_rest():
    sink = io.StringIO()
    stream = TracebackFreeStream(sink)
    stream.write("warning: before\n")
    traceback.print_exception(chained(), file=stream)  # piece by piece, with a chained exception
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test_filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise KeyError("logged")
    except KeyError:
        logger.exception("a library logged its failure")  # message and traceback in one write
    for piece in ["Exception ignored in: <object>\n", "Traceback (most recent call last):\n", '  File "', "/x.py",
                  '", line 3, in f\n', "    ", "raise\n", "    ", "^^^^^\n", "KeyboardInterrupt", "\n"]:
        stream.write(piece)  # how the interpreter itself prints an unraisable exception
    stream.write("error: the one line\n")
    stream.write("no newline yet")
    stream.flush()
    assert sink.getvalue() == "warning: before\na library logged its failure\nerror: the one line\nno newline yet"


PROGRAM = """
import logging, sys, threading
from e2e_common.errors import run_cli
from e2e_common.runtime import configure_runtime

class Finalized:
    def __del__(self):
        raise RuntimeError("in a finalizer")

def main():
    configure_runtime(debug="--debug" in sys.argv)
    logging.getLogger("some.library").error("failed", exc_info=ValueError("logged"))
    thread = threading.Thread(target=lambda: 1 / 0)
    thread.start()
    thread.join()
    Finalized()
    raise OSError("the real failure")

run_cli(main, debug=lambda: "--debug" in sys.argv)
"""


def test_a_cli_prints_one_line_whatever_else_fails_and_the_traceback_with_debug():
    quiet = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True)
    assert quiet.returncode == 1
    assert quiet.stderr.strip().splitlines() == [
        "error: unexpected failure: OSError: the real failure (run again with --debug for the traceback)"
    ]
    loud = subprocess.run([sys.executable, "-c", PROGRAM, "--debug"], capture_output=True, text=True)
    assert loud.returncode == 1 and "Traceback (most recent call last)" in loud.stderr


class OperationalError(Exception):
    """Named as SQLAlchemy's: the classification goes by names and messages, with no import."""

    def __init__(self, message: str, orig: BaseException) -> None:
        super().__init__(message)
        self.orig = orig


def wrapped(database_message: str) -> BaseException:
    try:
        try:
            raise sqlite3.OperationalError(database_message)
        except sqlite3.OperationalError as orig:
            raise OperationalError(f"(raised as a result of autoflush) ({database_message})\n[SQL: x]", orig) from orig
    except OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("database is locked", "is locked by another process (database is locked); wait for it to finish"),
        ("attempt to write a readonly database", "is read-only (attempt to write a readonly database)"),
        ("unable to open database file", "cannot be opened (unable to open database file)"),
    ],
)
def test_sqlite_stores_that_are_locked_read_only_or_missing_are_exit_5(message, fragment):
    error = unavailable_error(wrapped(message))
    assert isinstance(error, UnavailableError) and error.exit_code == 5
    assert fragment in str(error) and "\n" not in str(error) and "autoflush" not in str(error)


def test_a_server_that_refuses_connections_is_exit_5_naming_it():
    error = unavailable_error(
        RuntimeError("HTTPConnectionPool(host='127.0.0.1', port=8237): Max retries exceeded with url: /api/v1/info")
    )
    assert isinstance(error, UnavailableError)
    assert "a server the run needs at 127.0.0.1:8237 does not answer" in str(error)


def test_other_failures_are_not_called_unavailable():
    assert unavailable_error(ValueError("a bug")) is None
    assert unavailable_error(FileNotFoundError("/somewhere/else.csv")) is None  # no artifact store opened


def test_the_store_wait_is_a_number_of_seconds(monkeypatch):
    monkeypatch.delenv("E2E_STORE_WAIT_SECONDS", raising=False)
    assert store_wait_seconds() == 60
    monkeypatch.setenv("E2E_STORE_WAIT_SECONDS", "2.5")
    assert store_wait_seconds() == 2.5
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("E2E_STORE_WAIT_SECONDS", bad)
        with pytest.raises(UsageError, match="E2E_STORE_WAIT_SECONDS"):
            store_wait_seconds()


def test_a_locked_database_is_said_at_once_and_given_up_after_the_wait(tmp_path):
    database = tmp_path / "zenml.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    said: list[str] = []
    started = time.monotonic()
    try:
        with pytest.raises(UnavailableError) as raised:
            wait_for_sqlite(database, 3, said.append)
    finally:
        holder.execute("ROLLBACK")
    took = time.monotonic() - started
    assert 3 <= took < 10, took
    assert len(said) == 1 and said[0].startswith(f"The ZenML store {database} is busy: locked by ")
    assert "waiting up to 3 s" in said[0] and "E2E_STORE_WAIT_SECONDS" in said[0]
    assert f"{database} is locked by" in str(raised.value) and "stayed locked for 3 s" in str(raised.value)
    wait_for_sqlite(database, 3, said.append)  # free again: returns at once
    assert len(said) == 1


def test_a_database_that_does_not_exist_yet_is_left_to_zenml(tmp_path):
    wait_for_sqlite(tmp_path / "new.db", 0)


def test_a_server_url_nothing_listens_on_is_exit_5_within_seconds():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=f"the ZenML server at http://127.0.0.1:{port} does not answer"):
        check_zen_server(f"http://user:secret@127.0.0.1:{port}", timeout=2)
    assert time.monotonic() - started < 5


def test_urls_lose_their_credentials_and_sqlite_urls_give_their_file():
    assert without_credentials("https://user:pw@zenml.example.com/x") == "https://zenml.example.com/x"
    assert str(sqlite_path("sqlite:////tmp/a%20b/zenml.db")) == "/tmp/a b/zenml.db"
    assert sqlite_path("mysql://host/db") is None


def test_the_store_url_is_read_as_zenml_reads_it(tmp_path, monkeypatch):
    monkeypatch.delenv("ZENML_STORE_URL", raising=False)
    monkeypatch.setenv("ZENML_CONFIG_PATH", str(tmp_path))
    assert configured_store_url() == f"sqlite:///{tmp_path}/local_stores/default_zen_store/zenml.db"
    (tmp_path / "config.yaml").write_text("store:\n  url: sqlite:////elsewhere/zenml.db\n")
    assert configured_store_url() == "sqlite:////elsewhere/zenml.db"
    monkeypatch.setenv("ZENML_STORE_URL", "https://zenml.example.com")
    assert configured_store_url() == "https://zenml.example.com"


def test_a_local_mlflow_store_that_cannot_be_used_is_exit_5_before_training(tmp_path):
    from e2e_common.stores import check_tracking_store

    check_tracking_store(None)
    check_tracking_store("http://127.0.0.1:5000")  # a server: e2e_common.servers asks it
    check_tracking_store(f"sqlite:///{tmp_path}/new.db")  # MLflow creates it
    database = tmp_path / "mlflow.db"
    database.mkdir()
    with pytest.raises(UnavailableError, match="MLflow's tracking store sqlite:///.* is not a file"):
        check_tracking_store(f"sqlite:///{database}")
    with pytest.raises(UnavailableError, match="cannot be created: folder .* is missing"):
        check_tracking_store(f"sqlite:///{tmp_path}/missing/mlflow.db")
    database.rmdir()
    sqlite3.connect(database).execute("CREATE TABLE t (x)")
    check_tracking_store(f"sqlite:///{database}")
