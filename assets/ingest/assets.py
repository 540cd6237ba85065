"""Dagster assets of the ingest layer: one multi-asset for one landing day or, as a single-run
backfill, for a span of consecutive days.

It writes every entity's clean partition (group `clean`), `quarantine` and `ingest_audit`
(group `ingest`). A blocked entity's output is not yielded at all: a failing blocking check
does not stop the IO manager from writing, so withholding the output is what keeps an earlier
good partition untouched. The failing blocking check then fails the step, so nothing downstream
runs for that day.
"""

import logging
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from assets.drift.gate import append_history, check_day
from assets.ingest.day import DayResult, LandingFolderMissing, PriorState, ingest_day
from assets.state_logic import LANDING_DAY, apply_upsert
from sales_pipeline.core.checks import (
    QUARANTINE_SHARE,
    ROWS_BALANCE,
    SCHEMA_DRIFT,
    SCHEMA_VALID,
    pandera_check_result,
)
from sales_pipeline.core.config import Settings
from sales_pipeline.core.metadata import counts_markdown, table_metadata
from sales_pipeline.core.partitions import DAILY_FRESHNESS
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from schemas import ENTITIES, TABLES

OWNERS = ["team:data-engineering"]
INGEST_GROUP = "ingest"
# One record per landing day cleaned, so a caller (the CLI's progress bar) can follow a
# multi-day run day by day; nothing listens by default.
PROGRESS = logging.getLogger("sales_pipeline.progress")
CLEAN_GROUP = "clean"
INGEST_TABLES = ("quarantine", "ingest_audit", "schema_profile", "schema_drift")


def _check_specs() -> list[dg.AssetCheckSpec]:
    """pandera per table; the quarantine share and the row balance once per day on the audit.

    Each check costs Dagster three events per run, the largest part of a landing day's framework
    time, so the two file-level rules are evaluated once over all files; their metadata names
    every blocked or unbalanced file and its entity.
    """
    specs = [
        dg.AssetCheckSpec(
            SCHEMA_VALID, asset=name, blocking=True, description="rows match the pandera schema"
        )
        for name in (*ENTITIES, *INGEST_TABLES)
    ]
    specs += [
        dg.AssetCheckSpec(
            QUARANTINE_SHARE,
            asset="ingest_audit",
            blocking=True,
            description="every file is readable and its quarantined / (read - duplicate) is at most the threshold",
        ),
        dg.AssetCheckSpec(
            ROWS_BALANCE,
            asset="ingest_audit",
            blocking=True,
            description="rows_read = clean + quarantined + duplicate for every file",
        ),
        dg.AssetCheckSpec(
            SCHEMA_DRIFT,
            asset="schema_drift",
            description="no file's header or column profile drifted from the last good files "
            "of its source (a warning unless the settings make the kind blocking)",
        ),
    ]
    return specs


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


def _prior_entities(config: Settings) -> list[str]:
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
        for entity in _prior_entities(config)
    }


def prior_state(records: dict[str, pd.DataFrame]) -> PriorState:
    state = {entity: apply_upsert(frame, entity) for entity, frame in records.items()}
    alive = {e: f for e, f in state.items() if e not in ("fx_rates", "reps")}
    return PriorState(fx_rates=state["fx_rates"], reps=state["reps"], alive=alive)


def load_prior_state(config: Settings, warehouse: Warehouse, day: date) -> PriorState:
    """State as of the previous day of what cleaning needs: fx rates, reps, snapshot entities."""
    return prior_state(load_prior_records(config, warehouse, day))


class RangeDayFailed(dg.Failure):
    """A day of a multi-day run cannot be ingested; the run yields nothing so the caller can run
    that day on its own, where a blocked entity is withheld and the failure is recorded."""

    PREFIX = "landing day "

    def __init__(self, day: date, reason: str) -> None:
        super().__init__(
            description=f"{self.PREFIX}{day.isoformat()} failed inside a multi-day run: {reason}",
            metadata={"failed_day": day.isoformat()},
        )


def load_prior_profiles(warehouse: Warehouse, day: date) -> pd.DataFrame:
    """Column profiles of every file landed before `day` (the schema-drift baselines)."""
    return warehouse.read_window(
        "schema_profile", end=day - timedelta(days=1), day_column=LANDING_DAY, missing_ok=True
    )


