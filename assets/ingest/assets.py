"""Dagster assets of the ingest layer: one multi-asset per landing day.

It writes every entity's clean partition (group `clean`), `quarantine` and `ingest_audit`
(group `ingest`). A blocked entity's output is not yielded at all: a failing blocking check
does not stop the IO manager from writing, so withholding the output is what keeps an earlier
good partition untouched. The failing blocking check then fails the step, so nothing downstream
runs for that day.
"""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from assets.ingest.day import DayResult, PriorState, ingest_day
from assets.state_logic import LANDING_DAY, apply_upsert
from sales_pipeline import warehouse
from sales_pipeline.checks import QUARANTINE_SHARE, ROWS_BALANCE, SCHEMA_VALID, pandera_check_result
from sales_pipeline.config import Settings
from sales_pipeline.metadata import counts_markdown, table_metadata
from sales_pipeline.resources import PipelineSettings
from schemas import ENTITIES, TABLES

OWNERS = ["team:data-engineering"]
INGEST_GROUP = "ingest"
CLEAN_GROUP = "clean"
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
)


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
        for name in (*ENTITIES, "quarantine", "ingest_audit")
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
            freshness_policy=FRESHNESS,
        )
        for entity in ENTITIES
    }
    for name in ("quarantine", "ingest_audit"):
        outs[name] = dg.AssetOut(
            group_name=INGEST_GROUP,
            description=TABLES[name].description + " Partition = landing day.",
            kinds={"pandas", "parquet"},
            owners=OWNERS,
        )
    return outs


def load_prior_state(config: Settings, day: date) -> PriorState:
    """State as of the previous day of what cleaning needs: fx rates, reps, snapshot entities."""
    before = day - timedelta(days=1)

    def state_of(entity: str) -> pd.DataFrame:
        records = warehouse.read_window(
            config.warehouse, entity, end=before, day_column=LANDING_DAY
        )
        return apply_upsert(records, entity)

    snapshots = [e for e in ENTITIES if config.entity(e).load_mode == "snapshot"]
    return PriorState(
        fx_rates=state_of("fx_rates"),
        reps=state_of("reps"),
        alive={e: state_of(e) for e in snapshots},
    )


def _share_check(result: DayResult) -> dg.AssetCheckResult:
    audit = result.audit
    denominator = (audit["rows_read"] - audit["rows_duplicate"]).where(lambda d: d > 0)
    shares = (audit["rows_quarantined"] / denominator).fillna(0.0)
    blocked = [
        f"{entity}: {reason}"
        for entity, reasons in sorted(result.blocked.items())
        for reason in reasons
    ]
    return dg.AssetCheckResult(
        asset_key="ingest_audit",
        check_name=QUARANTINE_SHARE,
        passed=not blocked,
        metadata={
            "files": dg.MetadataValue.int(len(audit)),
            "max_share": dg.MetadataValue.float(float(shares.max()) if len(shares) else 0.0),
            "blocked_entities": dg.MetadataValue.json(sorted(result.blocked)),
            "blocked": dg.MetadataValue.md("\n".join(f"- {b}" for b in blocked) or "_none_"),
        },
        description="; ".join(blocked) or None,
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


def build_ingest_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="ingest",
        outs=_outs(),
        partitions_def=partitions_def,
        check_specs=_check_specs(),
        can_subset=False,
        description="Read one landing day, clean every file, quarantine bad rows, audit every file.",
    )
    def ingest(context: dg.AssetExecutionContext, settings: PipelineSettings):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        prior = load_prior_state(config, day)
        result = ingest_day(day, config, prior)

        for entity in ENTITIES:
            frame = result.clean.get(entity, TABLES[entity].empty_frame())
            if entity in result.blocked:
                context.log.error(f"{day}: {entity} blocked: " + "; ".join(result.blocked[entity]))
            else:
                yield dg.Output(
                    frame,
                    output_name=entity,
                    metadata={
                        **table_metadata(frame, entity),
                        "files": dg.MetadataValue.int(
                            int((result.audit["entity"] == entity).sum())
                        ),
                        "quarantined": dg.MetadataValue.int(
                            int((result.quarantine["entity"] == entity).sum())
                        ),
                        "quarantine_by_reason": counts_markdown(result.quarantine_counts(entity)),
                    },
                )
            yield pandera_check_result(entity, frame)

        audit = result.audit
        yield dg.Output(
            result.quarantine,
            output_name="quarantine",
            metadata={
                **table_metadata(result.quarantine, "quarantine", with_preview=False),
                "by_reason": counts_markdown(result.quarantine_counts()),
            },
        )
        yield pandera_check_result("quarantine", result.quarantine)
        yield dg.Output(
            audit,
            output_name="ingest_audit",
            metadata={
                **table_metadata(audit, "ingest_audit"),
                "files": dg.MetadataValue.int(len(audit)),
                "rows_read": dg.MetadataValue.int(int(audit["rows_read"].sum())),
                "rows_clean": dg.MetadataValue.int(int(audit["rows_clean"].sum())),
                "rows_quarantined": dg.MetadataValue.int(int(audit["rows_quarantined"].sum())),
                "rows_duplicate": dg.MetadataValue.int(int(audit["rows_duplicate"].sum())),
                "blocked_files": dg.MetadataValue.int(int((audit["status"] == "blocked").sum())),
            },
        )
        yield pandera_check_result("ingest_audit", audit)
        yield _share_check(result)
        yield _balance_check(audit)

    return [ingest]
