"""Churn layer: churn scores (logistic regression vs gradient boosting) and purchase propensity."""

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
        description="Churn probability per active account, trained on snapshots at least 90 days before D.",
        run=lambda snap, config, _warehouse: build_churn(
            snap, high=config.thresholds.churn_high, medium=config.thresholds.churn_medium
        ),
    )
    propensity = model_asset(
        partitions_def,
        name="propensity",
        group=GROUP,
        tables=("customer_propensity", "propensity_model_report"),
        description="Probability of a completed order and expected revenue in the next 90 days (random forests).",
        run=lambda snap, config, _warehouse: build_propensity(snap),
    )
    return [churn, propensity]
