"""Writing the predictions to a user's file: CSV or Parquet by extension, atomically.

A file is written to a temporary file in the same folder, ``.<name>.e2e-<pid>-<host>.tmp``, synced,
then renamed over the target: a reader sees the old file or the whole new one. A failed or
interrupted write removes its temporary file; one left by a process that was killed (``kill -9``,
a power cut) is removed by the next run writing the same path on the same host once that process
is gone (``remove_stale_temporaries``). Before the pipeline starts, ``check_output_path`` proves
that the folder takes a file (a probe of that temporary name, created and removed).

``--output`` may also be an object URI (``s3://bucket/p.parquet``, ``e2e_common.uris``): the CLI streams
the predictions straight to the key through an upload that the store publishes only when it is
complete (``object_writer``), so a failed or killed run leaves no partial object at the key; before
the pipeline starts a probe object proves that the folder can be written.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from e2e_common.errors import DataError
from e2e_common.files import table_format
from e2e_common.uris import Location, check_writable_object, is_uri, object_writer
from e2e_inference.summary import PredictionSummary

TEMPORARY_SUFFIX = ".tmp"


def check_output_path(path: Location, setting: str = "output", table: bool = True) -> Location:
    """The path, if a file can be written there: DataError (exit 2) naming the setting otherwise.

    Refused: a folder, an unsupported extension (for a ``table``), a folder that does not exist or
    is a file, a folder where a file cannot be created (read-only file system, permissions), an
    existing file that cannot be replaced (read-only, immutable), a file system with no space left.
    A URI: its extension, then a probe object written and removed beside it (exit 2 when the bucket is
    missing or writing is denied, 5 when the store does not answer).
    """
    if is_uri(path):
        if table:
            table_format(path)
        check_writable_object(str(path), setting)
        return str(path)
    path = Path(path)
    if path.is_dir():
        kind = "a file path ending in .csv or .parquet" if table else "a file path"
        raise DataError(f"{path}: is a folder (setting '{setting}'); pass {kind}")
    if table:
        table_format(path)
    parent = path.parent
    if not parent.exists():
        raise DataError(f"{path}: folder {parent} does not exist (setting '{setting}'); create it first")
    if not parent.is_dir():
        raise DataError(f"{path}: {parent} is not a folder (setting '{setting}'); pass a path in a folder")
    probe = temporary_path(path)
    try:
        handle = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(handle)
        os.unlink(probe)
    except FileExistsError:
        pass  # our own name, left by a process with our pid: the write replaces it
    except OSError as exc:
        raise DataError(
            f"{path}: folder {parent} cannot be written ({exc.strerror or exc}) (setting '{setting}'); "
            "pass a path in a writable folder"
        ) from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise DataError(
            f"{path}: the file exists and cannot be replaced (read-only or immutable) (setting '{setting}'); "
            "make it writable or pass another path"
        )
    try:
        free = shutil.disk_usage(parent).free
    except OSError:
        free = None
    if free == 0:
        raise DataError(f"{path}: no space left on the file system of {parent} (setting '{setting}'); free space or pass another path")
    return path


def temporary_path(path: Path) -> Path:
    """The temporary file this process writes ``path`` through: ``.<name>.e2e-<pid>-<host>.tmp``."""
    return path.with_name(f".{path.name}.e2e-{os.getpid()}-{_host()}{TEMPORARY_SUFFIX}")


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by processes of this host that are gone; those removed.
    An object URI has none (an interrupted upload is never visible at its key)."""
    if is_uri(path):
        return []
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.e2e-(\d+)-(.+){re.escape(TEMPORARY_SUFFIX)}$")
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        found = pattern.match(entry.name)
        if found is None or found.group(2) != _host() or _alive(int(found.group(1))):
            continue
        try:
            entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "localhost"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes nothing yet: a file of its pid is from an earlier process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by another user
    return True


def check_distinct_paths(paths: dict[str, Location | None], written: Iterable[str]) -> None:
    """DataError (exit 2) when a path the run writes (a setting of ``written``) is the same file as
    another setting's path, also through a symbolic or hard link: writing it would replace that file."""
    named = {setting: path if is_uri(path) else Path(path) for setting, path in paths.items() if path is not None}
    for target in written:
        if target not in named:
            continue
        for other, path in named.items():
            if other != target and same_file(named[target], path):
                raise DataError(
                    f"--{target} {named[target]} is the same file as --{other} {path}; writing it would "
                    f"replace that file: pass another --{target} path"
                )


def same_file(first: Location, second: Location) -> bool:
    """True when both paths name one file: the same inode when both exist, else the same resolved path;
    two URIs when they are the same text (an object URI is never a local file)."""
    if is_uri(first) or is_uri(second):
        return str(first).rstrip("/") == str(second).rstrip("/")
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
        return first.resolve() == second.resolve()
    except OSError:
        return False


