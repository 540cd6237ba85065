"""Dagster asset of the ingest layer: one multi-asset for one landing day or, as a single-run
backfill, for a span of consecutive days.

It writes every entity's clean partition (group `clean`), `quarantine`, `ingest_audit`,
`schema_profile` and `schema_drift` (group `ingest`) as one all-or-none change
(`days.write_days`), then yields each output as already committed. A blocked entity's partition is not written at all: a failing blocking check
does not stop the IO manager from writing, so withholding it is what keeps an earlier good
partition untouched. The failing blocking check then fails the step, so nothing downstream runs
for that day.
"""

from datetime import date

import dagster as dg
import numpy as np
import pandas as pd

from assets.ingest.checks import (
    INGEST_TABLES,
    balance_check,
    check_specs,
    drift_check,
    reason_counts,
    share_check,
)
from assets.ingest.day import DayResult
from assets.ingest.days import DayFailed, ingest_days, write_days
from sales_pipeline.core import warehouse as storage
from sales_pipeline.core.checks import pandera_check_result, pandera_days_check_result
from sales_pipeline.core.metadata import counts_markdown, table_metadata
from sales_pipeline.core.partitions import DAILY_FRESHNESS
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from schemas import ENTITIES, TABLES

OWNERS = ["team:data-engineering"]
INGEST_GROUP = "ingest"
CLEAN_GROUP = "clean"


def _outs() -> dict[str, dg.AssetOut]:
    outs = {
        entity: dg.AssetOut(
            is_required=False,
            group_name=CLEAN_GROUP,
            description=TABLES[entity].description + " Partition = landing day.",
            kinds={"pandas", "parquet"},
            owners=OWNERS,
            freshness_policy=DAILY_FRESHNESS,
        )
        for entity in ENTITIES
    }
    for name in INGEST_TABLES:
        outs[name] = dg.AssetOut(
            group_name=INGEST_GROUP,
            description=TABLES[name].description + " Partition = landing day.",
            kinds={"pandas", "parquet"},
            owners=OWNERS,
        )
    return outs


class RangeDayFailed(dg.Failure):
    """Days of a multi-day run cannot be ingested; the run yields nothing so the caller can run
    each of them on its own, where a blocked entity is withheld and the failure is recorded."""

    PREFIX = "landing day "

    def __init__(self, failures: list[tuple[date, str]]) -> None:
        lines = [
            f"{self.PREFIX}{d.isoformat()} failed inside a multi-day run: {reason}"
            for d, reason in failures
        ]
        super().__init__(
            description="\n".join(lines),
            metadata={
                "failed_day": failures[0][0].isoformat(),
                "failed_days": dg.MetadataValue.json([d.isoformat() for d, _ in failures]),
            },
        )


def _committed(staged: list[storage.StagedPartition], table: str) -> storage.Committed:
    mine = [s for s in staged if s.table == table]
    return storage.Committed(table, tuple(s.target for s in mine), sum(s.rows for s in mine))


def _entity_output(
    entity: str,
    combined: pd.DataFrame,
    results: list[DayResult],
    staged: list[storage.StagedPartition],
) -> dg.Output:
    quarantined = pd.concat(
        [r.quarantine[r.quarantine["entity"] == entity] for r in results], ignore_index=True
    )
    files = sum(int((r.audit["entity"] == entity).sum()) for r in results)
    return dg.Output(
        _committed(staged, entity),
        output_name=entity,
        metadata={
            **table_metadata(combined, entity),
            "days": dg.MetadataValue.int(len(results)),
            "files": dg.MetadataValue.int(files),
            "quarantined": dg.MetadataValue.int(len(quarantined)),
            "quarantine_by_reason": counts_markdown(reason_counts(quarantined)),
        },
    )


