"""Checks of a user's file that need no pandas: the format by extension, that it exists, its header.

Both CLIs run them before the heavy imports, so a wrong path, a missing column or a header that
cannot be read as a table (repeated or empty column names) is reported at once.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from e2e_common.errors import DataError

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
SUPPORTED_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES
# The first bytes of files that are not CSV text, and what to do with each.
MAGIC_BYTES = (
    (b"PAR1", "is a Parquet file; name it .parquet"),
    (b"\x1f\x8b", "is gzip-compressed; decompress it first (gunzip)"),
    (b"PK\x03\x04", "is a zip archive (an Excel workbook?); export or extract it as CSV"),
    (b"\xd0\xcf\x11\xe0", "is an Excel workbook; export it as CSV"),
    (b"BZh", "is bzip2-compressed; decompress it first (bunzip2)"),
    (b"\x28\xb5\x2f\xfd", "is zstd-compressed; decompress it first (unzstd)"),
    (b"\xff\xfe", "is UTF-16 text; save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text; save it as UTF-8"),
)
# Separators a one-column CSV header is looked at for: the file was probably written with one of them.
OTHER_SEPARATORS = (";", "\t", "|")
LONGEST_NAME_SHOWN = 60


def table_format(path: Path | str, shown: object = None) -> str:
    """``csv`` or ``parquet`` from the file's extension (of a path or a URI); DataError for anything
    else, naming ``shown`` (default: the path)."""
    from e2e_common.uris import is_uri, name_of

    suffix = Path(name_of(path) if is_uri(path) else path).suffix.lower()
    path = path if shown is None else shown
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    shown = f"'{suffix}'" if suffix else "(none)"
    hint = "; decompress it first" if suffix in (".gz", ".zip", ".bz2", ".xz", ".zst") else ""
    raise DataError(f"{path}: unsupported file extension {shown}; use one of {supported}{hint}")


def absolute_path(path: Path | str) -> Path:
    """``path`` made absolute with links resolved; as it is (made absolute) when its links loop, so that
    ``check_readable_file`` says so instead of a failure to resolve it."""
    path = Path(path).expanduser()
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a symbolic link loop (Python < 3.13 raises)
        return path.absolute()


def check_readable_file(path: Path | str) -> Path | str:
    """The path, if it names an existing, non-empty regular file of a supported format; a URI
    (``s3://...``), if it names such an object (``e2e_common.uris``)."""
    from e2e_common.uris import check_readable_object, is_uri

    if is_uri(path):
        check_readable_object(str(path))
        return str(path)
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: {_why_missing(path)}")
    if path.is_dir():
        raise DataError(f"{path}: is a folder; pass a CSV or Parquet file (a folder of Parquet parts is not read)")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        what = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise DataError(f"{path}: is {what}, not a regular file; pass a CSV or Parquet file")
    table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: permission denied; make the file readable by this user")
    return path


def _why_missing(path: Path) -> str:
    """Why ``path`` does not exist: a symbolic link loop, a link to nothing, or nothing there."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return "symbolic link loop; point the link at a CSV or Parquet file"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symbolic link loop; point the link at a CSV or Parquet file"
        return f"symbolic link to {os.readlink(path)}, which does not exist; pass an existing CSV or Parquet file"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop in the path; point the link at a CSV or Parquet file"
        if exc.errno == errno.EACCES:
            return "permission denied on a folder of the path"
    return "file not found; pass an existing CSV or Parquet file"


def sniff_content(path: Path | str, kind: str) -> None:
    """DataError when a ``.csv`` file starts with the bytes of another format (Parquet, gzip, zip...)."""
    if kind != "csv":
        return
    from e2e_common.uris import open_binary, storage_errors

    try:
        with storage_errors(path), open_binary(path, block_size=1 << 16) as handle:
            head = handle.read(8)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    for magic, what in MAGIC_BYTES:
        if head.startswith(magic):
            raise DataError(f"{path}: {what}; e2e reads comma-separated UTF-8 text from a .csv file")


def read_header(path: Path | str) -> list[str]:
    """The column names of a CSV file's first line or a Parquet file's schema, without reading rows.

    DataError when a name is empty or repeated (pandas would rename them, and the wrong copy would
    be read), or when a CSV header looks written with another separator than the comma.
    """
    import io

    from e2e_common.uris import open_binary, storage_errors

    path = check_readable_file(path)
    kind = table_format(path)
    sniff_content(path, kind)
    try:
        with storage_errors(path):
            if kind == "parquet":
                import pyarrow.parquet as pq

                with open_binary(path) as handle:
                    names = list(pq.read_schema(handle).names)
            else:
                # utf-8-sig: a byte order mark is not part of the first name (pandas drops it too).
                with open_binary(path, block_size=1 << 16) as raw:
                    handle = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    names = next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: {not_utf8(exc)}") from exc
    except (OSError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as {kind.upper()} ({exc})") from exc
    except Exception as exc:  # pyarrow's own error types for a corrupt file
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError(f"{path}: cannot be read as {kind.upper()} ({str(exc).splitlines()[0]})") from exc
        raise
    if kind == "csv":
        check_separator(names, path)
    check_column_names(names, path)
    return names


def not_utf8(exc: UnicodeDecodeError) -> str:
    """What to say about text that is not UTF-8."""
    byte = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
    return f"cannot be read as CSV: not UTF-8 text (byte 0x{byte}); save the file as UTF-8 (e.g. from latin-1 or cp1252)"


def check_separator(names: Sequence[str], source: Path | str) -> None:
    """DataError when a CSV header is one column holding another separator: the file was written with it."""
    if len(names) != 1:
        return
    for separator in OTHER_SEPARATORS:
        if separator in names[0]:
            shown = "a tab" if separator == "\t" else f"'{separator}'"
            raise DataError(
                f"{source}: the header is one column holding {shown} ({shown_name(names[0])}): the file looks "
                f"separated by {shown}, but CSV files are read comma-separated; save it with commas"
            )


def check_column_names(names: Sequence[object], source: Path | str | None = None) -> None:
    """DataError naming the first column without a name, or the first name that is repeated.

    A name is empty when it is missing or only white space (a CSV written with its index often
    starts with an empty name). A name holding a NUL character (``\\x00``) is refused too: scikit-learn's
    column lookups lose it. Names are compared exactly as written.
    """
    where = f"{source}: " if source is not None else ""
    for position, name in enumerate(names, start=1):
        if name is None or not str(name).strip():
            hint = " (a saved row index? write the file without it)" if position == 1 else ""
            raise DataError(
                f"{where}column {position} of {len(names)} has no name{hint}; name it or remove it"
            )
    for position, name in enumerate(names, start=1):
        if "\x00" in str(name):
            raise DataError(
                f"{where}the name of column {position} of {len(names)} ({shown_name(name)}) holds a NUL character "
                "(\\x00); rename it (UTF-16 text read as UTF-8 looks like this: save the file as UTF-8)"
            )
    counts = Counter(str(name) for name in names)
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        name = repeated[0]
        positions = [str(i) for i, other in enumerate(names, start=1) if str(other) == name]
        more = f" (and {len(repeated) - 1} more repeated name(s))" if len(repeated) > 1 else ""
        raise DataError(
            f"{where}column name {shown_name(name)} appears {len(positions)} times (columns "
            f"{', '.join(positions)}){more}; column names must be unique: rename or remove the copies"
        )


def shown_name(name: object) -> str:
    """A column name quoted for a message: control characters escaped (``\\n``), cut when very long."""
    return f"'{escaped(name)}'"


def escaped(name: object) -> str:
    """A column name for a message, unquoted: control characters escaped, cut when very long."""
    text = "".join(char if char.isprintable() or char == " " else repr(char)[1:-1] for char in str(name))
    if len(text) > LONGEST_NAME_SHOWN:
        text = text[: LONGEST_NAME_SHOWN - 3] + "..."
    return text
