"""Incremental state: the state as of D is the latest committed state before D plus the ingest
partitions in (that day, D]; without a usable earlier state (the first analytics day of a
backfill) it is rebuilt from every partition <= D. Both give the same tables (tested).

Analytics days need not be consecutive (month-ends), so "D-1" is the latest state before D.
Between analytics days this keeps, under `<warehouse>/_state/` (a `_` folder, not a table):
- `<entity>/date=D/part-0.parquet`: the entity's tombstones as of D (latest versions that are
  deletions, in the entity's schema), so a later re-send of an older version cannot revive them;
- `manifest/date=D/manifest.json`, written last, after the state partitions (the commit marker):
  the signature (size, mtime, inode on disk; size, ETag, last-modified on an object store, see
  `storage.fs.signature`) of every input partition the state covers and of every
  state partition written, and the code version of the rule.
A base is used only if its manifest still matches the warehouse: a re-ingested or newly written
earlier partition (a blocked day fixed and re-run), a replaced or missing state file, or a new
code version makes it stale, and the state is rebuilt instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from assets.state_logic import (
    LANDING_DAY,
    advance_history,
    advance_latest,
    build_opportunity_history,
    conflicting_ties,
    new_conflicting_ties,
    split_latest,
    tie_content,
)
from sales_pipeline.core import warehouse
from schemas import ENTITIES, TABLES, state_table_name

HISTORY = "opportunity_history"
STATE_ASSETS = [*(state_table_name(e) for e in ENTITIES), HISTORY]
STATE_CODE_VERSION = "2"
"""Version of the upsert rule and history semantics: a state built by another version is not a base."""
STORE = "_state"
MANIFEST = "manifest.json"


@dataclass
class StateBuild:
    """The state as of `day`: tables (entity and `opportunity_history`), tombstones, and the
    signatures of the input partitions they cover."""

    day: date
    tables: dict[str, pd.DataFrame]
    tombstones: dict[str, pd.DataFrame]
    inputs: dict[str, dict[str, str]]
    base: date | None
    """The earlier state it was advanced from; None when rebuilt from every partition."""
    note: str
    increment_partitions: int
    ties: dict[str, int] = field(default_factory=dict)
    """entity -> versions tied on updated_at across landing days with different content, among
    the partitions this build read (all <= D when rebuilt, else those since the base)."""


def _store(root: warehouse.Root) -> warehouse.Root:
    return warehouse.as_root(root) / STORE


def input_signatures(root: warehouse.Root, end: date) -> dict[str, dict[str, str]]:
    """entity -> {landing day: signature} of every clean partition <= end."""
    return {e: warehouse.partition_signatures(root, e, end=end) for e in ENTITIES}


def rebuild(root: warehouse.Root, day: date, inputs: dict, note: str) -> StateBuild:
    """The state as of `day` from every clean partition <= day (the contract's definition)."""
    tables: dict[str, pd.DataFrame] = {}
    tombstones: dict[str, pd.DataFrame] = {}
    ties: dict[str, int] = {}
    for entity in ENTITIES:
        records = warehouse.read_window(root, entity, end=day, day_column=LANDING_DAY)
        ties[entity] = conflicting_ties(records, TABLES[entity].primary_key, tie_content(entity))
        if entity == "opportunities":
            tables[HISTORY] = build_opportunity_history(records)
        tables[entity], tombstones[entity] = split_latest(records, entity)
    parts = sum(len(v) for v in inputs.values())
    return StateBuild(day, tables, tombstones, inputs, None, note, parts, ties)


def build_state_tables(root: warehouse.Root, day: date) -> dict[str, pd.DataFrame]:
    """Every entity's state as of `day` and the opportunity history, from partitions <= day."""
    return rebuild(root, day, input_signatures(root, day), "rebuilt").tables


def find_base(
    root: warehouse.Root, day: date, inputs: dict[str, dict[str, str]]
) -> tuple[date | None, str]:
    """The latest committed state before `day` that still matches the warehouse, or (None, why)."""
    committed = warehouse.list_partitions(_store(root), "manifest", file=MANIFEST)
    earlier = [d for d in committed if d < day.isoformat()]
    if not earlier:
        return None, "rebuilt: no earlier state"
    base = date.fromisoformat(earlier[-1])
    manifest = json.loads(
        warehouse.read_bytes(warehouse.partition_dir(_store(root), "manifest", base) / MANIFEST)
    )
    if manifest.get("code_version") != STATE_CODE_VERSION:
        return None, f"rebuilt: the state of {base} was built by another code version"
    for table, signature in manifest["outputs"].items():
        if (
            warehouse.partition_signature(_store(root) if table in ENTITIES else root, table, base)
            != signature
        ):
            return None, f"rebuilt: {table} of {base} was replaced or removed"
    for entity in ENTITIES:
        covered = {d: s for d, s in inputs[entity].items() if d <= base.isoformat()}
        if covered != manifest["inputs"].get(entity):
            return None, f"rebuilt: {entity} partitions up to {base} changed since its state"
    return base, f"advanced from {base}"


def incremental_state(root: warehouse.Root, day: date) -> StateBuild:
    """The state as of `day`: advanced from the latest usable state before it, else rebuilt."""
    inputs = input_signatures(root, day)  # before reading, so a later rewrite shows as a change
    base, note = find_base(root, day, inputs)
    if base is None:
        return rebuild(root, day, inputs, note)
    start = base + timedelta(days=1)
    tables: dict[str, pd.DataFrame] = {}
    tombstones: dict[str, pd.DataFrame] = {}
    ties: dict[str, int] = {}
    for entity in ENTITIES:
        increment = warehouse.read_window(
            root, entity, start=start, end=day, day_column=LANDING_DAY
        )
        state = warehouse.read_partition(root, state_table_name(entity), base)
        deleted = warehouse.read_partition(_store(root), entity, base)
        previous = pd.concat([state, deleted], ignore_index=True)
        if entity == "opportunities":
            history = warehouse.read_partition(root, HISTORY, base)
            tables[HISTORY] = advance_history(history, increment)
            # Every version kept so far, not only the latest: a tie with any of them loses history.
            previous = history.assign(updated_at=history["valid_from"])
        ties[entity] = new_conflicting_ties(previous, increment, entity)
        tables[entity], tombstones[entity] = advance_latest(state, deleted, increment, entity)
    parts = sum(sum(1 for d in v if d >= start.isoformat()) for v in inputs.values())
    return StateBuild(day, tables, tombstones, inputs, base, note, parts, ties)


def commit(root: warehouse.Root, build: StateBuild) -> None:
    """Keep the tombstones and write the manifest; call after the state partitions are written."""
    for entity, frame in build.tombstones.items():
        warehouse.write_partition(_store(root), entity, build.day, frame)
    outputs = {name: warehouse.partition_signature(root, name, build.day) for name in STATE_ASSETS}
    outputs |= {e: warehouse.partition_signature(_store(root), e, build.day) for e in ENTITIES}
    manifest = {
        "code_version": STATE_CODE_VERSION,
        "day": build.day.isoformat(),
        "base": build.base.isoformat() if build.base else None,
        "outputs": outputs,
        "inputs": build.inputs,
    }
    target = warehouse.partition_dir(_store(root), "manifest", build.day) / MANIFEST
    warehouse.write_bytes(target, json.dumps(manifest, sort_keys=True).encode("utf-8"))
