"""Opening ZenML's store with bounded waits, and the stores that are down, busy or read-only as exit 5.

ZenML waits 60 s for a locked SQLite store on every statement (its connection ``timeout``, which
its store configuration does not expose), so a store held by another process made a CLI silent for
two minutes; a client of a ZenML server that does not answer retries for more than a minute
(urllib3 ``Retry(connect=5, backoff_factor=1)`` on every request). Before ZenML opens the store,
``open_zen_store`` therefore

- for a local SQLite store, takes and releases SQLite's write lock once: when another process
  holds it, prints within about 2 s that the store is busy, which process holds it, and how long it
  waits, then waits at most ``E2E_STORE_WAIT_SECONDS`` (default 60) before UnavailableError (exit 5);
  the same bound replaces ZenML's 60 s for every later statement of the run;
- for a ZenML server, asks its ``/health`` once (5 s timeout, no retries): UnavailableError
  (exit 5) naming the URL when nothing answers.

``unavailable_error`` turns what the libraries raise later (a locked, read-only or missing SQLite
database, a server that stopped answering) into one UnavailableError line. Only the standard
library is imported here; ZenML is imported by the functions that need it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from e2e_common.errors import UnavailableError, UsageError, exception_chain, one_line

STORE_WAIT_VARIABLE = "E2E_STORE_WAIT_SECONDS"
DEFAULT_STORE_WAIT_SECONDS = 60.0
FIRST_TRY_SECONDS = 2.0  # a lock held this long is not the usual short write of another run
RETRY_SECONDS = 5.0
SERVER_TIMEOUT_SECONDS = 5.0
BUSY_HINT = f"wait for it to finish or stop it, then run again ({STORE_WAIT_VARIABLE} sets how long to wait)"


def store_wait_seconds() -> float:
    """Seconds to wait for a busy store: ``E2E_STORE_WAIT_SECONDS``, default 60; UsageError when not a number >= 0."""
    raw = os.environ.get(STORE_WAIT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_STORE_WAIT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise UsageError(f"{STORE_WAIT_VARIABLE}={raw!r}: expected a number of seconds, 0 or more")
    return seconds


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    return re.sub(r"(//)[^/@]*@", r"\1", url)


def open_zen_store(say: Callable[[str], None] = print, wait: float | None = None) -> None:
    """Open ZenML's store (the client's, local or server) with the bounded waits of this module.

    UnavailableError (exit 5) when a local store stays locked longer than ``wait`` seconds (default:
    ``E2E_STORE_WAIT_SECONDS``), when a server does not answer, or when opening fails for a reason
    ``unavailable_error`` knows.
    """
    from zenml.config.global_config import GlobalConfiguration

    wait = store_wait_seconds() if wait is None else wait
    config = GlobalConfiguration().store_configuration
    url = str(config.url)
    database = sqlite_path(url)
    if database is not None:
        wait_for_sqlite(database, wait, say)
        bound_sqlite_wait(wait)
    elif url.startswith(("http://", "https://")):
        check_zen_server(url)
    from zenml.client import Client

    try:
        Client().zen_store  # noqa: B018 - opening the store is the point
    except Exception as exc:
        known = unavailable_error(exc)
        if known is not None:
            raise known from exc
        raise


def configured_store_url() -> str:
    """The URL of the store ZenML will open, read as ZenML does but without importing it:
    ``ZENML_STORE_URL``, else the ``store.url`` of ``<ZENML_CONFIG_PATH>/config.yaml``, else the
    default local store of that configuration directory."""
    url = os.environ.get("ZENML_STORE_URL", "").strip()
    if url:
        return url
    configured = os.environ.get("ZENML_CONFIG_PATH", "").strip()
    root = Path(configured).resolve() if configured else Path.home() / ".config" / "zenml"
    try:
        import yaml

        data = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8")) or {}
        url = str((data.get("store") or {}).get("url") or "")
    except (OSError, ValueError, AttributeError, ImportError):
        url = ""
    return url or f"sqlite:///{root / 'local_stores' / 'default_zen_store' / 'zenml.db'}"


def check_store_early(say: Callable[[str], None] = print, wait: float | None = None) -> None:
    """The checks of ``open_zen_store`` before ZenML is imported (about 8 s): a busy local store is
    said, and a server that does not answer refused, within a few seconds of the start."""
    wait = store_wait_seconds() if wait is None else wait
    url = configured_store_url()
    database = sqlite_path(url)
    if database is not None:
        wait_for_sqlite(database, wait, say)
    elif url.startswith(("http://", "https://")):
        check_zen_server(url)


def store_opened() -> bool:
    """True once ZenML's client has opened its store in this process (without opening it)."""
    import sys

    if "zenml.config.global_config" not in sys.modules:
        return False
    from zenml.config.global_config import GlobalConfiguration

    return getattr(GlobalConfiguration(), "_zen_store", None) is not None


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL; None for any other URL."""
    if not url.startswith("sqlite:///"):
        return None
    path = urllib.parse.unquote(url.removeprefix("sqlite:///").split("?", 1)[0])
    return Path(path) if path else None


def wait_for_sqlite(
    database: Path, wait: float, say: Callable[[str], None] = print, name: str | None = None
) -> None:
    """Return once SQLite's write lock of ``database`` can be taken; say so when it is held by
    another process, and raise UnavailableError when it stays held for ``wait`` seconds."""
    if not database.is_file():
        return  # ZenML creates it, or says what is wrong with the path
    shown = name or f"the ZenML store {database}"
    if not os.access(database, os.W_OK):
        raise UnavailableError(
            f"{shown} is read-only (the file, or its file system); make it writable or point the stack at another store"
        )
    if not os.access(database.parent, os.W_OK | os.X_OK):
        raise UnavailableError(
            f"{shown} cannot be written: its folder {database.parent} is read-only (SQLite writes its journal "
            "there); make it writable"
        )
    deadline = time.monotonic() + wait
    first = True
    while True:
        try_for = min(FIRST_TRY_SECONDS if first else RETRY_SECONDS, max(deadline - time.monotonic(), 0.0))
        if _take_write_lock(database, try_for, shown):
            return
        holders = describe_holders(database)
        if time.monotonic() >= deadline:
            raise UnavailableError(f"{shown} is locked by {holders} and stayed locked for {wait:g} s; {BUSY_HINT}")
        if first:
            say(f"{shown[0].upper()}{shown[1:]} is busy: locked by {holders}; waiting up to {wait:g} s for it "
                f"({STORE_WAIT_VARIABLE})")
            first = False


def _take_write_lock(database: Path, timeout: float, shown: str) -> bool:
    """True when SQLite's write lock was taken (and released at once) within ``timeout`` seconds."""
    uri = f"file:{urllib.parse.quote(str(database))}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise UnavailableError(f"{shown} cannot be opened ({one_line(exc)})") from exc
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        message = str(exc).lower()
        if "locked" in message or "busy" in message:
            return False
        raise UnavailableError(
            f"{shown} cannot be written ({one_line(exc)}); make its file, folder and file system writable"
        ) from exc
    finally:
        connection.close()


