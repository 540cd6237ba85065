"""Segments layer: K-means customer segments with CLV, key accounts and DBSCAN outliers."""

from datetime import date

import dagster as dg

from assets.analytics_common import (
    PipelineSettings,
    analytics_out,
    emit_tables,
    model_metadata,
    snapshot_ins,
    to_snapshot,
    write_charts,
)
from assets.model_logic import build_customer_segments
from sales_pipeline.checks import schema_spec

GROUP = "segments"
TABLE = "customer_segments"


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="segments",
        outs={TABLE: analytics_out(TABLE, GROUP)},
        ins=snapshot_ins(),
        partitions_def=partitions_def,
        check_specs=[schema_spec(TABLE)],
        description="One row per account as of D: RFM + engagement features, segment, CLV, key account, outlier.",
    )
    def segments(context: dg.AssetExecutionContext, settings: PipelineSettings, **inputs):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        t = config.thresholds
        result = build_customer_segments(
            to_snapshot(day, inputs, config),
            k_range=(t.segments_k_min, t.segments_k_max),
            key_account_revenue=t.key_account_revenue,
            key_account_years=t.key_account_years,
        )
        meta = {
            **model_metadata(result.metadata),
            **write_charts(config, TABLE, day, result.charts),
        }
        yield from emit_tables(result.tables, {TABLE: meta})

    return [segments]
