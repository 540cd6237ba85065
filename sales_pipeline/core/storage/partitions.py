"""Hive partition I/O: `<root>/<table>/date=YYYY-MM-DD/part-0.parquet`, on disk or an object store.

Each partition is exactly one file, written whole and swapped in atomically (`fs.write_bytes`'s
rules: temporary file + fsync + `os.replace` on disk, one PUT on an object store), so a reader
sees the old partition or the new one, never half of either. Windowed reads go through one
`pyarrow.dataset` filter (fsspec through `pyarrow.fs.FSSpecHandler` for a remote root).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sales_pipeline.core.storage import fs
from sales_pipeline.core.storage.read_cache import CACHE
from schemas import TABLES, from_arrow, to_arrow

PARTITION_FIELD = "date"
PART_FILE = "part-0.parquet"
_PARTITIONING = ds.partitioning(pa.schema([(PARTITION_FIELD, pa.string())]), flavor="hive")
_PREFIX = f"{PARTITION_FIELD}="

RootLike = str | os.PathLike | fs.Root


def day_text(day: str | date) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)


def partition_dir(root: RootLike, table: str, day: str | date) -> fs.Root:
    return fs.as_root(root) / table / f"{_PREFIX}{day_text(day)}"


def partition_path(root: RootLike, table: str, day: str | date) -> fs.Root:
    return partition_dir(root, table, day) / PART_FILE


class WarehouseWriteError(OSError):
    """A partition could not be written or swapped in; the message names its path."""


@dataclass(frozen=True)
class StagedPartition:
    """A partition written but not yet visible: a durable temporary file next to its target on
    disk, the serialised bytes for an object store (`tmp` is None, `payload` set)."""

    table: str
    day: str
    target: fs.Root
    tmp: fs.Root | None
    rows: int
    payload: bytes | None = None


@dataclass(frozen=True)
class Committed:
    """Partitions already swapped in (an IO manager output that has nothing left to write)."""

    table: str
    paths: tuple[fs.Root, ...]
    rows: int


def stage_partition(
    root: RootLike, table: str, day: str | date, frame: pd.DataFrame
) -> StagedPartition:
    """Cast `frame` to the table's Arrow schema and write it where the swap will take it from:
    an fsynced temporary file in the partition folder (same filesystem, so the swap is a rename;
    its name starts with '.', which pyarrow datasets and DuckDB globs ignore), or memory for an
    object store. On failure nothing is left behind."""
    data = to_arrow(frame, TABLES[table])
    target = partition_path(root, table, day)
    if fs.is_remote(target):
        sink = pa.BufferOutputStream()
        pq.write_table(data, sink, compression="zstd")
        return StagedPartition(
            table, day_text(day), target, None, len(frame), sink.getvalue().to_pybytes()
        )
    tmp = target.parent / f".{PART_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            pq.write_table(data, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WarehouseWriteError(f"cannot write {target}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StagedPartition(table, day_text(day), target, tmp, len(frame))


def discard(staged: list[StagedPartition]) -> None:
    for part in staged:
        if part.tmp is not None:
            part.tmp.unlink(missing_ok=True)


def commit(staged: list[StagedPartition]) -> list[fs.Root]:
    """Swap every staged partition in, all or none on disk: each replaced partition is kept as a
    hard link until the last swap succeeded, and put back if any swap fails. (A crash between two
    renames can still leave some swapped; every partition is whole either way.) On an object
    store each partition is one PUT, atomic per object; several objects are not one change."""
    remote = [part for part in staged if part.tmp is None]
    for part in remote:
        fs.write_bytes(part.target, part.payload or b"")
    local = [part for part in staged if part.tmp is not None]
    kept: list[tuple[fs.Root, fs.Root | None]] = []
    current = None
    try:
        for part in local:
            current = part.target
            backup = None
            if part.target.exists():
                backup = part.target.with_name(f".{PART_FILE}.{uuid.uuid4().hex}.bak")
                os.link(part.target, backup)
            kept.append((part.target, backup))
            os.replace(part.tmp, part.target)
    except OSError as exc:
        for target, backup in reversed(kept):
            if backup is not None:
                # Renaming a hard link onto its twin is a no-op that keeps both names.
                os.replace(backup, target)
                backup.unlink(missing_ok=True)
            else:
                target.unlink(missing_ok=True)
        discard(local)
        raise WarehouseWriteError(f"cannot swap in {current}: {exc}") from exc
    for folder in {part.target.parent for part in local}:
        fs.fsync_dir(folder)
    for _, backup in kept:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [part.target for part in staged]


def write_partitions(
    root: RootLike, frames: list[tuple[str, str | date, pd.DataFrame]]
) -> list[StagedPartition]:
    """Write several partitions as one change: stage every one, then swap them all in. If any
    write fails, no partition changes and the error names the path."""
    staged: list[StagedPartition] = []
    try:
        for table, day, frame in frames:
            staged.append(stage_partition(root, table, day, frame))
    except BaseException:
        discard(staged)
        raise
    commit(staged)
    return staged


def write_partition(root: RootLike, table: str, day: str | date, frame: pd.DataFrame) -> fs.Root:
    """One partition, swapped in atomically; returns its path. A reader sees the old file or the
    new one, never half of either; on failure the previous partition is untouched."""
    (part,) = write_partitions(root, [(table, day, frame)])
    return part.target


def read_partition(root: RootLike, table: str, day: str | date) -> pd.DataFrame:
    """One partition as a conformed frame; FileNotFoundError names the missing partition."""
    path = partition_path(root, table, day)
    missing = FileNotFoundError(
        f"{table}: partition {day_text(day)} has not been materialised ({path})"
    )
    if fs.is_remote(path):
        try:
            payload = path.read_bytes()
        except FileNotFoundError:
            raise missing from None
        return from_arrow(pq.read_table(pa.BufferReader(payload)), TABLES[table])
    if not path.is_file():
        raise missing
    return from_arrow(pq.read_table(path), TABLES[table])


def has_partition(root: RootLike, table: str, day: str | date) -> bool:
    return fs.is_file(partition_path(root, table, day))


def partition_signature(root: RootLike, table: str, day: str | date) -> str | None:
    """The partition file's signature (None if absent): an atomic replace changes it."""
    return fs.signature(partition_path(root, table, day))


