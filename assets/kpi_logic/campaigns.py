"""campaign_roi: campaign cost against the won amount attributed to it, as of D.

Grain: one row per campaign in the state. Key: campaign_id. won_amount / won_deals: live
opportunities whose current stage is closed_won and whose campaign_id is the campaign (no date
window). roi = (won_amount - cost) / cost, null when cost is 0. Money summed as integer cents.
Deals naming an unknown campaign are not reported here (a referential-integrity check counts them).
"""

from __future__ import annotations

import pandas as pd

from assets.kpi_logic.common import from_cents, ratio, to_cents
from assets.state_logic import Snapshot
from schemas import TABLES, conform


def build_campaign_roi(snap: Snapshot) -> pd.DataFrame:
    """ROI per campaign, conformed to `campaign_roi`, sorted by campaign_id."""
    opps = snap.opportunities
    won = opps[(opps["stage"] == "closed_won") & opps["campaign_id"].notna()]
    by_campaign = (
        won.assign(cents=to_cents(won["amount"]))
        .groupby("campaign_id", as_index=False)
        .agg(won_cents=("cents", "sum"), won_deals=("opportunity_id", "size"))
    )
    camps = snap.campaigns
    out = camps.assign(cost_cents=to_cents(camps["cost"])).merge(
        by_campaign, on="campaign_id", how="left"
    )
    out["won_cents"] = out["won_cents"].fillna(0).astype("int64")
    out["won_deals"] = out["won_deals"].fillna(0).astype("int64")
    out["cost"] = from_cents(out["cost_cents"])
    out["won_amount"] = from_cents(out["won_cents"])
    out["roi"] = ratio(out["won_amount"] - out["cost"], out["cost"])
    return conform(out.sort_values("campaign_id", kind="stable"), TABLES["campaign_roi"])
