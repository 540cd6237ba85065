"""Open pipeline at the end of every period, from `opportunity_history`.

Grain: period x opportunity (before aggregation). For each period end instant m (end of the
period's last local day, or of D for the running period) the version valid then is the one with
`valid_from < m <= valid_to` (valid_to null = current): "valid on [valid_from, valid_to)" evaluated
at the last instant before local midnight. It counts when its stage is open and it is not a
tombstone; stage, amount and probability come from that version, owner, region, product and
segment from the state as of D (a deal deleted since then falls back to its last version).

Vectorised as an interval expansion: each open version covers a contiguous range of period ends,
found with two `searchsorted` calls, then expanded with `np.repeat` (no Python loop over periods).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.kpi_logic.common import to_cents
from assets.kpi_logic.dimensions import Dimensions
from assets.kpi_logic.periods import Calendar
from assets.state_logic import Snapshot
from schemas.ingest import OPEN_STAGES


def _as_micros(ts: pd.Series) -> np.ndarray:
    """UTC timestamps -> int64 microseconds (NaT -> int64 max, i.e. 'still valid')."""
    values = pd.to_datetime(ts, utc=True).dt.as_unit("us")
    out = values.to_numpy(dtype="datetime64[us]").astype("int64")
    out[values.isna().to_numpy()] = np.iinfo(np.int64).max
    return out


def _deal_dimensions(snap: Snapshot, dims: Dimensions) -> pd.DataFrame:
    """opportunity_id -> region, owner, product, segment as of D (state, else last version)."""
    cols = ["opportunity_id", "account_id", "owner_id", "product"]
    history = snap.opportunity_history.sort_values(["opportunity_id", "valid_from"], kind="stable")
    last = history.drop_duplicates("opportunity_id", keep="last")[cols]
    state = snap.opportunities[cols]
    deals = pd.concat(
        [state, last[~last["opportunity_id"].isin(state["opportunity_id"])]], ignore_index=True
    )
    return dims.opportunities(deals)[["opportunity_id", "region", "owner", "product", "segment"]]


def pipeline_facts(
    snap: Snapshot, dims: Dimensions, calendar: Calendar, grain: str
) -> pd.DataFrame:
    """One row per (period, open deal): period_start, opportunity_id, valid_from (the version),
    cents, weighted_cents, dims.

    weighted_cents = amount x probability / 100, rounded to cents per deal before summing.
    """
    history = snap.opportunity_history
    open_versions = history[
        history["stage"].isin(OPEN_STAGES) & ~history["is_deleted"].fillna(False).astype(bool)
    ]
    starts = calendar.periods(grain)
    ends = calendar.period_ends_utc(grain).to_numpy(dtype="datetime64[us]").astype("int64")
    valid_from = _as_micros(open_versions["valid_from"])
    valid_to = _as_micros(open_versions["valid_to"])
    # Period ends m with valid_from < m <= valid_to form the index range [first, stop).
    first = np.searchsorted(ends, valid_from, side="right")
    stop = np.searchsorted(ends, valid_to, side="right")
    counts = np.clip(stop - first, 0, None)
    version_pos = np.repeat(np.arange(len(open_versions)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    period_pos = np.repeat(first, counts) + offsets

    amount = open_versions["amount"].astype("float64").fillna(0.0).to_numpy()
    prob = open_versions["probability"].astype("float64").fillna(0.0).to_numpy()
    expanded = pd.DataFrame(
        {
            "period_start": starts.to_numpy()[period_pos],
            "opportunity_id": open_versions["opportunity_id"].to_numpy()[version_pos],
            "valid_from": open_versions["valid_from"].to_numpy()[version_pos],
            "cents": to_cents(pd.Series(amount[version_pos])),
            # amount * prob / 100 in money = amount * prob in cents
            "weighted_cents": np.rint(amount[version_pos] * prob[version_pos]).astype("int64"),
        }
    )
    return expanded.merge(_deal_dimensions(snap, dims), on="opportunity_id", how="left", sort=False)
