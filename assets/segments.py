"""Segments layer: K-means customer segments (with CLV, key accounts, DBSCAN outliers) and the
probabilistic BG/NBD + Gamma-Gamma CLV."""

import dagster as dg

from assets.analytics_common import model_asset
from assets.model_logic import ModelOutput, build_customer_clv, build_customer_segments
from assets.state_logic import Snapshot
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import Warehouse

GROUP = "segments"


def _segments(snap: Snapshot, config: Settings, _warehouse: Warehouse) -> ModelOutput:
    t = config.thresholds
    return build_customer_segments(
        snap,
        k_range=(t.segments_k_min, t.segments_k_max),
        key_account_revenue=t.key_account_revenue,
        key_account_years=t.key_account_years,
    )


def _clv(snap: Snapshot, config: Settings, _warehouse: Warehouse) -> ModelOutput:
    t = config.thresholds
    return build_customer_clv(
        snap, horizon_days=t.clv_horizon_days, discount_rate=t.clv_discount_rate
    )


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        model_asset(
            partitions_def,
            name="segments",
            group=GROUP,
            tables=("customer_segments",),
            description="One row per account as of D: RFM + engagement features, segment, CLV, key account, outlier.",
            run=_segments,
        ),
        model_asset(
            partitions_def,
            name="clv",
            group=GROUP,
            tables=("customer_clv", "clv_model_report"),
            description="BG/NBD + Gamma-Gamma lifetime value per customer, and the fitted parameters.",
            run=_clv,
        ),
    ]
