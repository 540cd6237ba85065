"""Forecasts layer: SARIMAX daily revenue forecasts per level/key with a rolling-origin backtest."""

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
from assets.model_logic import build_sales_forecast
from sales_pipeline.checks import schema_spec
from sales_pipeline.warehouse import JsonCache

GROUP = "forecasts"
TABLES_OUT = ("sales_forecast", "forecast_backtest")


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="forecasts",
        outs={name: analytics_out(name, GROUP) for name in TABLES_OUT},
        ins=snapshot_ins(),
        partitions_def=partitions_def,
        check_specs=[schema_spec(name) for name in TABLES_OUT],
        description="Daily revenue forecast (total, region, product) with 80/95% intervals, and its backtest.",
    )
    def forecasts(context: dg.AssetExecutionContext, settings: PipelineSettings, **inputs):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        cache = JsonCache(config.warehouse, "forecast_orders")
        result = build_sales_forecast(
            to_snapshot(day, inputs, config),
            horizon=config.thresholds.forecast_horizon,
            tz=config.timezone,
            order_cache=cache,
        )
        cache.save()
        meta = {
            **model_metadata(result.metadata),
            **write_charts(config, "sales_forecast", day, result.charts),
        }
        yield from emit_tables(result.tables, {"sales_forecast": meta})

    return [forecasts]