def check_tracking_store(tracking_uri: str | None, say: Callable[[str], None] = print, wait: float | None = None) -> None:
    """Before a training run: UnavailableError (exit 5) when a local SQLite MLflow tracking store
    cannot be used: a folder or another non-file at its path, a folder that cannot be written, a
    read-only file, or a lock held longer than ``E2E_STORE_WAIT_SECONDS``. MLflow itself finds
    these in the training step, after minutes of retries. Other tracking URIs are not checked here
    (``e2e_common.servers.check_tracking_server`` asks a tracking server)."""
    database = sqlite_path(tracking_uri or "")
    if database is None:
        return
    label = f"MLflow's tracking store {tracking_uri}"
    if database.exists() and not database.is_file():
        raise UnavailableError(f"{label} is not a file ({database} is a folder or another kind of file); move it away")
    if not database.exists():
        folder = database.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise UnavailableError(f"{label} cannot be created: folder {folder} is missing or cannot be written")
        return
    wait_for_sqlite(database, store_wait_seconds() if wait is None else wait, say, name=label)


def describe_holders(database: Path) -> str:
    """``process 1234 (python3 job.py)``: who holds a lock on the database, else who has it open."""
    pids = lock_holders(database) or open_by(database)
    if not pids:
        return "another process"
    described = [f"process {pid} ({command_of(pid)})" for pid in pids[:3]]
    more = f" and {len(pids) - 3} more" if len(pids) > 3 else ""
    return ", ".join(described) + more


def lock_holders(database: Path) -> list[int]:
    """Processes other than this one holding a POSIX lock on the database (or its journal), from /proc/locks."""
    inodes = set()
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            inodes.add(os.stat(f"{database}{suffix}").st_ino)
        except OSError:
            continue
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids: list[int] = []
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        try:
            pid, device = int(fields[4]), fields[5]
            inode = int(device.split(":")[2])
        except (IndexError, ValueError):
            continue
        if inode in inodes and pid != os.getpid() and pid not in pids:
            pids.append(pid)
    return pids


def open_by(database: Path) -> list[int]:
    """Processes other than this one with the database open, from /proc/*/fd (Linux)."""
    target = str(database.resolve())
    pids: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") == target for fd in os.listdir(f"/proc/{entry}/fd")):
                pids.append(int(entry))
        except OSError:
            continue
    return pids


def command_of(pid: int, width: int = 80) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "command unknown"
    command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or "command unknown"
    return command if len(command) <= width else command[: width - 3] + "..."


