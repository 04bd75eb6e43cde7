"""Evidently in a second process, warmed up while ``e2e-infer`` does everything else.

Importing Evidently takes seconds, and the drift check needs it only once the rows are loaded. When
the drift check is on, the command starts one worker process once its paths are checked; it imports
Evidently on the other core while this process imports ZenML, resolves the version and reads the
rows, and the command submits the comparison of those rows before the pipeline starts. The drift
step takes that result when its key matches, asks the worker when one runs for this process (the
local orchestrator runs steps here), and compares itself otherwise (a step in a container of a
remote orchestrator, a worker that died). Either way the same function makes the same decision; the
worker is stopped once the check is done or scoring starts, so it holds no memory while rows are
scored.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

Result = TypeVar("Result")

POLL_SECONDS = 0.2
STOP_SECONDS = 2.0

_process: multiprocessing.process.BaseProcess | None = None
_connection: Connection | None = None
_pending = False  # a submitted job's answer has not been taken yet
_stopping = threading.Lock()
_sender: threading.Thread | None = None


def start(warm_up: Callable[[], None] | None = None, debug: bool = False) -> None:
    """Start the worker (once per process); it runs ``warm_up`` (default: import Evidently) and waits
    for a check. Without ``debug`` its warnings, logs and stderr are silenced, as the command's are
    (a failure in it only means the check runs here)."""
    global _process, _connection
    if _process is not None:
        return
    context = multiprocessing.get_context("spawn")
    _connection, child_end = context.Pipe()
    _process = context.Process(target=_serve, args=(child_end, warm_up, debug), name="e2e-drift-worker", daemon=True)
    # The worker ignores Ctrl-C from its first instruction (it inherits the ignoring): the command
    # decides what an interruption does, and stops it.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    try:
        _process.start()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
    child_end.close()


def running() -> bool:
    return _process is not None and _process.is_alive()


def submit(function: Callable[..., tuple[str, Any]], *args: Any) -> bool:
    """Start ``function(*args)`` in the worker without waiting. It returns ``(key, result)``; ``run``
    with the same key takes the result. False (nothing started) when no worker runs or a job is
    already under way."""
    global _pending, _sender
    if not running() or _pending:
        return False
    # Sent from a thread: the pipe holds 64 KiB, and the worker reads the job only once Evidently is
    # imported, seconds from now; the command goes on meanwhile.
    _sender = threading.Thread(target=_send_quietly, args=(function, args), name="e2e-drift-job", daemon=True)
    _sender.start()
    _pending = True
    return True


def _send_quietly(function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Send a job; a worker gone meanwhile is noticed when its answer is awaited."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError, AssertionError):
        _send(function, args)


def run(key: str, function: Callable[..., Result], *args: Any) -> Result:
    """``function(*args)``: the result of the submitted job if its key is ``key``, else done in the
    worker if it runs, else here. The worker is stopped afterwards.

    An exception raised by ``function`` in the worker is raised here. A worker that dies before it
    answers (killed, out of memory) is not an error: the work is done here instead. A submitted job
    with another key (other rows) is never used, and an exception it raised is dropped.
    """
    try:
        outcome = None
        if running():
            if _pending:
                if _sender is not None:
                    _sender.join()
                outcome = _keyed(_answer(), key)
            else:
                _send(function, args)
                outcome = _answer()
    except (BrokenPipeError, ConnectionResetError, OSError):
        outcome = None
    finally:
        stop()
    if outcome is None:
        return function(*args)
    succeeded, value = outcome
    if succeeded:
        return value
    raise value


def _keyed(answer: tuple[bool, Any] | None, key: str) -> tuple[bool, Any] | None:
    """The submitted job's value when it answered ``(key, value)`` for this key; None otherwise (it
    failed, answered something else or for other rows: the caller's own check decides)."""
    if answer is None or not answer[0]:
        return None
    value = answer[1]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == key:
        return True, value[1]
    return None


def _send(function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    assert _connection is not None
    _connection.send((function, args))


def _answer() -> tuple[bool, Any] | None:
    """The worker's answer, or None when it died first."""
    assert _connection is not None and _process is not None
    try:
        while not _connection.poll(POLL_SECONDS):
            if not _process.is_alive():
                return None
        return _connection.recv()
    except (EOFError, ConnectionResetError, OSError):
        return None


def stop() -> None:
    """Stop the worker if one runs; never waits more than a couple of seconds. Safe from several
    threads at once (mapped scoring steps run as threads of the local orchestrator)."""
    global _process, _connection, _pending, _sender
    with _stopping:
        process, connection, sender = _process, _connection, _sender
        _process = _connection = _sender = None
        _pending = False
    if process is not None and process.is_alive():
        process.terminate()
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join(STOP_SECONDS)
    if sender is not None:
        sender.join(STOP_SECONDS)  # the worker is gone: its pipe no longer blocks the send
    if connection is not None:
        connection.close()


def _serve(connection: Connection, warm_up: Callable[[], None] | None, debug: bool = False) -> None:
    """The worker: warm up, then answer checks until the command closes the pipe."""
    # Ctrl-C reaches the whole process group: the command decides, and stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not debug:
        _silence()
    if warm_up is None:
        from e2e_inference.drift import import_evidently as warm_up
    warm_up()
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, function(*args))
        except Exception as exc:  # the command raises it, with its own message and exit code
            answer = (False, exc)
        try:
            connection.send(answer)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # an answer that does not pickle
            connection.send((False, RuntimeError(f"drift check in the worker: {exc}")))


def _silence() -> None:
    """No warning, log or traceback of the worker reaches the terminal (the command's stderr is its
    one error line without --debug)."""
    import logging
    import os
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the worker's whole life