def partition_signatures(root: RootLike, table: str, *, end: str | date) -> dict[str, str]:
    """{day: signature} of every partition of `table` up to `end` (metadata only, no reads)."""
    last = day_text(end)
    base = fs.as_root(root) / table
    if fs.is_remote(base):
        return {
            day: fs.remote_signature(info)
            for day, info in _remote_partitions(base, PART_FILE).items()
            if day <= last
        }
    out = {}
    for day in list_partitions(root, table):
        if day <= last and (signature := partition_signature(root, table, day)):
            out[day] = signature
    return out


def list_partitions(root: RootLike, table: str, file: str = PART_FILE) -> list[str]:
    """The days of `table` whose folder holds `file`, sorted."""
    base = fs.as_root(root) / table
    if fs.is_remote(base):
        return sorted(_remote_partitions(base, file))
    if not base.is_dir():
        return []
    return sorted(
        p.name[len(_PREFIX) :]
        for p in base.iterdir()
        if p.name.startswith(_PREFIX) and (p / file).is_file()
    )


def _remote_partitions(base: fs.UPath, file: str) -> dict[str, dict]:
    """{day: object info} of `<base>/date=D/<file>`, from one listing."""
    out = {}
    for name, info in fs.remote_files(base).items():
        folder, _, leaf = name.partition("/")
        if leaf == file and folder.startswith(_PREFIX):
            out[folder[len(_PREFIX) :]] = info
    return out


def read_window(
    root: RootLike,
    table: str,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    columns: list[str] | None = None,
    day_column: str | None = None,
    missing_ok: bool = False,
) -> pd.DataFrame:
    """Rows of every partition with start <= day <= end through one dataset filter.

    Only the matching partition files are opened. `day_column`, if given, receives the
    partition day (datetime64[s]) of each row. A table that was never written is an error
    naming its folder (a mis-set root must not read as "no data"), unless the caller says it
    may legitimately be absent (`missing_ok`, e.g. fx rates before the first day).
    """
    spec = TABLES[table]
    base = fs.as_root(root) / table
    wanted = spec.column_names if columns is None else columns
    schema = pa.schema([*spec.arrow_schema(), pa.field(PARTITION_FIELD, pa.string())])
    if fs.is_remote(base):
        listed = _remote_partitions(base, PART_FILE)
        exists = bool(listed) or bool(fs.remote_files(base))
        if exists:
            filesystem, path = fs.arrow_filesystem(base)
            dataset = ds.dataset(
                [f"{path}/{_PREFIX}{day}/{PART_FILE}" for day in sorted(listed)],
                format="parquet",
                filesystem=filesystem,
                partitioning=_PARTITIONING,
                partition_base_dir=path,
                schema=schema,
            )
    else:
        exists = base.is_dir()
        if exists:
            dataset = ds.dataset(base, format="parquet", partitioning=_PARTITIONING, schema=schema)
    if not exists:
        if not missing_ok:
            raise FileNotFoundError(
                f"{table}: no such table in the warehouse ({base} does not exist)"
            )
        return _empty(spec, wanted, day_column)
    expr = None
    if start is not None:
        expr = ds.field(PARTITION_FIELD) >= day_text(start)
    if end is not None:
        upper = ds.field(PARTITION_FIELD) <= day_text(end)
        expr = upper if expr is None else expr & upper
    parts = []
    for fragment in dataset.get_fragments(filter=expr):
        day = _fragment_day(fragment.path)
        if fs.is_remote(base):
            info = listed[day]
            part = _read_remote_fragment(base, fragment.path, info).select(wanted)
        else:
            part = _read_fragment(fragment.path).select(wanted)
        if day_column:
            days = pa.repeat(pa.scalar(day, pa.string()), part.num_rows)
            part = part.append_column(PARTITION_FIELD, days)
        parts.append(part)
    if not parts:
        return _empty(spec, wanted, day_column)
    data = pa.concat_tables(parts)
    frame = from_arrow(data.select(wanted), _subset(spec, wanted))
    if day_column:
        days = data.column(PARTITION_FIELD).to_pandas()
        frame[day_column] = pd.to_datetime(days.to_numpy(), format="%Y-%m-%d").astype(
            "datetime64[s]"
        )
    return frame


def _empty(spec, wanted: list[str], day_column: str | None) -> pd.DataFrame:
    empty = spec.empty_frame()[wanted]
    return empty.assign(**{day_column: pd.Series(dtype="datetime64[s]")}) if day_column else empty


def _read_fragment(path: str) -> pa.Table:
    stat = os.stat(path)
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return CACHE.get(key, lambda: pq.read_table(path))


def _read_remote_fragment(base: fs.UPath, path: str, info: dict) -> pa.Table:
    # The signature comes from the listing that found the file: no extra request per partition.
    key = (base.protocol, path, fs.remote_signature(info))
    return CACHE.get(key, lambda: pq.read_table(pa.BufferReader(base.fs.cat_file(path))))


def _fragment_day(path: str) -> str:
    folder = path.rstrip("/").rsplit("/", 2)[-2]
    return folder.split("=", 1)[1]


def _subset(spec, columns: list[str]):
    if columns == spec.column_names:
        return spec
    return replace(spec, columns=tuple(spec.column(c) for c in columns))
