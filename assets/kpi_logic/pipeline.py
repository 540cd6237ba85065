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

from assets.kpi_logic.common import isin, to_cents
from assets.kpi_logic.dimensions import Dimensions
from assets.kpi_logic.periods import Calendar
from assets.state_logic import Snapshot
from schemas.ingest import OPEN_STAGES

DIMENSION_COLUMNS = ("region", "owner", "product", "segment")


def _as_micros(ts: pd.Series) -> np.ndarray:
    """UTC timestamps -> int64 microseconds (NaT -> int64 max, i.e. 'still valid')."""
    values = pd.to_datetime(ts, utc=True).dt.as_unit("us")
    out = values.to_numpy(dtype="datetime64[us]").astype("int64")
    out[values.isna().to_numpy()] = np.iinfo(np.int64).max
    return out


def deal_dimensions(snap: Snapshot, dims: Dimensions) -> pd.DataFrame:
    """opportunity_id -> region, owner, product, segment as of D (state, else last version)."""
    cols = ["opportunity_id", "account_id", "owner_id", "product"]
    history = snap.opportunity_history.sort_values(["opportunity_id", "valid_from"], kind="stable")
    last = history.drop_duplicates("opportunity_id", keep="last")[cols]
    state = snap.opportunities[cols]
    deals = pd.concat(
        [state, last[~isin(last["opportunity_id"], state["opportunity_id"])]], ignore_index=True
    )
    return dims.opportunities(deals)[["opportunity_id", *DIMENSION_COLUMNS]]


def pipeline_facts(
    snap: Snapshot,
    dims: Dimensions,
    calendar: Calendar,
    grain: str,
    deals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (period, open deal): period_start, opportunity_id, valid_from (the version),
    cents, weighted_cents, dims.

    weighted_cents = amount x probability / 100, rounded to cents per deal before summing.
    `deals` is `deal_dimensions(snap, dims)` when the caller already has it (it is the same for
    every grain).
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
    # Dimensions are joined to the versions (thousands of rows), then every column is expanded
    # by position with a typed take: `.to_numpy()` of a string or tz-aware column would make
    # millions of Python objects, and a join on the expanded rows would hash millions of IDs.
    versions = open_versions[["opportunity_id", "valid_from"]].merge(
        deal_dimensions(snap, dims) if deals is None else deals,
        on="opportunity_id",
        how="left",
        sort=False,
    )
    expanded = {
        "period_start": pd.Series(starts.to_numpy()[period_pos]),
        **{
            name: versions[name].take(version_pos).reset_index(drop=True)
            for name in ("opportunity_id", "valid_from")
        },
        "cents": to_cents(pd.Series(amount[version_pos])),
        # amount * prob / 100 in money = amount * prob in cents
        "weighted_cents": pd.Series(
            np.rint(amount[version_pos] * prob[version_pos]).astype("int64")
        ),
    }
    for name in DIMENSION_COLUMNS:
        # A handful of values per dimension: expanded as category codes, which the grouping
        # uses as they are (strings would be copied here and hashed again there).
        values = versions[name].astype("category")
        codes = values.cat.codes.to_numpy()[version_pos]
        expanded[name] = pd.Categorical.from_codes(codes, categories=values.cat.categories)
    return pd.DataFrame(expanded)
