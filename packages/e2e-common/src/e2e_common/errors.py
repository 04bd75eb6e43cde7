"""Exceptions that map to the exit codes of docs/contract.md, and the one way both CLIs report them."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import NoReturn


class E2EError(Exception):
    """Base of the errors the CLIs report as one ``error:`` line."""

    exit_code = 1


class UsageError(E2EError):
    """Usage or bad input: unknown option, invalid value, unreadable or unsuitable data."""

    exit_code = 2


class DataError(UsageError):
    """The data cannot be used: missing file or columns, unreadable values, one class, empty."""


class QualityGateError(E2EError):
    """A quality gate refused the run (accuracy below minimum, drift above limit)."""

    exit_code = 3


class NoModelAtStageError(E2EError):
    """No model version is at the requested stage."""

    exit_code = 4

    def __init__(self, model_name: str, stage: str, detail: str | None = None) -> None:
        super().__init__(detail or f"no version of model '{model_name}' at stage '{stage}'; run e2e-train first")
        self.model_name = model_name
        self.stage = stage


class UnavailableError(E2EError):
    """A server or store the run needs is down, busy or inconsistent: retry later, or repair it."""

    exit_code = 5


def one_line(message: object, limit: int | None = None) -> str:
    """Collapse a message to a single line (of at most ``limit`` characters, cut with ``...``)."""
    line = " ".join(str(message).split())
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 3, 0)] + "..."
    return line


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc``, then its cause or context, and so on (each once)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def find_e2e_error(exc: BaseException) -> E2EError | None:
    """The E2EError behind ``exc`` (itself, its cause or its context), if any."""
    return next((error for error in exception_chain(exc) if isinstance(error, E2EError)), None)


def _library_error(exc: BaseException) -> E2EError | None:
    """What the libraries raised, as the product's error when it is one: credentials a ZenML server
    refused (exit 2, ``e2e_common.servers``), a store or server that is busy, read-only or down
    (exit 5, ``e2e_common.stores``)."""
    try:
        from e2e_common.servers import credentials_error
        from e2e_common.stores import unavailable_error

        return credentials_error(exc) or unavailable_error(exc)
    except Exception:  # noqa: BLE001 - the report of a failure must not fail
        return None


def _signalled() -> bool:
    """True when SIGINT or SIGTERM reached the process: what failed after it failed because of it (a
    library may turn the interruption into another exception, e.g. ``inspect`` into a TypeError)."""
    from e2e_common.runtime import interrupted

    return interrupted()


INTERRUPTED_EXIT_CODE = 130
INTERRUPTIONS = frozenset({"KeyboardInterrupt", "RunInterruptedException"})


def exit_with_error(exc: BaseException, debug: bool = False) -> NoReturn:
    """Print ``error: ...`` on stderr (a traceback only with ``debug``) and exit with its code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if type(exc).__name__ in INTERRUPTIONS or _signalled():
        print("error: interrupted; the run stopped before it finished", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT_CODE)
    known = find_e2e_error(exc) or _library_error(exc)
    if known is not None:
        print(f"error: {one_line(known)}", file=sys.stderr)
        sys.exit(known.exit_code)
    hint = "" if debug else " (run again with --debug for the traceback)"
    print(f"error: unexpected failure: {one_line(f'{type(exc).__name__}: {exc}')}{hint}", file=sys.stderr)
    sys.exit(1)


def run_cli(main: Callable[[], int | None], debug: Callable[[], bool]) -> NoReturn:
    """Run a CLI body and turn its outcome into the contract's exit codes."""
    try:
        code = main() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line and a code
        try:
            exit_with_error(exc, debug=debug())
        except SystemExit as reported:
            code = reported.code
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """Flush output and logs, then exit without tearing down the interpreter.

    The work is done and every file is closed; freeing the module graphs of ZenML, MLflow and
    Evidently at interpreter shutdown would only add seconds to every run.
    """
    import contextlib
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