def ingest_days(config: Settings, warehouse: Warehouse, days: list[date]) -> list[DayResult]:
    """Ingest consecutive days in order. Earlier days of the run are not in the warehouse yet,
    so the records cleaning needs from them (and their column profiles) are carried in memory."""
    profiles = load_prior_profiles(warehouse, days[0])
    if len(days) == 1:
        result = ingest_day(days[0], config, load_prior_state(config, warehouse, days[0]))
        PROGRESS.info("ingested %s", days[0].isoformat(), extra={"day": days[0].isoformat()})
        return [check_day(result, profiles, config.drift_block)]
    records = load_prior_records(config, warehouse, days[0])
    results = []
    for day in days:
        try:
            result = check_day(
                ingest_day(day, config, prior_state(records)), profiles, config.drift_block
            )
        except LandingFolderMissing as exc:
            raise RangeDayFailed(day, str(exc)) from exc
        profiles = append_history(profiles, result)
        if result.blocked:
            reasons = "; ".join(r for rs in result.blocked.values() for r in rs)
            raise RangeDayFailed(day, reasons)
        results.append(result)
        PROGRESS.info("ingested %s", day.isoformat(), extra={"day": day.isoformat()})
        for entity in records:
            if entity in result.clean:
                new = result.clean[entity].assign(**{LANDING_DAY: pd.Timestamp(day)})
                records[entity] = pd.concat([records[entity], new], ignore_index=True)
    return results


def _reason_counts(quarantine: pd.DataFrame) -> dict[str, int]:
    counts = quarantine["reason_code"].value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


def _share_check(
    audit: pd.DataFrame, blocked_by_entity: dict[str, list[str]]
) -> dg.AssetCheckResult:
    denominator = (audit["rows_read"] - audit["rows_duplicate"]).where(lambda d: d > 0)
    shares = (audit["rows_quarantined"] / denominator).fillna(0.0)
    blocked = [
        f"{entity}: {reason}"
        for entity, reasons in sorted(blocked_by_entity.items())
        for reason in reasons
    ]
    return dg.AssetCheckResult(
        asset_key="ingest_audit",
        check_name=QUARANTINE_SHARE,
        passed=not blocked,
        metadata={
            "files": dg.MetadataValue.int(len(audit)),
            "max_share": dg.MetadataValue.float(float(shares.max()) if len(shares) else 0.0),
            "blocked_entities": dg.MetadataValue.json(sorted(blocked_by_entity)),
            "blocked": dg.MetadataValue.md("\n".join(f"- {b}" for b in blocked) or "_none_"),
        },
        # One line per blocked file (file, reason code, detail): the CLI prints each line once.
        description="\n".join(blocked) or None,
    )


def _balance_check(audit: pd.DataFrame) -> dg.AssetCheckResult:
    balance = (
        audit["rows_read"]
        - audit["rows_clean"]
        - audit["rows_quarantined"]
        - audit["rows_duplicate"]
    )
    unbalanced = audit.loc[balance != 0, "source_file"].tolist()
    return dg.AssetCheckResult(
        asset_key="ingest_audit",
        check_name=ROWS_BALANCE,
        passed=not unbalanced,
        metadata={
            "files": dg.MetadataValue.int(len(audit)),
            "unbalanced_files": dg.MetadataValue.json(unbalanced),
        },
    )


def drift_check(drift: pd.DataFrame) -> dg.AssetCheckResult:
    """Fails on any drift: a warning, an error where a kind blocks (its entity is withheld)."""
    blocking = bool(drift["blocking"].fillna(False).any())
    shown = drift[["source_file", "drift_kind", "column", "blocking", "detail"]].head(50)
    return dg.AssetCheckResult(
        asset_key="schema_drift",
        check_name=SCHEMA_DRIFT,
        passed=drift.empty,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "drifts": dg.MetadataValue.int(len(drift)),
            "blocking": dg.MetadataValue.int(int(drift["blocking"].fillna(False).sum())),
            "drift": dg.MetadataValue.md(
                shown.to_markdown(index=False) if len(shown) else "_none_"
            ),
        },
        description="; ".join(drift["detail"].head(5)) or None,
    )


