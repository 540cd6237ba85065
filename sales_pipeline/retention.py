"""Retention: which analytics and quarantine partitions and which instance runs to delete.

The choices are pure functions of what exists and of the as-of day (unit-tested); `plan` reads
the warehouse and the instance, `apply` deletes. Rules:

- **Analytics** (state, segments, forecasts, churn and KPI tables, and their charts): keep the
  last `analytics_days` days, plus the last partition of every calendar month (the month-end
  when it was built), so month-over-month history survives.
- **Quarantine**: keep the last `quarantine_days` days.
- **Every table**: its latest partition (the current one, which the next day's state builds
  on) is never deleted, however old.
- **Temporaries**: writer temporaries a killed run left (`.*.<hex>.tmp`, `.*.<hex>.bak`) once
  older than an hour (`core/storage/sweep.py`; `sales-pipeline run` sweeps them as it starts too).
- **Runs**: finished runs (success, failure, canceled) created more than `run_days` days ago
  are deleted from the instance with their event logs (`DagsterInstance.delete_run`); queued
  and in-flight runs never are.

Clean ingest tables and `ingest_audit` are the source of every state: they are never touched.
Deleting a partition folder is refused unless it is a real folder (no symlink, at any level)
inside the warehouse root.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from sales_pipeline.core.storage import sweep
from sales_pipeline.jobs import ANALYTICS_GROUPS

QUARANTINE_TABLE = "quarantine"
CHARTS_DIR = "_charts"
PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
FINISHED = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
)
DEFAULT_ANALYTICS_DAYS = 90
DEFAULT_QUARANTINE_DAYS = 90
DEFAULT_RUN_DAYS = 90


@dataclass(frozen=True)
class Policy:
    analytics_days: int = DEFAULT_ANALYTICS_DAYS
    quarantine_days: int = DEFAULT_QUARANTINE_DAYS
    run_days: int = DEFAULT_RUN_DAYS

    def __post_init__(self) -> None:
        for name in ("analytics_days", "quarantine_days", "run_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")


# --- pure choices -----------------------------------------------------------------------


def analytics_partitions_to_delete(days: Iterable[date], today: date, keep_days: int) -> list[date]:
    """Days older than the window, except each month's last partition and the latest one."""
    days = sorted(set(days))
    if not days:
        return []
    cutoff = today - timedelta(days=keep_days)
    month_last: dict[tuple[int, int], date] = {}
    for day in days:
        month_last[(day.year, day.month)] = day  # sorted: the last one wins
    keep = set(month_last.values()) | {days[-1]}
    return [d for d in days if d <= cutoff and d not in keep]


def window_partitions_to_delete(days: Iterable[date], today: date, keep_days: int) -> list[date]:
    """Days older than the window, except the latest one."""
    days = sorted(set(days))
    if not days:
        return []
    cutoff = today - timedelta(days=keep_days)
    return [d for d in days[:-1] if d <= cutoff]


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: dg.DagsterRunStatus
    created: datetime


def runs_to_delete(runs: Iterable[RunInfo], now: datetime, keep_days: int) -> list[str]:
    """Finished runs created more than `keep_days` before `now`."""
    cutoff = now - timedelta(days=keep_days)
    return [r.run_id for r in runs if r.status in FINISHED and r.created < cutoff]


# --- reading what exists, deleting safely -----------------------------------------------


@dataclass
class Plan:
    partitions: list[Path] = field(default_factory=list)  # folders under the warehouse root
    runs: list[str] = field(default_factory=list)
    temporaries: list[Path] = field(default_factory=list)  # writers' leftovers (sweep.py)
    skipped: list[str] = field(default_factory=list)  # refused, with the reason


def analytics_tables() -> list[str]:
    """The warehouse tables of the analytics groups, from the asset graph itself."""
    from sales_pipeline.definitions import build_defs

    graph = build_defs().resolve_asset_graph()
    return sorted(
        {
            key.path[-1]
            for key in graph.get_all_asset_keys()
            if graph.get(key).group_name in ANALYTICS_GROUPS
        }
    )


def _partition_days(folder: Path) -> dict[date, Path]:
    if not folder.is_dir() or folder.is_symlink():
        return {}
    found = {}
    for entry in folder.iterdir():
        match = PARTITION.match(entry.name)
        if match and entry.is_dir():
            found[date.fromisoformat(match.group(1))] = entry
    return found


def plan(
    root: Path,
    today: date,
    policy: Policy,
    *,
    tables: Sequence[str],
    instance: dg.DagsterInstance | None = None,
    now: datetime | None = None,
) -> Plan:
    result = Plan()
    root = Path(root)
    folders = [(root / t, analytics_partitions_to_delete, policy.analytics_days) for t in tables]
    folders += [
        (root / CHARTS_DIR / t, analytics_partitions_to_delete, policy.analytics_days)
        for t in tables
    ]
    folders.append((root / QUARANTINE_TABLE, window_partitions_to_delete, policy.quarantine_days))
    for folder, choose, keep in folders:
        found = _partition_days(folder)
        for day in choose(found, today, keep):
            reason = unsafe_reason(root, found[day])
            if reason:
                result.skipped.append(f"{found[day]}: {reason}")
            else:
                result.partitions.append(found[day])
    result.temporaries = sweep.stale(sweep.find_temporaries(root), sweep.MAX_AGE_SECONDS)
    if instance is not None:
        records = instance.get_run_records(
            filters=dg.RunsFilter(statuses=list(FINISHED)), limit=None
        )
        runs = [
            RunInfo(r.dagster_run.run_id, r.dagster_run.status, r.create_timestamp) for r in records
        ]
        result.runs = runs_to_delete(runs, now or datetime.now().astimezone(), policy.run_days)
    return result


def unsafe_reason(root: Path, target: Path) -> str | None:
    """Why `target` must not be deleted, or None: it must be a `date=` folder two levels below
    the warehouse root, with no symlink on the way (the root itself may be one)."""
    root_real = Path(root).resolve()
    target = Path(target)
    if not PARTITION.match(target.name):
        return "not a partition folder"
    try:
        relative = target.absolute().relative_to(Path(root).absolute())
    except ValueError:
        return "outside the warehouse root"
    if ".." in relative.parts or len(relative.parts) not in (2, 3):
        return "not a partition folder of a table"
    node = Path(root).absolute()
    for part in relative.parts:
        node = node / part
        if node.is_symlink():
            return f"{node} is a symlink"
    if not target.is_dir():
        return "not a folder"
    if not target.resolve().is_relative_to(root_real):
        return "resolves outside the warehouse root"
    return None


def apply(root: Path, chosen: Plan, instance: dg.DagsterInstance | None = None) -> tuple[int, int]:
    """Delete the planned partitions (each re-checked right before) and runs; returns counts."""
    deleted = 0
    for folder in chosen.partitions:
        reason = unsafe_reason(root, folder)
        if reason:
            chosen.skipped.append(f"{folder}: {reason}")
            continue
        shutil.rmtree(folder)  # does not follow symlinks inside the folder
        deleted += 1
    for path in chosen.temporaries:
        path.unlink(missing_ok=True)
    runs = 0
    if instance is not None:
        for run_id in chosen.runs:
            instance.delete_run(run_id)
            runs += 1
    return deleted, runs