class OutputTarget(BaseModel):
    """Where the predictions go: the ``--output`` path and the temporary file written first.

    The scoring step writes the temporary file (``write_temporary``) before it returns the
    ``predictions``: a write that fails fails the step, so the run fails and publishes nothing. The
    CLI renames it over the path once the run has completed (``publish``), or removes it (``discard``).
    """

    model_config = ConfigDict(frozen=True)

    path: str
    temporary: str
    kind: str

    @classmethod
    def for_path(cls, path: Path | str) -> OutputTarget:
        path = Path(path).absolute()
        return cls(path=str(path), temporary=str(temporary_path(path)), kind=table_format(path))

    def write(self, write: Callable[[str], None]) -> None:
        """Write the temporary file with ``write(temporary)`` and sync it; on failure, none is left."""
        temporary = Path(self.temporary)
        try:
            temporary.unlink(missing_ok=True)
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask applies
            write(str(temporary))
            _sync(temporary)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise DataError(f"{self.path}: cannot be written ({exc.strerror or exc})") from exc
            raise

    def write_table(self, frame: pd.DataFrame) -> None:
        def write(temporary: str) -> None:
            if self.kind == "csv":
                frame.to_csv(temporary, index=False)
            else:
                frame.to_parquet(temporary, index=False)

        self.write(write)

    def write_parts(self, parts: Iterable[ScoredPart]) -> None:
        self.write(lambda temporary: _write_parts(parts, temporary, self.kind))

    def publish(self) -> Path:
        """Rename the written temporary file over the path; DataError (and no temporary file) on failure."""
        path = Path(self.path)
        try:
            os.replace(self.temporary, path)
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError):
                raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
            raise
        _sync(path.parent)
        return path

    def discard(self) -> None:
        Path(self.temporary).unlink(missing_ok=True)


def write_table_atomically(frame: pd.DataFrame, path: Location) -> Location:
    """Write ``frame`` to ``path``: a temporary file in the same folder, then a rename (an object URI: one
    upload, published when complete).

    A reader sees the old file or the whole new one, never a partial one; on failure nothing is left.
    """
    if is_uri(path):
        uri = str(check_output_path(path))
        with object_writer(uri) as handle:
            _write_frame(frame, handle, table_format(uri))
        return uri
    target = OutputTarget.for_path(check_output_path(path))
    target.write_table(frame)
    return target.publish()


def write_text_atomically(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` (UTF-8): a temporary file in the same folder, then a rename."""
    path = check_output_path(path, setting="report", table=False)
    target = OutputTarget(path=str(path), temporary=str(temporary_path(path)), kind="text")
    target.write(lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
    return target.publish()


def _sync(path: Path) -> None:
    """Flush a file (or a folder's entries) to the disk: the renamed file survives a power cut whole."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # a file system without fsync on folders
    finally:
        os.close(handle)


class ScoredPart(BaseModel):
    """Predictions of one partition, written as Parquet beside the step's output artifact."""

    model_config = ConfigDict(frozen=True)

    index: int
    uri: str
    rows: int
    # A regression's: count, min, mean and max of the part's predictions.
    prediction_summary: PredictionSummary | None = None


class PredictionsReference(BaseModel):
    """The ``predictions`` of a large input: Parquet parts in the artifact store, not a second copy.

    ``read()`` loads them into one DataFrame; ``iter_frames()`` streams them part by part.
    """

    model_config = ConfigDict(frozen=True)

    parts: list[ScoredPart]
    rows: int
    columns: list[str]
    model_version: str
    input_fingerprint: str

    def iter_frames(self) -> Iterator[pd.DataFrame]:
        for table in iter_part_tables(self.parts):
            yield table.to_pandas()

    def read(self) -> pd.DataFrame:
        frames = list(self.iter_frames())
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=self.columns)


def write_part(frames: Iterable[pd.DataFrame], uri: str) -> int:
    """Stream DataFrames into one Parquet file at ``uri`` (any artifact store); the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from zenml.io import fileio

    rows = 0
    writer = None
    with fileio.open(uri, "wb") as sink:
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(sink, table.schema)
                elif table.schema != writer.schema:
                    table = table.cast(writer.schema)
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
    return rows


def iter_part_tables(parts: Iterable[ScoredPart]) -> Iterator[Any]:
    """The record batches of the parts, in order, as pyarrow Tables of bounded size."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from zenml.io import fileio

    for part in sorted(parts, key=lambda p: p.index):
        if part.rows == 0:
            continue
        with fileio.open(part.uri, "rb") as source:
            for batch in pq.ParquetFile(source).iter_batches():
                yield pa.Table.from_batches([batch])


def _write_parts(parts: Iterable[ScoredPart], destination: str, kind: str) -> None:
    """Stream the parts into ``destination``, CSV or Parquet."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    writer = None
    try:
        for table in iter_part_tables(parts):
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(destination, schema) if kind == "parquet" else pacsv.CSVWriter(destination, schema)
            writer.write_table(table if table.schema == schema else table.cast(schema))
    finally:
        if writer is not None:
            writer.close()


def _write_frame(frame: pd.DataFrame, handle, kind: str) -> None:
    """Write ``frame`` to a binary file object as CSV or Parquet."""
    import io

    if kind == "parquet":
        frame.to_parquet(handle, index=False)
        return
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    frame.to_csv(text, index=False)
    text.flush()
    text.detach()


def write_parts_atomically(parts: Iterable[ScoredPart], path: Location) -> Location:
    """Stream the parts into ``path`` (CSV or Parquet by extension): a temporary file, then a rename (an
    object URI: one upload, published when complete)."""
    if is_uri(path):
        uri = str(check_output_path(path))
        with object_writer(uri) as handle:
            _write_parts(parts, handle, table_format(uri))
        return uri
    target = OutputTarget.for_path(check_output_path(path))
    target.write_parts(parts)
    return target.publish()
