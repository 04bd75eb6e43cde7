"""Large inputs: recorded by reference, split into partitions, read in bounded chunks.

An input above the size threshold is not copied into the artifact store: its URI, size and
content fingerprint are recorded instead, and each scoring step reads its own partition of the
file in chunks of at most ``chunk_size`` rows, so memory stays bounded whatever the input size.

The input is a local file or an object (``s3://``, ``gs://``, ``az://``: ``e2e_common.uris``). A
Parquet object is never read whole: its footer gives the rows and row groups, its fingerprint comes
from the store's metadata (ETag), and each step reads its own row groups. A CSV object is streamed
once by the client (sha256 and line count, constant memory, nothing written to disk), which records
where its lines start (``line_index``), so each step reads only its own byte range.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from e2e_common.data import file_fingerprint, open_parquet, reading_errors
from e2e_common.files import read_header, table_format
from e2e_common.uris import Location, is_uri, location, object_fingerprint, open_binary, size_of

READ_BLOCK_BYTES = 8 << 20
SAMPLE_BLOCKS = 16
QUOTE = b'"'
NEWLINE = b"\n"
# Small reads (a header, the start of a line near an offset) fetch this much from an object store.
PROBE_BLOCK_BYTES = 1 << 16
# At most this many entries in a CSV's line index (newlines before evenly spaced offsets).
LINE_INDEX_ENTRIES = 1024


class InputReference(BaseModel):
    """Where an input is, how big it is and what it holds, instead of a copy of it."""

    model_config = ConfigDict(frozen=True)

    uri: str
    format: Literal["csv", "parquet"]
    size_bytes: int
    fingerprint: str
    rows: int
    columns: list[str]
    quoted: bool = False
    # CSV: newlines counted before each multiple of ``line_index_step`` bytes (``line_index[i]`` before
    # byte ``i * line_index_step``), so partitions are planned without reading the file again.
    line_index_step: int = 0
    line_index: list[int] = []

    @property
    def path(self) -> Location:
        """A local ``Path``, or the URI of an object."""
        return location(self.uri)

    def open(self, block_size: int = READ_BLOCK_BYTES):
        """A binary file object over the input (local or on object storage)."""
        return open_binary(self.path, block_size=block_size)


class Partition(BaseModel):
    """A contiguous part of an input that one scoring step reads: Parquet row groups or CSV bytes."""

    model_config = ConfigDict(frozen=True)

    index: int
    source: InputReference
    first_row: int
    rows: int
    row_groups: list[int] = []
    byte_start: int = 0
    byte_end: int = 0


def reference_input(path: Location) -> InputReference:
    """Fingerprint and count the rows of a CSV or Parquet file or object.

    Local files: sha256 of the bytes, in one pass that also counts a CSV's lines. Parquet objects:
    the footer and the store's metadata only (``object:`` fingerprint). CSV objects: one streamed pass.
    """
    path = location(path) if isinstance(path, str) else Path(path).resolve()
    kind = table_format(path)
    size = size_of(path)
    newlines = 0
    quoted = False
    step = _line_index_step(size)
    index: list[int] = []
    offset = 0

    def count_lines(block: bytes) -> None:
        nonlocal newlines, quoted, offset
        while len(index) * step < offset + len(block):
            index.append(newlines + block.count(NEWLINE, 0, len(index) * step - offset))
        newlines += block.count(NEWLINE)
        quoted = quoted or QUOTE in block
        offset += len(block)

    if kind == "parquet":
        fingerprint = object_fingerprint(str(path)) if is_uri(path) else file_fingerprint(path)
        metadata = open_parquet(path).metadata
        rows, columns = metadata.num_rows, list(metadata.schema.to_arrow_schema().names)
    else:
        fingerprint = file_fingerprint(path, count_lines)
        columns = read_header(path)
        rows = newlines - 1 + (0 if _ends_with_newline(path) else 1)
    return InputReference(
        uri=str(path),
        format=kind,
        size_bytes=size,
        fingerprint=fingerprint,
        rows=max(rows, 0),
        columns=columns,
        quoted=quoted,
        line_index_step=step if kind == "csv" else 0,
        line_index=index if kind == "csv" else [],
    )


def _line_index_step(size: int) -> int:
    """Bytes between two entries of a CSV's line index: at most ``LINE_INDEX_ENTRIES`` entries."""
    return max(1, -(-size // LINE_INDEX_ENTRIES))


def plan_partitions(source: InputReference, partitions: int) -> list[Partition]:
    """At most ``partitions`` contiguous partitions of about equal rows.

    Parquet splits at row-group boundaries; CSV at line boundaries, unless it has quoted fields
    (a quoted field may hold a newline), which are read as one partition.
    """
    if source.format == "parquet":
        return _parquet_partitions(source, partitions)
    if source.quoted or partitions <= 1:
        return [Partition(index=0, source=source, first_row=0, rows=source.rows, byte_end=source.size_bytes)]
    return _csv_partitions(source, partitions)


def iter_partition_chunks(partition: Partition, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The rows of a partition, in chunks of at most ``chunk_size`` rows."""
    source = partition.source
    with reading_errors(source.uri, source.format):
        if source.format == "parquet":
            parquet = open_parquet(source.path, streaming=True)
            for group in partition.row_groups:
                for batch in parquet.iter_batches(batch_size=chunk_size, row_groups=[group]):
                    yield batch.to_pandas()
            return
        yield from _csv_range_chunks(source, partition.byte_start, partition.byte_end, chunk_size)


def sample_input(source: InputReference, max_rows: int, seed: int = 0) -> pd.DataFrame:
    """A deterministic sample of at most ``max_rows`` rows, read from evenly spaced blocks.

    The cost depends on ``max_rows``, not on the input's size: only the sampled blocks are read.
    """
    with reading_errors(source.uri, source.format):
        frame = _parquet_sample(source, max_rows) if source.format == "parquet" else _csv_sample(source, max_rows)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed).sort_index()
    return frame.reset_index(drop=True)


def _parquet_partitions(source: InputReference, partitions: int) -> list[Partition]:
    metadata = open_parquet(source.path).metadata
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    total = max(sum(sizes), 1)
    count = max(1, min(partitions, len(sizes)))
    owner, start = [], 0
    for size in sizes:
        owner.append(min(count - 1, int((start + size / 2) / total * count)))
        start += size
    planned: list[Partition] = []
    first_row = 0
    for part in sorted(set(owner)):
        groups = [group for group, owned in enumerate(owner) if owned == part]
        rows = sum(sizes[group] for group in groups)
        planned.append(Partition(index=len(planned), source=source, first_row=first_row, rows=rows, row_groups=groups))
        first_row += rows
    return planned


def _parquet_sample(source: InputReference, max_rows: int) -> pd.DataFrame:
    parquet = open_parquet(source.path, streaming=True)
    groups = parquet.metadata.num_row_groups
    if groups == 0:
        return pd.DataFrame(columns=source.columns)
    picked = sorted({round(i * (groups - 1) / max(SAMPLE_BLOCKS - 1, 1)) for i in range(min(SAMPLE_BLOCKS, groups))})
    per_block = max(1, -(-max_rows // len(picked)))
    frames = []
    for group in picked:
        batches = parquet.iter_batches(batch_size=per_block, row_groups=[group])
        frames.append(next(batches).to_pandas())
    return pd.concat(frames, ignore_index=True)


def _ends_with_newline(path: Location) -> bool:
    with open_binary(path, block_size=PROBE_BLOCK_BYTES) as handle:
        handle.seek(-1, io.SEEK_END)
        return handle.read(1) == NEWLINE


def _header_end(path: Location) -> int:
    with open_binary(path, block_size=PROBE_BLOCK_BYTES) as handle:
        handle.readline()
        return handle.tell()


def _next_line_start(handle, offset: int) -> int:
    """The offset of the first line that starts at or after ``offset``."""
    if offset == 0:
        return 0
    handle.seek(offset - 1)
    handle.readline()
    return handle.tell()


def _csv_partitions(source: InputReference, partitions: int) -> list[Partition]:
    if source.line_index_step and source.line_index:
        return _indexed_csv_partitions(source, partitions)
    body_start = _header_end(source.path)
    span = source.size_bytes - body_start
    bounds = [body_start]
    with source.open(PROBE_BLOCK_BYTES) as handle:
        for i in range(1, partitions):
            bounds.append(max(bounds[-1], _next_line_start(handle, body_start + span * i // partitions)))
    bounds.append(source.size_bytes)
    planned: list[Partition] = []
    first_row = 0
    with source.open() as handle:
        for start, end in zip(bounds, bounds[1:], strict=False):
            if end <= start:
                continue
            rows = _count_lines(handle, start, end)
            planned.append(
                Partition(
                    index=len(planned), source=source, first_row=first_row, rows=rows, byte_start=start, byte_end=end
                )
            )
            first_row += rows
    return planned


def _indexed_csv_partitions(source: InputReference, partitions: int) -> list[Partition]:
    """Partitions starting at the first line at or after an offset of the line index: their rows follow
    from the index and one byte read at each bound, without reading the partitions themselves."""
    step, index = source.line_index_step, source.line_index
    body_start = _header_end(source.path)
    # (offset of a line start, newlines before it): the body's start, then one per chosen index entry.
    bounds = [(body_start, 1)]
    with source.open(PROBE_BLOCK_BYTES) as handle:
        for i in range(1, partitions):
            entry = min(len(index) - 1, round(source.size_bytes * i / partitions / step))
            offset = entry * step
            if offset <= bounds[-1][0]:
                continue
            start = _next_line_start(handle, offset)
            if start >= source.size_bytes:
                break
            handle.seek(offset - 1)
            before = index[entry] + (0 if handle.read(1) == NEWLINE else 1)
            bounds.append((start, before))
    planned: list[Partition] = []
    ends = [*bounds[1:], (source.size_bytes, None)]
    for (start, before), (end, after) in zip(bounds, ends, strict=True):
        if end <= start:
            continue
        first_row = before - 1
        rows = (after - 1 if after is not None else source.rows) - first_row
        planned.append(
            Partition(index=len(planned), source=source, first_row=first_row, rows=rows, byte_start=start, byte_end=end)
        )
    return planned


def _count_lines(handle, start: int, end: int) -> int:
    handle.seek(start)
    lines, remaining, last = 0, end - start, b""
    while remaining > 0:
        block = handle.read(min(READ_BLOCK_BYTES, remaining))
        if not block:
            break
        lines += block.count(NEWLINE)
        remaining -= len(block)
        last = block[-1:]
    return lines + (0 if last == NEWLINE or end == start else 1)


class _ByteRange(io.RawIOBase):
    """A read-only view of ``[start, end)`` of a file."""

    def __init__(self, path: Location, start: int, end: int) -> None:
        self._handle = open_binary(path, block_size=READ_BLOCK_BYTES)
        self._handle.seek(start)
        self._remaining = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._remaining <= 0:
            return 0
        data = self._handle.read(min(len(buffer), self._remaining))
        buffer[: len(data)] = data
        self._remaining -= len(data)
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


def _csv_range_chunks(source: InputReference, start: int, end: int, chunk_size: int) -> Iterator[pd.DataFrame]:
    body_start = _header_end(source.path)
    start = max(start, body_start)
    if end <= start:
        return
    with io.BufferedReader(_ByteRange(source.path, start, end), buffer_size=READ_BLOCK_BYTES) as view:
        reader = pd.read_csv(view, header=None, names=source.columns, chunksize=chunk_size)
        with reader:
            yield from reader


def _csv_sample(source: InputReference, max_rows: int) -> pd.DataFrame:
    if source.quoted or source.rows <= max_rows:
        with source.open() as handle:
            return pd.read_csv(handle, nrows=max_rows)
    body_start = _header_end(source.path)
    span = source.size_bytes - body_start
    per_block = max(1, -(-max_rows // SAMPLE_BLOCKS))
    frames = []
    with source.open(PROBE_BLOCK_BYTES) as handle:
        for i in range(SAMPLE_BLOCKS):
            start = _next_line_start(handle, body_start + span * i // SAMPLE_BLOCKS)
            if start >= source.size_bytes:
                continue
            with io.BufferedReader(_ByteRange(source.path, start, source.size_bytes)) as view:
                frames.append(pd.read_csv(view, header=None, names=source.columns, nrows=per_block))
    return pd.concat(frames, ignore_index=True)