def _ingest_outputs(
    context: dg.AssetExecutionContext,
    results: list[DayResult],
    staged: list[storage.StagedPartition],
):
    blocked = results[0].blocked if len(results) == 1 else {}
    for entity in ENTITIES:
        frames = [r.clean.get(entity, TABLES[entity].empty_frame()) for r in results]
        combined = pd.concat(frames, ignore_index=True)
        if entity in blocked:
            context.log.error(f"{results[0].day}: {entity} blocked: " + "; ".join(blocked[entity]))
        else:
            yield _entity_output(entity, combined, results, staged)
        row_days = np.repeat([r.day.isoformat() for r in results], [len(f) for f in frames])
        yield pandera_days_check_result(entity, combined, row_days)

    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    audit = pd.concat([r.audit for r in results], ignore_index=True)
    yield dg.Output(
        _committed(staged, "quarantine"),
        output_name="quarantine",
        metadata={
            **table_metadata(quarantine, "quarantine", with_preview=False),
            "by_reason": counts_markdown(reason_counts(quarantine)),
        },
    )
    yield pandera_check_result("quarantine", quarantine)
    yield dg.Output(
        _committed(staged, "ingest_audit"),
        output_name="ingest_audit",
        metadata={
            **table_metadata(audit, "ingest_audit"),
            "days": dg.MetadataValue.int(len(results)),
            "files": dg.MetadataValue.int(len(audit)),
            **{
                column: dg.MetadataValue.int(int(audit[column].sum()))
                for column in ("rows_read", "rows_clean", "rows_quarantined", "rows_duplicate")
            },
            "blocked_files": dg.MetadataValue.int(int((audit["status"] == "blocked").sum())),
            # A number per partition, so the UI plots the day's data quality over time.
            "quarantine_share": dg.MetadataValue.float(
                float(audit["rows_quarantined"].sum())
                / max(float((audit["rows_read"] - audit["rows_duplicate"]).sum()), 1.0)
            ),
        },
    )
    yield pandera_check_result("ingest_audit", audit)
    share = share_check(audit, blocked)
    yield share
    yield balance_check(audit)
    yield from _drift_outputs(results, staged)
    if blocked:
        # Fail with the reason itself (shown on the run page) rather than Dagster's generic
        # "blocking asset check failed" error; everything above is already written.
        raise dg.Failure(
            description=f"{results[0].day} blocked: {share.description}",
            metadata={k: share.metadata[k] for k in ("blocked_entities", "blocked")},
        )


def _drift_outputs(results: list[DayResult], staged: list[storage.StagedPartition]):
    """schema_profile, schema_drift (with its check) for the run's days."""
    profiles = pd.concat([r.profiles for r in results], ignore_index=True)
    drift = pd.concat([r.drift for r in results], ignore_index=True)
    yield dg.Output(
        _committed(staged, "schema_profile"),
        output_name="schema_profile",
        metadata={
            **table_metadata(profiles, "schema_profile", with_preview=False),
            "files": dg.MetadataValue.int(int(profiles["source_file"].nunique())),
        },
    )
    yield pandera_check_result("schema_profile", profiles)
    yield dg.Output(
        _committed(staged, "schema_drift"),
        output_name="schema_drift",
        metadata={
            **table_metadata(drift, "schema_drift"),
            "by_kind": counts_markdown(reason_counts(drift, "drift_kind")),
        },
    )
    yield pandera_check_result("schema_drift", drift)
    yield drift_check(drift)


def build_ingest_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="ingest",
        outs=_outs(),
        partitions_def=partitions_def,
        check_specs=check_specs(),
        can_subset=False,
        # A backfill of many days runs as one run: Dagster's cost per run (and per event) would
        # otherwise dominate a year of small daily deltas.
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Read one landing day, clean every file, quarantine bad rows, audit every file.",
    )
    def ingest(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
        config = settings.resolve()
        days = [date.fromisoformat(key) for key in context.partition_keys]
        try:
            results = ingest_days(config, warehouse, days)
        except DayFailed as exc:
            raise RangeDayFailed(exc.failures) from exc
        staged = write_days(warehouse, results)
        yield from _ingest_outputs(context, results, staged)

    return [ingest]
