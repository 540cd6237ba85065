"""Landing days -> one all-or-none warehouse change, without Dagster: the prior state a day's
cleaning needs, consecutive days carried in memory, and the partitions a day writes.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd

from assets.drift.compare import compact_history
from assets.drift.gate import append_history, check_day
from assets.ingest.day import DayResult, LandingFolderMissing, PriorState, ingest_day
from assets.state_logic import LANDING_DAY, apply_upsert
from sales_pipeline.core import warehouse as storage
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import Warehouse
from schemas import ENTITIES, TABLES

# One record per landing day cleaned, so a caller (the CLI's progress bar) can follow a
# multi-day run day by day; nothing listens by default.
PROGRESS = logging.getLogger("sales_pipeline.progress")


class DayFailed(Exception):
    """Days of a multi-day run that cannot be ingested (blocked, or no landing folder), in
    order, each with its reason."""

    def __init__(self, failures: list[tuple[date, str]]) -> None:
        super().__init__("; ".join(f"{d.isoformat()}: {reason}" for d, reason in failures))
        self.failures = failures


def prior_entities(config: Settings) -> list[str]:
    """What cleaning needs from earlier days: fx rates, reps, and entities loaded as snapshots."""
    return ["fx_rates", "reps", *(e for e in ENTITIES if config.entity(e).load_mode == "snapshot")]


def load_prior_records(
    config: Settings, warehouse: Warehouse, day: date
) -> dict[str, pd.DataFrame]:
    """Every clean record of those entities landed before `day` (with its landing day)."""
    before = day - timedelta(days=1)
    # Before the first ingest (or the first file of an entity) the table does not exist yet.
    return {
        entity: warehouse.read_window(entity, end=before, day_column=LANDING_DAY, missing_ok=True)
        for entity in prior_entities(config)
    }


def prior_state(records: dict[str, pd.DataFrame]) -> PriorState:
    state = {entity: apply_upsert(frame, entity) for entity, frame in records.items()}
    alive = {e: f for e, f in state.items() if e not in ("fx_rates", "reps")}
    return PriorState(fx_rates=state["fx_rates"], reps=state["reps"], alive=alive)


def load_prior_state(config: Settings, warehouse: Warehouse, day: date) -> PriorState:
    """State as of the previous day of what cleaning needs: fx rates, reps, snapshot entities."""
    return prior_state(load_prior_records(config, warehouse, day))


def load_prior_profiles(warehouse: Warehouse, day: date) -> pd.DataFrame:
    """The column profiles of files landed before `day` that schema drift compares with."""
    return compact_history(
        warehouse.read_window(
            "schema_profile", end=day - timedelta(days=1), day_column=LANDING_DAY, missing_ok=True
        )
    )


def ingest_days(config: Settings, warehouse: Warehouse, days: list[date]) -> list[DayResult]:
    """Ingest consecutive days in order. Earlier days of the run are not in the warehouse yet,
    so the records cleaning needs from them (and their column profiles) are carried in memory.

    In a run of several days a blocked day (or one without a landing folder) cannot be part of
    the run: the caller runs it on its own, where the block is recorded. The run still goes on
    to the end, carrying what that day's own run will write (its other entities, its column
    profiles; nothing for a missing folder), so one `DayFailed` names every such day and the
    caller splits the span once instead of rerunning each remainder until its next failure."""
    profiles = load_prior_profiles(warehouse, days[0])
    if len(days) == 1:
        result = ingest_day(days[0], config, load_prior_state(config, warehouse, days[0]))
        PROGRESS.info("ingested %s", days[0].isoformat(), extra={"day": days[0].isoformat()})
        return [check_day(result, profiles, config.drift_block, compacted=True)]
    records = load_prior_records(config, warehouse, days[0])
    results, failures = [], []
    for day in days:
        try:
            result = check_day(
                ingest_day(day, config, prior_state(records)),
                profiles,
                config.drift_block,
                compacted=True,
            )
        except LandingFolderMissing as exc:
            failures.append((day, str(exc)))
            continue
        profiles = append_history(profiles, result)
        if result.blocked:
            failures.append((day, "; ".join(r for rs in result.blocked.values() for r in rs)))
        else:
            results.append(result)
            PROGRESS.info("ingested %s", day.isoformat(), extra={"day": day.isoformat()})
        for entity in records:
            if entity in result.clean and entity not in result.blocked:
                new = result.clean[entity].assign(**{LANDING_DAY: pd.Timestamp(day)})
                records[entity] = pd.concat([records[entity], new], ignore_index=True)
    if failures:
        raise DayFailed(failures)
    return results


def day_writes(result: DayResult) -> list[tuple[str, date, pd.DataFrame]]:
    """(table, day, frame) of every partition a day writes: each entity's clean rows (empty when
    no file came, withheld when blocked, so an earlier good partition stays), quarantine, audit,
    and the day's column profiles and schema drift."""
    writes = [
        (entity, result.day, result.clean.get(entity, TABLES[entity].empty_frame()))
        for entity in ENTITIES
        if entity not in result.blocked
    ]
    return [
        *writes,
        ("quarantine", result.day, result.quarantine),
        ("ingest_audit", result.day, result.audit),
        ("schema_profile", result.day, result.profiles),
        ("schema_drift", result.day, result.drift),
    ]


def write_days(warehouse: Warehouse, results: list[DayResult]) -> list[storage.StagedPartition]:
    """Every partition of these days as one change: all are staged, then all swapped in; if a
    write fails, nothing of the days changes (so the audit always matches the stored rows)."""
    return warehouse.write_partitions([w for r in results for w in day_writes(r)])
