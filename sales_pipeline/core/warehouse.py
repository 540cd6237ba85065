"""The Parquet warehouse on disk: `<root>/<table>/date=YYYY-MM-DD/part-0.parquet`.

Only persistence lives here: atomic partition writes and windowed reads through `pyarrow.dataset`.
Each partition is exactly one file, so swapping it in is one `os.replace`, which is atomic on a
POSIX filesystem: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas import TABLES, from_arrow, to_arrow

PARTITION_FIELD = "date"
PART_FILE = "part-0.parquet"
_PARTITIONING = ds.partitioning(pa.schema([(PARTITION_FIELD, pa.string())]), flavor="hive")


def partition_dir(root: Path, table: str, day: str | date) -> Path:
    return Path(root) / table / f"{PARTITION_FIELD}={_day(day)}"


def partition_path(root: Path, table: str, day: str | date) -> Path:
    return partition_dir(root, table, day) / PART_FILE


class WarehouseWriteError(OSError):
    """A partition could not be written or swapped in; the message names its path."""


@dataclass(frozen=True)
class StagedPartition:
    """A partition written to a durable temporary file next to its target, not yet visible."""

    table: str
    day: str
    target: Path
    tmp: Path
    rows: int


@dataclass(frozen=True)
class Committed:
    """Partitions already swapped in (an IO manager output that has nothing left to write)."""

    table: str
    paths: tuple[Path, ...]
    rows: int


def stage_partition(
    root: Path, table: str, day: str | date, frame: pd.DataFrame
) -> StagedPartition:
    """Cast `frame` to the table's Arrow schema and write it to an fsynced temporary file in the
    partition folder (same filesystem, so the swap is a rename). The temporary name starts with
    '.', which pyarrow datasets and DuckDB globs ignore. On failure nothing is left behind."""
    data = to_arrow(frame, TABLES[table])
    target = partition_path(root, table, day)
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
    return StagedPartition(table, _day(day), target, tmp, len(frame))


def discard(staged: list[StagedPartition]) -> None:
    for part in staged:
        part.tmp.unlink(missing_ok=True)


def commit(staged: list[StagedPartition]) -> list[Path]:
    """Swap every staged partition in, all or none: each replaced partition is kept as a hard
    link until the last swap succeeded, and put back if any swap fails. (A crash between two
    renames can still leave some swapped; every partition is whole either way.)"""
    kept: list[tuple[Path, Path | None]] = []
    current = None
    try:
        for part in staged:
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
        discard(staged)
        raise WarehouseWriteError(f"cannot swap in {current}: {exc}") from exc
    for folder in {part.target.parent for part in staged}:
        _fsync_dir(folder)
    for _, backup in kept:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [part.target for part in staged]


def write_partitions(
    root: Path, frames: list[tuple[str, str | date, pd.DataFrame]]
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


def write_partition(root: Path, table: str, day: str | date, frame: pd.DataFrame) -> Path:
    """One partition, swapped in atomically; returns its path. A reader sees the old file or the
    new one, never half of either; on failure the previous partition is untouched."""
    (part,) = write_partitions(root, [(table, day, frame)])
    return part.target


def _fsync_dir(path: Path) -> None:
    # Make the rename itself durable, not only the file contents.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_partition(root: Path, table: str, day: str | date) -> pd.DataFrame:
    """One partition as a conformed frame; FileNotFoundError names the missing partition."""
    path = partition_path(root, table, day)
    if not path.is_file():
        raise FileNotFoundError(
            f"{table}: partition {_day(day)} has not been materialised ({path})"
        )
    return from_arrow(pq.read_table(path), TABLES[table])


def has_partition(root: Path, table: str, day: str | date) -> bool:
    return partition_path(root, table, day).is_file()


def partition_signature(root: Path, table: str, day: str | date) -> str | None:
    """Size, mtime and inode of a partition file (None if absent): an atomic replace changes it."""
    try:
        stat = os.stat(partition_path(root, table, day))
    except FileNotFoundError:
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"


def partition_signatures(root: Path, table: str, *, end: str | date) -> dict[str, str]:
    """{day: signature} of every partition of `table` up to `end` (stat calls, no reads)."""
    out = {}
    for day in list_partitions(root, table):
        if day <= _day(end) and (signature := partition_signature(root, table, day)):
            out[day] = signature
    return out


def list_partitions(root: Path, table: str, file: str = PART_FILE) -> list[str]:
    base = Path(root) / table
    if not base.is_dir():
        return []
    prefix = f"{PARTITION_FIELD}="
    return sorted(
        p.name[len(prefix) :]
        for p in base.iterdir()
        if p.name.startswith(prefix) and (p / file).is_file()
    )


def read_window(
    root: Path,
    table: str,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    columns: list[str] | None = None,
    day_column: str | None = None,
    missing_ok: bool = False,
) -> pd.DataFrame:
    """Rows of every partition with start <= day <= end through one dataset filter.

    Only the matching partition folders are opened. `day_column`, if given, receives the
    partition day (datetime64[s]) of each row. A table that was never written is an error
    naming its folder (a mis-set root must not read as "no data"), unless the caller says it
    may legitimately be absent (`missing_ok`, e.g. fx rates before the first day).
    """
    spec = TABLES[table]
    base = Path(root) / table
    wanted = spec.column_names if columns is None else columns
    if not base.is_dir():
        if not missing_ok:
            raise FileNotFoundError(
                f"{table}: no such table in the warehouse ({base} does not exist)"
            )
        empty = spec.empty_frame()[wanted]
        return (
            empty.assign(**{day_column: pd.Series(dtype="datetime64[s]")}) if day_column else empty
        )
    schema = pa.schema([*spec.arrow_schema(), pa.field(PARTITION_FIELD, pa.string())])
    dataset = ds.dataset(base, format="parquet", partitioning=_PARTITIONING, schema=schema)
    expr = None
    if start is not None:
        expr = ds.field(PARTITION_FIELD) >= _day(start)
    if end is not None:
        upper = ds.field(PARTITION_FIELD) <= _day(end)
        expr = upper if expr is None else expr & upper
    parts = []
    for fragment in dataset.get_fragments(filter=expr):
        part = _read_fragment(fragment.path).select(wanted)
        if day_column:
            day = pa.repeat(pa.scalar(_fragment_day(fragment.path), pa.string()), part.num_rows)
            part = part.append_column(PARTITION_FIELD, day)
        parts.append(part)
    if not parts:
        empty = spec.empty_frame()[wanted]
        return (
            empty.assign(**{day_column: pd.Series(dtype="datetime64[s]")}) if day_column else empty
        )
    data = pa.concat_tables(parts)
    frame = from_arrow(data.select(wanted), _subset(spec, wanted))
    if day_column:
        days = data.column(PARTITION_FIELD).to_pandas()
        frame[day_column] = pd.to_datetime(days.to_numpy(), format="%Y-%m-%d").astype(
            "datetime64[s]"
        )
    return frame


# Partition files are immutable until replaced (which changes inode and mtime), so a long-lived
# process (a CLI backfill, a code server) can keep the ones it read: reading "every partition up to
# D" day after day would otherwise cost O(days^2) file reads over a backfill.
_CACHE: OrderedDict[tuple, pa.Table] = OrderedDict()
_CACHE_LIMIT_BYTES = 512 * 1024 * 1024
_cache_bytes = 0


def _read_fragment(path: str) -> pa.Table:
    global _cache_bytes
    stat = os.stat(path)
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    data = pq.read_table(path)
    _CACHE[key] = data
    _cache_bytes += data.nbytes
    while _cache_bytes > _CACHE_LIMIT_BYTES and len(_CACHE) > 1:
        _, evicted = _CACHE.popitem(last=False)
        _cache_bytes -= evicted.nbytes
    return data


def _fragment_day(path: str) -> str:
    folder = Path(path).parent.name
    return folder.split("=", 1)[1]


def _subset(spec, columns: list[str]):
    from dataclasses import replace

    if columns == spec.column_names:
        return spec
    return replace(spec, columns=tuple(spec.column(c) for c in columns))


def _day(day: str | date) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)


def write_bytes(target: Path, payload: bytes) -> Path:
    """Write a small file (a manifest, a chart) atomically: temporary file, fsync, rename."""
    return _atomic_write_bytes(target, payload)


def _atomic_write_bytes(target: Path, payload: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_chart(root: Path, table: str, day: str | date, name: str, png: bytes) -> Path:
    """`<root>/_charts/<table>/date=D/<name>.png`: '_' folders are not tables, so BI globs skip them."""
    return _atomic_write_bytes(
        Path(root) / "_charts" / table / f"{PARTITION_FIELD}={_day(day)}" / f"{name}.png", png
    )


class JsonCache(dict):
    """A small memo (e.g. chosen forecast orders) persisted as JSON under `<root>/_cache/`.

    It only memoises deterministic results, so losing it changes speed, never output.
    """

    def __init__(self, root: Path, name: str) -> None:
        import json

        self.path = Path(root) / "_cache" / f"{name}.json"
        data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
        super().__init__(data)

    def save(self) -> None:
        import json

        _atomic_write_bytes(
            self.path, json.dumps(dict(sorted(self.items())), indent=0).encode("utf-8")
        )


class ModelFiles:
    """Fitted models under `<root>/_models/<name>/<key>.npz`: named numpy arrays plus their JSON
    metadata (stored as UTF-8 bytes in the `__meta__` array), read with `allow_pickle=False`.

    Keys name the refit Monday and hash the parameters and caps (`training.fitted_model`), not
    the data: a key is written once per week. Losing the folder costs a refit on the data cut at
    that Monday as it is now, so data dated <= Monday that landed later in the week can then
    change the week's remaining outputs (a rerun with the folder intact is byte-identical).
    """

    META = "__meta__"

    def __init__(self, root: Path) -> None:
        self.base = Path(root) / "_models"

    def _path(self, name: str, key: str) -> Path:
        return self.base / name / f"{key}.npz"

    def get(self, name: str, key: str):
        import json

        import numpy as np

        path = self._path(name, key)
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != self.META}
            meta = json.loads(bytes(data[self.META]).decode("utf-8"))
        return meta, arrays

    def put(self, name: str, key: str, model) -> None:
        import io
        import json

        import numpy as np

        meta, arrays = model
        buffer = io.BytesIO()
        text = json.dumps(meta, sort_keys=True, default=str).encode("utf-8")
        np.savez_compressed(
            buffer,
            **{self.META: np.frombuffer(text, dtype=np.uint8)},
            **dict(sorted(arrays.items())),
        )
        _atomic_write_bytes(self._path(name, key), buffer.getvalue())
