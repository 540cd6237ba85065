"""Forecasts layer: coherent daily revenue forecasts per level/key, the model (ARIMA, ETS, seasonal
naive) chosen per series by a rolling backtest."""

import dagster as dg

from assets.analytics_common import model_asset
from assets.model_logic import ModelOutput, build_sales_forecast
from assets.state_logic import Snapshot
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import Warehouse

GROUP = "forecasts"


def _forecast(snap: Snapshot, config: Settings, warehouse: Warehouse) -> ModelOutput:
    # Model selections are memoised per (series, Monday, data hash); the memo changes speed only.
    cache = warehouse.json_memo("forecast_selection")
    result = build_sales_forecast(
        snap, horizon=config.thresholds.forecast_horizon, tz=config.timezone, selection_cache=cache
    )
    cache.save()
    return result


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        model_asset(
            partitions_def,
            name="forecasts",
            group=GROUP,
            tables=("sales_forecast", "forecast_backtest"),
            description="Coherent daily revenue forecast (total, region, product) with 80/95% intervals, and its backtest.",
            run=_forecast,
        )
    ]