def _drift_outputs(results: list[DayResult], value):
    """schema_profile, schema_drift (with its check) for the run's days."""
    profiles = pd.concat([r.profiles for r in results], ignore_index=True)
    drift = pd.concat([r.drift for r in results], ignore_index=True)
    yield dg.Output(
        value([r.profiles for r in results]),
        output_name="schema_profile",
        metadata={
            **table_metadata(profiles, "schema_profile", with_preview=False),
            "files": dg.MetadataValue.int(int(profiles["source_file"].nunique())),
        },
    )
    yield pandera_check_result("schema_profile", profiles)
    yield dg.Output(
        value([r.drift for r in results]),
        output_name="schema_drift",
        metadata={
            **table_metadata(drift, "schema_drift"),
            "by_kind": counts_markdown(
                {str(k): int(v) for k, v in drift["drift_kind"].value_counts().sort_index().items()}
            ),
        },
    )
    yield pandera_check_result("schema_drift", drift)
    yield drift_check(drift)


def build_ingest_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="ingest",
        outs=_outs(),
        partitions_def=partitions_def,
        check_specs=_check_specs(),
        can_subset=False,
        # A backfill of many days runs as one run: Dagster's cost per run (and per event) would
        # otherwise dominate a year of small daily deltas.
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Read one landing day, clean every file, quarantine bad rows, audit every file.",
    )
    def ingest(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
        config = settings.resolve()
        days = [date.fromisoformat(key) for key in context.partition_keys]
        results = ingest_days(config, warehouse, days)
        # One partition: the value is the frame. Several (a single-run backfill): a dict
        # {day: frame} the IO manager writes partition by partition.
        single = len(results) == 1
        blocked = results[0].blocked if single else {}

        def value(frames: list[pd.DataFrame]):
            return (
                frames[0]
                if single
                else {d.isoformat(): f for d, f in zip(days, frames, strict=True)}
            )

        for entity in ENTITIES:
            frames = [r.clean.get(entity, TABLES[entity].empty_frame()) for r in results]
            combined = pd.concat(frames, ignore_index=True)
            quarantined = [r.quarantine[r.quarantine["entity"] == entity] for r in results]
            if entity in blocked:
                context.log.error(f"{days[0]}: {entity} blocked: " + "; ".join(blocked[entity]))
            else:
                yield dg.Output(
                    value(frames),
                    output_name=entity,
                    metadata={
                        **table_metadata(combined, entity),
                        "days": dg.MetadataValue.int(len(days)),
                        "files": dg.MetadataValue.int(
                            sum(int((r.audit["entity"] == entity).sum()) for r in results)
                        ),
                        "quarantined": dg.MetadataValue.int(sum(len(q) for q in quarantined)),
                        "quarantine_by_reason": counts_markdown(
                            _reason_counts(pd.concat(quarantined))
                        ),
                    },
                )
            yield pandera_check_result(entity, combined)

        quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
        audit = pd.concat([r.audit for r in results], ignore_index=True)
        yield dg.Output(
            value([r.quarantine for r in results]),
            output_name="quarantine",
            metadata={
                **table_metadata(quarantine, "quarantine", with_preview=False),
                "by_reason": counts_markdown(_reason_counts(quarantine)),
            },
        )
        yield pandera_check_result("quarantine", quarantine)
        yield dg.Output(
            value([r.audit for r in results]),
            output_name="ingest_audit",
            metadata={
                **table_metadata(audit, "ingest_audit"),
                "days": dg.MetadataValue.int(len(days)),
                "files": dg.MetadataValue.int(len(audit)),
                "rows_read": dg.MetadataValue.int(int(audit["rows_read"].sum())),
                "rows_clean": dg.MetadataValue.int(int(audit["rows_clean"].sum())),
                "rows_quarantined": dg.MetadataValue.int(int(audit["rows_quarantined"].sum())),
                "rows_duplicate": dg.MetadataValue.int(int(audit["rows_duplicate"].sum())),
                "blocked_files": dg.MetadataValue.int(int((audit["status"] == "blocked").sum())),
                # A number per partition, so the UI plots the day's data quality over time.
                "quarantine_share": dg.MetadataValue.float(
                    float(audit["rows_quarantined"].sum())
                    / max(float((audit["rows_read"] - audit["rows_duplicate"]).sum()), 1.0)
                ),
            },
        )
        yield pandera_check_result("ingest_audit", audit)
        share = _share_check(audit, blocked)
        yield share
        yield _balance_check(audit)
        yield from _drift_outputs(results, value)
        if blocked:
            # Fail with the reason itself (shown on the run page) rather than Dagster's generic
            # "blocking asset check failed" error; everything above is already written.
            raise dg.Failure(
                description=f"{days[0]} blocked: {share.description}",
                metadata={k: share.metadata[k] for k in ("blocked_entities", "blocked")},
            )

    return [ingest]
