"""Process setup both CLIs do before ZenML is imported."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import warnings
from typing import Any

TRACEBACK_HEADER = "Traceback (most recent call last):"
CHAINED_EXCEPTION = ("During handling of the above exception", "The above exception was the direct cause")
# Headers the interpreter prints before a traceback it could not raise (a finalizer, a thread).
TRACEBACK_INTRODUCTIONS = ("Exception ignored in", "Exception in thread")


def colors_wanted() -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def configure_runtime(debug: bool) -> None:
    """Quiet library logs unless ``debug``; never open browsers; plain tracebacks; colour only on a terminal.

    Without ``debug`` no traceback and no library log reaches stderr, whoever prints it (a library's
    log record, a background thread, an object finalized late): the CLIs report a failure as one
    ``error:`` line.
    SIGTERM interrupts as Ctrl-C does (exit 130), unless the program handles them itself.
    """
    if not colors_wanted():
        os.environ["ZENML_LOGGING_COLORS_DISABLED"] = "true"
    level = "DEBUG" if debug else "WARN"
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", level)
    os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
    os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if not debug:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "CRITICAL")  # MLflow's own stderr handler: its errors end as our line
        without_tracebacks()
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        for noisy in ("mlflow", "alembic", "urllib3", "git", "evidently", "sqlalchemy"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")
        # Also in the processes started for the search (joblib's loky workers and their resource
        # tracker, which reports the temporary folders it removes once the command has gone).
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), "ignore"]))
        # Library logs reach stderr only with --debug: the stderr of a failure is its one error line.
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and isinstance(handler.stream, TracebackFreeStream):
                handler.setLevel(logging.CRITICAL + 1)
    interrupt_on_signals(debug)


_interrupted = threading.Event()


def interrupt_on_signals(debug: bool = False) -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the main thread (exit 130, cleanup runs) and are
    remembered, when nothing else handles them (``e2e-serve`` keeps its own handlers).

    Python runs a signal handler between any two bytecodes, also inside a ``__del__`` method, where
    the exception it raises is printed and dropped: a Ctrl-C landing there was lost and the run went
    on. Such a dropped interruption is delivered again (``_thread.interrupt_main``), and
    ``raise_if_interrupted`` lets the CLI check once more before it publishes anything.
    """
    sys.unraisablehook = _redeliver_interruptions(debug)
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    _interrupted.set()
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def interrupted() -> bool:
    """True once SIGINT or SIGTERM reached this process (through the handlers above)."""
    return _interrupted.is_set()


def raise_if_interrupted() -> None:
    """KeyboardInterrupt when an interruption was signalled, even one a library swallowed."""
    if _interrupted.is_set():
        raise KeyboardInterrupt("interrupted")


def _redeliver_interruptions(debug: bool) -> Any:
    from e2e_common.errors import INTERRUPTIONS

    def hook(unraisable: Any) -> None:
        if type(unraisable.exc_value).__name__ in INTERRUPTIONS:
            import _thread

            _interrupted.set()
            # Raised again in the main thread a moment later, out of this hook and the finalizer.
            timer = threading.Timer(0.05, _thread.interrupt_main, args=(signal.SIGINT,))
            timer.daemon = True
            timer.start()
            return
        if debug:
            sys.__unraisablehook__(unraisable)
        else:
            logging.getLogger("e2e").debug("ignored in %r: %s", unraisable.object, unraisable.exc_value)

    return hook


class TracebackFreeStream:
    """A text stream that passes everything to ``stream`` but Python tracebacks.

    A traceback comes in one write (a log record with its exception) or in several (the
    ``traceback`` module writes it piece by piece: the header, each frame, the exception line, the
    chained exceptions); both are dropped, and what precedes the traceback in the write is kept.
    """

    NORMAL, IN_TRACEBACK, AFTER_EXCEPTION = range(3)

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._state = self.NORMAL
        self._pending = ""  # a line written in pieces (as the interpreter's own traceback printer does)

    def write(self, text: str) -> int:
        if not text.endswith("\n"):
            self._pending += text
            return len(text)
        self._piece(self._pending + text)
        self._pending = ""
        return len(text)

    def flush(self) -> None:
        if self._pending and self._state == self.NORMAL:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def _piece(self, text: str) -> None:
        piece = text.lstrip("\n")
        if self._state == self.IN_TRACEBACK:
            if piece and not text[:1].isspace() and not piece.startswith((*CHAINED_EXCEPTION, TRACEBACK_HEADER)):
                self._state = self.AFTER_EXCEPTION  # the exception line ends this traceback
            return
        if self._state == self.AFTER_EXCEPTION:
            if piece.startswith((*CHAINED_EXCEPTION, TRACEBACK_HEADER)):
                self._state = self.IN_TRACEBACK  # a chained exception follows
                return
            if not text.strip() or text[:1] in (" ", "\t"):
                return  # a blank piece or a note of the exception
            self._state = self.NORMAL
        if piece.startswith(TRACEBACK_INTRODUCTIONS):
            return
        at = text.find(TRACEBACK_HEADER)
        if at < 0:
            self._stream.write(text)
            return
        kept = text[:at]
        if kept.strip():
            self._stream.write(kept if kept.endswith("\n") else kept + "\n")
        # The whole traceback in this piece (a log record) leaves nothing to skip; a lone header does.
        if not text[at + len(TRACEBACK_HEADER):].strip():
            self._state = self.IN_TRACEBACK

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def without_tracebacks() -> None:
    """No traceback on stderr: filter the stream, and quiet the hook of threads (that of late
    finalizers is ``interrupt_on_signals``'s)."""
    if not isinstance(sys.stderr, TracebackFreeStream) and sys.stderr is not None:
        sys.stderr = TracebackFreeStream(sys.stderr)
    threading.excepthook = _ignore_thread_failure


def _ignore_thread_failure(args: threading.ExceptHookArgs) -> None:
    """A background thread of a library failed: the main thread's outcome is what the CLI reports."""
    logging.getLogger("e2e").debug("thread %s failed: %s", getattr(args.thread, "name", "?"), args.exc_value)


def release_zenml_log_store() -> None:
    """Shut down the active stack's log store if ZenML is loaded; call before the process exits.

    ZenML 0.98 leaves its OpenTelemetry log handler alive; on Python 3.12+ its flush at
    interpreter shutdown starts a thread, which fails and prints a traceback on stderr. Does nothing
    when the store was never opened (a failure before, or a store that could not be opened).
    """
    from e2e_common.stores import store_opened

    if not store_opened():
        return  # nothing to release, and opening the store now could wait on a lock
    try:
        from zenml.client import Client

        log_store = Client().active_stack.log_store
    except Exception:  # noqa: BLE001 - nothing to release when the stack cannot be read
        return
    deactivate = getattr(log_store, "deactivate", None)
    if callable(deactivate):
        deactivate()
