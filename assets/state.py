"""Dagster assets of the state layer: every entity as of day D, and `opportunity_history`.

There is no partition mapping for "every partition up to D", so the state depends on the same
day's ingest for lineage and reads partitions <= D through one `pyarrow.dataset` filter per table.
It is also the per-day gate: a day with a blocked file gets no state, hence no analytics.
"""

from datetime import date

import dagster as dg
import pandas as pd

from assets.state_logic import (
    LANDING_DAY,
    Snapshot,
    apply_upsert,
    build_opportunity_history,
    resolve_revenue_source,
)
from sales_pipeline.core import warehouse
from sales_pipeline.core.checks import (
    OPEN_DEALS_COMPLETE,
    REFERENTIAL_INTEGRITY,
    pandera_check_result,
    schema_spec,
)
from sales_pipeline.core.config import Settings
from sales_pipeline.core.metadata import table_metadata
from sales_pipeline.core.resources import PipelineSettings
from schemas import ENTITIES, TABLES, state_table_name
from schemas.ingest import OPEN_STAGES

OWNERS = ["team:data-engineering"]
STATE_GROUP = "state"
HISTORY = "opportunity_history"
STATE_ASSETS = [*(state_table_name(e) for e in ENTITIES), HISTORY]

# (state table, column, referenced entity, referenced key): gaps are reported, never dropped.
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("accounts", "owner_id", "reps", "rep_id"),
    ("contacts", "account_id", "accounts", "account_id"),
    ("opportunities", "account_id", "accounts", "account_id"),
    ("opportunities", "owner_id", "reps", "rep_id"),
    ("opportunities", "campaign_id", "campaigns", "campaign_id"),
    ("orders", "account_id", "accounts", "account_id"),
    ("activities", "account_id", "accounts", "account_id"),
    ("activities", "owner_id", "reps", "rep_id"),
)
_REFERENCING = sorted({r[0] for r in REFERENCES})


class DayBlocked(dg.Failure):
    """The day has a blocked file (or was never ingested): no state and no analytics for it."""


def day_gate(root, day: date) -> None:
    """Raise unless day D was ingested and none of its files is blocked."""
    if not warehouse.has_partition(root, "ingest_audit", day):
        raise DayBlocked(
            description=f"{day}: not ingested yet (no ingest_audit partition); run the ingest for {day} first"
        )
    audit = warehouse.read_partition(root, "ingest_audit", day)
    blocked = audit[audit["status"] == "blocked"]
    if len(blocked):
        reasons = "; ".join(blocked["message"].fillna(blocked["source_file"]).tolist())
        raise DayBlocked(description=f"{day} is blocked, no analytics for it: {reasons}")


def reference_gaps(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """state table -> {column: rows whose non-null reference is unknown}."""
    gaps: dict[str, dict[str, int]] = {}
    for entity, column, target, key in REFERENCES:
        frame = tables[entity]
        refs = frame[column].dropna()
        unknown = ~refs.isin(tables[target][key])
        gaps.setdefault(entity, {})[f"{column}->{target}"] = int(unknown.sum())
    return gaps


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = [schema_spec(name) for name in STATE_ASSETS]
    specs += [
        dg.AssetCheckSpec(
            REFERENTIAL_INTEGRITY,
            asset=state_table_name(entity),
            description="references to unknown accounts, reps or campaigns (reported, never dropped)",
        )
        for entity in _REFERENCING
    ]
    specs.append(
        dg.AssetCheckSpec(
            OPEN_DEALS_COMPLETE,
            asset=state_table_name("opportunities"),
            description="open deals without an amount or an account (they still count in overall KPIs)",
        )
    )
    return specs


def build_state_tables(root, day: date) -> dict[str, pd.DataFrame]:
    """Every entity's state as of `day` and the opportunity history, from partitions <= day."""
    out: dict[str, pd.DataFrame] = {}
    for entity in ENTITIES:
        records = warehouse.read_window(root, entity, end=day, day_column=LANDING_DAY)
        if entity == "opportunities":
            out[HISTORY] = build_opportunity_history(records)
        out[entity] = apply_upsert(records, entity)
    return out


def build_state_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    outs = {
        name: dg.AssetOut(
            group_name=STATE_GROUP,
            description=TABLES[name].description,
            kinds={"pandas", "parquet"},
            owners=OWNERS,
        )
        for name in STATE_ASSETS
    }

    @dg.multi_asset(
        name="state",
        outs=outs,
        deps=[*ENTITIES, "ingest_audit"],
        partitions_def=partitions_def,
        check_specs=_check_specs(),
        can_subset=False,
        description="The upsert rule as of D for every entity, plus opportunity history. Gate: no state for a blocked day.",
    )
    def state(context: dg.AssetExecutionContext, settings: PipelineSettings):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        day_gate(config.warehouse, day)
        tables = build_state_tables(config.warehouse, day)
        gaps = reference_gaps(tables)
        for entity in ENTITIES:
            name = state_table_name(entity)
            yield dg.Output(
                tables[entity], output_name=name, metadata=table_metadata(tables[entity], name)
            )
            yield pandera_check_result(name, tables[entity])
            if entity in gaps:
                counts = gaps[entity]
                yield dg.AssetCheckResult(
                    asset_key=name,
                    check_name=REFERENTIAL_INTEGRITY,
                    passed=not any(counts.values()),
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()},
                )
        opps = tables["opportunities"]
        open_deals = opps[opps["stage"].isin(OPEN_STAGES)]
        yield dg.AssetCheckResult(
            asset_key=state_table_name("opportunities"),
            check_name=OPEN_DEALS_COMPLETE,
            passed=bool(
                open_deals["amount"].notna().all() and open_deals["account_id"].notna().all()
            ),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "open_deals": dg.MetadataValue.int(len(open_deals)),
                "without_amount": dg.MetadataValue.int(int(open_deals["amount"].isna().sum())),
                "without_account": dg.MetadataValue.int(int(open_deals["account_id"].isna().sum())),
            },
        )
        yield dg.Output(
            tables[HISTORY], output_name=HISTORY, metadata=table_metadata(tables[HISTORY], HISTORY)
        )
        yield pandera_check_result(HISTORY, tables[HISTORY])

    return [state]


def snapshot_ins() -> dict[str, dg.AssetIn]:
    """Inputs that give an analytics asset the whole state as of its partition day."""
    return {name: dg.AssetIn(key=name) for name in STATE_ASSETS}


def orders_ever_landed(root, day: date) -> bool:
    audit = warehouse.read_window(root, "ingest_audit", end=day, columns=["entity", "status"])
    return bool(((audit["entity"] == "orders") & (audit["status"] == "ok")).any())


def to_snapshot(day: date, inputs: dict[str, pd.DataFrame], config: Settings) -> Snapshot:
    """Assemble the Snapshot pure analytics functions take, resolving the revenue source."""
    source = resolve_revenue_source(
        config.revenue_source, orders_ever_landed(config.warehouse, day)
    )
    return Snapshot(
        as_of=day,
        revenue_source=source,
        opportunity_history=inputs[HISTORY],
        **{entity: inputs[state_table_name(entity)] for entity in ENTITIES},
    )
