"""Churn layer: churn scores (logistic regression vs gradient boosting) and purchase propensity."""

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
from assets.model_logic import build_churn, build_propensity
from sales_pipeline.checks import schema_spec

GROUP = "churn"
CHURN_TABLES = ("churn_scores", "churn_model_report")
PROPENSITY_TABLES = ("customer_propensity", "propensity_model_report")


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="churn",
        outs={name: analytics_out(name, GROUP) for name in CHURN_TABLES},
        ins=snapshot_ins(),
        partitions_def=partitions_def,
        check_specs=[schema_spec(name) for name in CHURN_TABLES],
        description="Churn probability per active account, trained on snapshots at least 90 days before D.",
    )
    def churn(context: dg.AssetExecutionContext, settings: PipelineSettings, **inputs):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        t = config.thresholds
        result = build_churn(
            to_snapshot(day, inputs, config), high=t.churn_high, medium=t.churn_medium
        )
        meta = {
            **model_metadata(result.metadata),
            **write_charts(config, "churn_scores", day, result.charts),
        }
        yield from emit_tables(result.tables, {"churn_scores": meta})

    @dg.multi_asset(
        name="propensity",
        outs={name: analytics_out(name, GROUP) for name in PROPENSITY_TABLES},
        ins=snapshot_ins(),
        partitions_def=partitions_def,
        check_specs=[schema_spec(name) for name in PROPENSITY_TABLES],
        description="Probability of a completed order and expected revenue in the next 90 days (random forests).",
    )
    def propensity(context: dg.AssetExecutionContext, settings: PipelineSettings, **inputs):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        result = build_propensity(to_snapshot(day, inputs, config))
        meta = {
            **model_metadata(result.metadata),
            **write_charts(config, "customer_propensity", day, result.charts),
        }
        yield from emit_tables(result.tables, {"customer_propensity": meta})

    return [churn, propensity]
