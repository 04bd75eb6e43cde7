"""Reading tabular files with clear errors, their fingerprints, and the embedded default data set.

The one place both pipelines read a user's CSV or Parquet file: whole, in chunks, or (for large
inputs) a Parquet file's row groups and a CSV file's header; every reading failure becomes one
DataError naming the file. A file is a local path or an fsspec URI (``s3://...``, ``e2e_common.uris``):
an object is read through its filesystem, never copied to a local file first.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from e2e_common.errors import DataError
from e2e_common.files import check_column_names, check_readable_file, not_utf8, read_header, table_format
from e2e_common.uris import Location, is_uri, open_binary, storage_errors

DEFAULT_TARGET = "target"
DEFAULT_INFERENCE_FRACTION = 0.05
DEFAULT_INFERENCE_SEED = 42
FINGERPRINT_BLOCK_BYTES = 8 << 20
STREAM_BUFFER_BYTES = 1 << 20


def read_table(path: Location) -> pd.DataFrame:
    """Read a whole CSV or Parquet file, chosen by extension.

    Its header is checked first (``read_header``): a repeated or empty column name is a DataError,
    never a column that pandas renamed (``a.1``, ``Unnamed: 0``).
    """
    path = check_readable_file(path)
    read_header(path)
    frames = list(iter_table_chunks(path, chunk_size=None))
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise DataError(f"{path}: no rows to read")
    check_column_names(list(frame.columns), path)
    return frame


def iter_table_chunks(path: Location, chunk_size: int | None) -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV or Parquet file in chunks of at most ``chunk_size`` rows.

    ``chunk_size=None`` yields the whole file at once. Unreadable content raises DataError.
    """
    path = check_readable_file(path)
    kind = table_format(path)
    with storage_errors(path), reading_errors(path, kind):
        if kind == "csv":
            yield from _iter_csv(path, chunk_size)
        else:
            yield from _iter_parquet(path, chunk_size)


@contextlib.contextmanager
def reading_errors(path: Path | str, kind: str) -> Iterator[None]:
    """Turn a failure to read ``path`` as ``kind`` (csv or parquet) into one DataError naming it; a
    failure of the object store behind a URI into its own error (``e2e_common.uris.storage_error``)."""
    try:
        yield
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: {not_utf8(exc)}") from exc
    except Exception as exc:
        known = _storage_error(exc, path)
        if known is not None:
            raise known from exc
        # pyarrow raises its own error types for corrupt files
        if isinstance(exc, (ValueError, OSError, pd.errors.ParserError)) or type(exc).__module__.startswith("pyarrow"):
            raise DataError(f"{path}: cannot be read as {kind.upper()} ({_first_line(exc)})") from exc
        raise


def _storage_error(exc: Exception, path: Path | str):
    if not is_uri(path):
        return None
    from e2e_common.uris import storage_error

    return storage_error(exc, str(path))


def open_parquet(path: Path | str, streaming: bool = False):
    """A ``pyarrow.parquet.ParquetFile`` of a local file or an object (read through its filesystem:
    the footer first, then only the row groups asked for); ``streaming`` reads pages as needed instead
    of whole column chunks."""
    import pyarrow.parquet as pq

    with reading_errors(path, "parquet"):
        source = open_binary(path) if is_uri(path) else path
        if streaming:
            return pq.ParquetFile(source, pre_buffer=False, buffer_size=STREAM_BUFFER_BYTES)
        return pq.ParquetFile(source)


def _iter_csv(path: Location, chunk_size: int | None) -> Iterator[pd.DataFrame]:
    try:
        with open_binary(path) as handle:
            if chunk_size is None:
                # The whole file at once: one type per column (low_memory would infer it per block of
                # rows, and a column could hold numbers in some blocks and text in others).
                yield pd.read_csv(handle, low_memory=False)
                return
            with pd.read_csv(handle, chunksize=chunk_size) as reader:
                yield from reader
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file has no columns or rows") from exc


def _iter_parquet(path: Location, chunk_size: int | None) -> Iterator[pd.DataFrame]:
    parquet_file = open_parquet(path)
    if chunk_size is None:
        yield parquet_file.read().to_pandas()
        return
    for batch in parquet_file.iter_batches(batch_size=chunk_size):
        yield batch.to_pandas()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def file_fingerprint(path: Location, visit: Callable[[bytes], None] | None = None) -> str:
    """``sha256:<hex>`` of the file's (or object's) bytes, streamed; ``visit`` sees each block, for work
    done in the same pass."""
    digest = hashlib.sha256()
    with storage_errors(path), open_binary(path, block_size=FINGERPRINT_BLOCK_BYTES) as handle:
        while block := handle.read(FINGERPRINT_BLOCK_BYTES):
            digest.update(block)
            if visit is not None:
                visit(block)
    return f"sha256:{digest.hexdigest()}"


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """``sha256:<hex>`` of a DataFrame's column names, dtypes, index and values."""
    digest = hashlib.sha256(repr([(str(name), str(dtype)) for name, dtype in frame.dtypes.items()]).encode())
    try:
        hashed = pd.util.hash_pandas_object(frame, index=True)
    except TypeError:  # cells that cannot be hashed (lists, dicts, arrays): hashed as their text
        hashed = pd.util.hash_pandas_object(_unhashable_as_text(frame), index=True)
    digest.update(hashed.to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def _unhashable_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every object column as the text of its values (missing values kept)."""
    text = {
        index: column.map(repr, na_action="ignore") if column.dtype == object else column
        for index, (_, column) in enumerate(frame.items())
    }
    return pd.DataFrame(text, index=frame.index)


def load_default_dataset() -> pd.DataFrame:
    """scikit-learn's breast cancer data set (shipped with scikit-learn), target included."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def default_inference_index(frame: pd.DataFrame) -> pd.Index:
    """The rows of the default data set held out for inference: deterministic."""
    return frame.sample(frac=DEFAULT_INFERENCE_FRACTION, random_state=DEFAULT_INFERENCE_SEED).index


def default_training_data() -> pd.DataFrame:
    """The default data set minus the held-out inference slice."""
    frame = load_default_dataset()
    return frame.drop(index=default_inference_index(frame)).reset_index(drop=True)


def default_inference_data() -> pd.DataFrame:
    """The held-out slice of the default data set, target removed."""
    frame = load_default_dataset()
    held_out = frame.loc[default_inference_index(frame)].drop(columns=[DEFAULT_TARGET])
    return held_out.reset_index(drop=True)
