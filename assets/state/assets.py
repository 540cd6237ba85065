"""The Dagster asset of the state layer: one multi-asset writing every `<entity>_state` table and
`opportunity_history` for an analytics day, with its schema, reference and open-deal checks.

The state of D builds on the latest state before D (see `store.py`); in Dagster that is a
self-dependency of `opportunity_history` on its previous day (`TimeWindowPartitionMapping`),
so the UI shows the chain and its staleness. The actual base is the latest *committed* state
before D, since analytics days need not be consecutive. Lineage to the ingest is the same day's
partitions (there is no partition mapping for "the days since the base").
"""

from datetime import date

import dagster as dg
import pandas as pd

from assets.state.gate import day_gate
from assets.state.store import HISTORY, STATE_ASSETS, STATE_CODE_VERSION, commit, incremental_state
from sales_pipeline.core.checks import (
    OPEN_DEALS_COMPLETE,
    REFERENTIAL_INTEGRITY,
    VERSION_TIES,
    pandera_check_result,
    schema_spec,
)
from sales_pipeline.core.metadata import table_metadata
from sales_pipeline.core.resources import Warehouse
from schemas import ENTITIES, TABLES, state_table_name
from schemas.ingest import OPEN_STAGES

OWNERS = ["team:data-engineering"]
STATE_GROUP = "state"

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


def reference_gaps(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """state table -> {column: rows whose non-null reference is unknown}."""
    gaps: dict[str, dict[str, int]] = {}
    for entity, column, target, key in REFERENCES:
        frame = tables[entity]
        refs = frame[column].dropna()
        unknown = ~refs.isin(tables[target][key])
        gaps.setdefault(entity, {})[f"{column}->{target}"] = int(unknown.sum())
    return gaps


def _check_specs(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    """Partitioned like the assets: one state run is one day, its results belong to that day."""
    specs = [schema_spec(name, partitions_def=partitions_def) for name in STATE_ASSETS]
    specs += [
        dg.AssetCheckSpec(
            REFERENTIAL_INTEGRITY,
            asset=state_table_name(entity),
            description="references to unknown accounts, reps or campaigns (reported, never dropped)",
            partitions_def=partitions_def,
        )
        for entity in _REFERENCING
    ]
    specs.append(
        dg.AssetCheckSpec(
            OPEN_DEALS_COMPLETE,
            asset=state_table_name("opportunities"),
            description="open deals without an amount or an account (they still count in overall KPIs)",
            partitions_def=partitions_def,
        )
    )
    specs.append(
        dg.AssetCheckSpec(
            VERSION_TIES,
            asset=HISTORY,
            description="versions from different landing days that tie on updated_at but differ "
            "in content (history lost), per entity",
            partitions_def=partitions_def,
        )
    )
    return specs


def _ties_check(build) -> dg.AssetCheckResult:
    """A warning with counts: the later day's content won a tie, the earlier one is lost."""
    return dg.AssetCheckResult(
        asset_key=HISTORY,
        check_name=VERSION_TIES,
        passed=not any(build.ties.values()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "window": dg.MetadataValue.text(build.note),
            **{entity: dg.MetadataValue.int(n) for entity, n in build.ties.items()},
        },
    )


def _open_deals_check(opps: pd.DataFrame) -> dg.AssetCheckResult:
    open_deals = opps[opps["stage"].isin(OPEN_STAGES)]
    return dg.AssetCheckResult(
        asset_key=state_table_name("opportunities"),
        check_name=OPEN_DEALS_COMPLETE,
        passed=bool(open_deals["amount"].notna().all() and open_deals["account_id"].notna().all()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "open_deals": dg.MetadataValue.int(len(open_deals)),
            "without_amount": dg.MetadataValue.int(int(open_deals["amount"].isna().sum())),
            "without_account": dg.MetadataValue.int(int(open_deals["account_id"].isna().sum())),
        },
    )


def _outs() -> dict[str, dg.AssetOut]:
    return {
        name: dg.AssetOut(
            group_name=STATE_GROUP,
            description=TABLES[name].description,
            kinds={"pandas", "parquet"},
            owners=OWNERS,
            code_version=STATE_CODE_VERSION,
        )
        for name in STATE_ASSETS
    }


def build_state_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    # The first partition has no previous day: its state is a rebuild.
    previous_day = dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )

    @dg.multi_asset(
        name="state",
        outs=_outs(),
        deps=[*ENTITIES, "ingest_audit", dg.AssetDep(HISTORY, partition_mapping=previous_day)],
        partitions_def=partitions_def,
        check_specs=_check_specs(partitions_def),
        can_subset=False,
        description="The upsert rule as of D for every entity, plus opportunity history, advanced "
        "from the latest state before D. Gate: no state for a blocked day.",
    )
    def state(context: dg.AssetExecutionContext, warehouse: Warehouse):
        # The incremental store keeps its own files beside the tables, so it works on the root.
        root = warehouse.root
        day = date.fromisoformat(context.partition_key)
        day_gate(warehouse, day)
        build = incremental_state(root, day)
        context.log.info(f"state {day}: {build.note} ({build.increment_partitions} partitions)")
        lineage = {
            "state_base": dg.MetadataValue.text(build.note),
            "partitions_read": dg.MetadataValue.int(build.increment_partitions),
        }
        tables = build.tables
        # The self-dependency is on opportunity_history: Dagster wants it yielded first.
        yield dg.Output(
            tables[HISTORY],
            output_name=HISTORY,
            metadata={**table_metadata(tables[HISTORY], HISTORY), **lineage},
        )
        yield pandera_check_result(HISTORY, tables[HISTORY])
        yield _ties_check(build)
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
        yield _open_deals_check(tables["opportunities"])
        # Every output has been written by the IO manager by now: commit this state as a base.
        commit(root, build)

    return [state]
