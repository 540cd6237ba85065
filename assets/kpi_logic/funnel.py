"""kpi_funnel: how far the deals created in each month got.

Grain: one row per month of creation (local, settings time zone) x dimension x dimension_value x
stage, for the (month, dimension value) pairs that have at least one live deal created then.
Key: (period_start, dimension, dimension_value, stage). Stages: the five open stages and
`closed_won`, in canonical order (stage_order 1..6). `closed_lost` has no row: "reached at least
closed_lost" is not a funnel step, and lost deals already count up to the highest open stage they
had. A deal's highest stage is the highest open stage of any of its versions (history and current
state; at least `lead`); a won deal reached every stage. Deleted deals (state) are excluded.
`conversion` = reached / reached at the previous stage (null for `lead`, null on a zero
denominator); `overall_conversion` = won / reached lead, repeated on every row of the group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.kpi_logic.common import KEYS, group_by_dimension, isin, month_start, ratio
from assets.kpi_logic.dimensions import Dimensions
from assets.kpi_logic.periods import local_date
from assets.state_logic import Snapshot
from schemas import TABLES, conform
from schemas.ingest import OPEN_STAGES
from schemas.kpis import DIMENSIONS

FUNNEL_STAGES = (*OPEN_STAGES, "closed_won")
_STAGE_INDEX = {s: i for i, s in enumerate(OPEN_STAGES)}
_WON_INDEX = len(OPEN_STAGES)


def highest_stage(snap: Snapshot) -> pd.Series:
    """Per live opportunity (index opportunity_id): index into FUNNEL_STAGES of the furthest stage
    it reached."""
    opps = snap.opportunities
    history = snap.opportunity_history
    stages = pd.concat(
        [
            history.loc[
                isin(history["opportunity_id"], opps["opportunity_id"]), ["opportunity_id", "stage"]
            ],
            opps[["opportunity_id", "stage"]],
        ],
        ignore_index=True,
    )
    stages["idx"] = stages["stage"].map(_STAGE_INDEX).astype("float64")
    best = stages.groupby("opportunity_id")["idx"].max().reindex(opps["opportunity_id"]).fillna(0)
    best = best.astype("int64")
    won = (opps["stage"] == "closed_won").to_numpy()
    return pd.Series(
        np.where(won, _WON_INDEX, best.to_numpy()), index=opps["opportunity_id"].to_numpy()
    )


def build_kpi_funnel(
    snap: Snapshot, *, tz: str = "UTC", segments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Funnel per creation month x dimension x stage, conformed to `kpi_funnel`."""
    dims = Dimensions.from_snapshot(snap, segments)
    opps = snap.opportunities
    facts = dims.opportunities(opps[["opportunity_id", "account_id", "owner_id", "product"]])
    facts["period_start"] = month_start(local_date(opps["created_at"], tz)).to_numpy()
    facts = facts[facts["period_start"] <= pd.Timestamp(snap.as_of)]
    reached_idx = highest_stage(snap).reindex(facts["opportunity_id"]).to_numpy()
    # One 0/1 column per stage: the deal reached at least that stage.
    stage_cols = {f"s{i}": (reached_idx >= i).astype("int64") for i in range(len(FUNNEL_STAGES))}
    facts = facts.assign(**stage_cols)
    wide = group_by_dimension(facts, "month", {c: (c, "sum") for c in stage_cols}, DIMENSIONS)

    long = wide.melt(
        id_vars=KEYS, value_vars=list(stage_cols), var_name="col", value_name="reached"
    )
    long["stage_order"] = long["col"].str[1:].astype("int64") + 1
    long["stage"] = long["stage_order"].map(dict(enumerate(FUNNEL_STAGES, start=1)))
    long = long.sort_values(
        ["period_start", "dimension", "dimension_value", "stage_order"], kind="stable"
    )
    group = long.groupby(["period_start", "dimension", "dimension_value"], sort=False)["reached"]
    long["conversion"] = ratio(long["reached"], group.shift(1))
    long["overall_conversion"] = ratio(group.transform("last"), group.transform("first"))
    long["dimension_label"] = ""
    for dimension in DIMENSIONS:
        mask = long["dimension"] == dimension
        long.loc[mask, "dimension_label"] = dims.label(dimension, long.loc[mask, "dimension_value"])

    rank = long["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)})
    long = long.assign(_rank=rank).sort_values(
        ["period_start", "_rank", "dimension_value", "stage_order"], kind="stable"
    )
    return conform(long, TABLES["kpi_funnel"])
