"""Churn layer: churn scores (logistic regression vs random forest) and purchase propensity."""

import dagster as dg

from assets.analytics_common import model_asset
from assets.model_logic import build_churn, build_propensity

GROUP = "churn"


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    churn = model_asset(
        partitions_def,
        name="churn",
        group=GROUP,
        tables=("churn_scores", "churn_model_report"),
        description="Churn probability per active account; fitted weekly (Monday on or before D) on a capped sample of snapshots, scored nightly.",
        run=lambda snap, config, warehouse: build_churn(
            snap,
            high=config.thresholds.churn_high,
            medium=config.thresholds.churn_medium,
            store=warehouse.model_files(),
        ),
    )
    propensity = model_asset(
        partitions_def,
        name="propensity",
        group=GROUP,
        tables=("customer_propensity", "propensity_model_report"),
        description="Probability of a completed order and expected revenue in the next 90 days (random forests fitted weekly, scored nightly).",
        run=lambda snap, config, warehouse: build_propensity(snap, store=warehouse.model_files()),
    )
    return [churn, propensity]