def bound_sqlite_wait(wait: float) -> None:
    """Every SQLite statement of ZenML's store waits at most ``wait`` seconds for a lock (ZenML: 60 s)."""
    from zenml.zen_stores.sql_zen_store import SqlZenStoreConfiguration

    original = SqlZenStoreConfiguration.get_sqlalchemy_config
    original = getattr(original, "__wrapped__", original)

    def bounded(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - ZenML's signature
        url, connect_args, engine_args = original(self, *args, **kwargs)
        if "timeout" in connect_args:
            connect_args = {**connect_args, "timeout": wait}
        return url, connect_args, engine_args

    bounded.__wrapped__ = original  # type: ignore[attr-defined]
    SqlZenStoreConfiguration.get_sqlalchemy_config = bounded


def check_zen_server(url: str, timeout: float = SERVER_TIMEOUT_SECONDS) -> None:
    """UnavailableError (exit 5) naming the server when ``url``'s ``/health`` does not answer in time.

    Any HTTP answer below 500 counts as up: a proxy or the authentication is ZenML's to handle.
    """
    from e2e_common.servers import health_problem

    shown = without_credentials(url.rstrip("/"))
    problem = health_problem(url, timeout)
    if problem is None:
        return
    raise UnavailableError(
        f"the ZenML server at {shown} does not answer ({problem}); start it, or connect to a running one "
        "(zenml login URL, or ZENML_STORE_URL)"
    )


LOCKED = ("database is locked", "database table is locked")
READ_ONLY = ("readonly database", "read-only file system", "read only file system")
CANNOT_OPEN = ("unable to open database file",)
UNREACHABLE = ("max retries exceeded", "connection refused", "error connecting to url", "failed to establish a new connection")


def unavailable_error(exc: BaseException) -> UnavailableError | None:
    """The one-line UnavailableError (exit 5) for a store or server the run needs that is busy,
    read-only, unreadable or not answering; None for anything else."""
    chain = exception_chain(exc)
    # The database's own error first (sqlite3's, innermost), then what wrapped it (SQLAlchemy, MLflow).
    database_errors = [error for error in chain if type(error).__name__ in ("OperationalError", "DatabaseError")]
    for error in [*reversed(database_errors), *chain]:
        text = str(getattr(error, "orig", None) or error)
        lowered = text.lower()
        if error in database_errors or "sqlite" in lowered:
            which = _which_store(chain)
            if any(marker in lowered for marker in LOCKED):
                return UnavailableError(f"{which} is locked by another process ({_first_line(text)}); {BUSY_HINT}")
            if any(marker in lowered for marker in READ_ONLY):
                return UnavailableError(
                    f"{which} is read-only ({_first_line(text)}); make its file, folder and file system writable, "
                    "or point the stack at another store"
                )
            if any(marker in lowered for marker in CANNOT_OPEN):
                return UnavailableError(
                    f"{which} cannot be opened ({_first_line(text)}); check that its file exists, is a file and "
                    "can be written"
                )
        if isinstance(error, FileNotFoundError):
            root = _artifact_store_root()
            if root and root in text:
                return UnavailableError(
                    f"the artifact store {root} lacks a file the run needs ({_first_line(text, 240)}): it was deleted "
                    "or moved; restore it, or activate the stack whose artifact store holds the model version"
                )
        if any(marker in lowered for marker in UNREACHABLE):
            where = _address(text)
            return UnavailableError(
                f"a server the run needs{where} does not answer ({_first_line(text, 160)}); start it or point the "
                "stack at a running one, then run again"
            )
    return None


def _which_store(chain: list[BaseException]) -> str:
    """``MLflow's tracking store (sqlite:///...)`` or ``the ZenML store (...)``: whose code raised, from the frames."""
    files = []
    for error in chain:
        trace = error.__traceback__
        while trace is not None:
            files.append(trace.tb_frame.f_code.co_filename.replace("\\", "/"))
            trace = trace.tb_next
    if any("/mlflow/store/" in name or "/mlflow/tracking/" in name for name in files):
        return f"MLflow's tracking store{_mlflow_uri()}"
    if any("/zenml/zen_stores/" in name for name in files):
        return f"the ZenML store{_zenml_url()}"
    return "a SQLite store the run uses (ZenML's or MLflow's)"


def _artifact_store_root() -> str:
    """The path of the active stack's artifact store, when ZenML has opened its store; else empty."""
    if not store_opened():
        return ""
    try:
        from zenml.client import Client

        return str(Client().active_stack.artifact_store.path).rstrip("/")
    except Exception:  # noqa: BLE001 - unknown: the error stays unexpected
        return ""


def _mlflow_uri() -> str:
    import sys

    if "mlflow" not in sys.modules:
        return ""
    try:
        return f" {without_credentials(str(sys.modules['mlflow'].get_tracking_uri()))}"
    except Exception:  # noqa: BLE001 - the message can do without it
        return ""


def _zenml_url() -> str:
    import sys

    if "zenml.config.global_config" not in sys.modules:
        return ""
    try:
        from zenml.config.global_config import GlobalConfiguration

        return f" {without_credentials(str(GlobalConfiguration().store_configuration.url))}"
    except Exception:  # noqa: BLE001 - the message can do without it
        return ""


def _address(text: str) -> str:
    found = re.search(r"host='([^']+)', port=(\d+)", text) or re.search(r"(https?://[^\s'\"]+)", text)
    if found is None:
        return ""
    return f" at {found.group(1)}:{found.group(2)}" if found.re.groups == 2 else f" at {without_credentials(found.group(1))}"


def _first_line(text: str, width: int = 200) -> str:
    line = one_line(text.split("\n", 1)[0])
    line = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", line)
    return line if len(line) <= width else line[: width - 3] + "..."
