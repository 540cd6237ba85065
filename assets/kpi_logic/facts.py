"""Fact frames behind kpi_summary: one row per event, with its local `day` and its dimensions.

Each builder returns columns `day` (datetime64[s], local date in the settings time zone),
`region`, `owner`, `product`, `segment` and its measures, restricted to days <= D.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assets.kpi_logic.common import to_cents
from assets.kpi_logic.dimensions import Dimensions
from assets.kpi_logic.periods import local_date
from assets.state_logic import Snapshot, revenue_events

WON, LOST = "closed_won", "closed_lost"


def _until(frame: pd.DataFrame, snap: Snapshot) -> pd.DataFrame:
    """Keep facts dated on or before D (a future close date is not a fact yet)."""
    return frame[frame["day"].notna() & (frame["day"] <= pd.Timestamp(snap.as_of))].reset_index(
        drop=True
    )


def revenue_facts(snap: Snapshot, dims: Dimensions) -> pd.DataFrame:
    """One row per completed revenue event: day, account_id, order_id, cents + dimensions.

    With the revenue source `won_opportunities` the event is a won deal: region and segment stay
    the account's, but the owner is the deal's own owner (a deal's owner is its own, and so the
    revenue of a rep equals its won amount in a CRM-only export).
    """
    events = revenue_events(snap)
    facts = dims.orders(events)
    if snap.revenue_source == "won_opportunities":
        deal_owner = snap.opportunities.set_index("opportunity_id")["owner_id"]
        facts = dims.opportunities(
            events.assign(owner_id=events["order_id"].map(deal_owner).astype("str"))
        )
    facts["cents"] = to_cents(facts["amount"])
    return _until(facts, snap)


def first_order_facts(revenue: pd.DataFrame, by_product: bool) -> pd.DataFrame:
    """First completed order ever per account (or per account x product): the new customers.

    Ties on the first day are broken by order_id so the attribution is deterministic.
    """
    keys = ["account_id", "product"] if by_product else ["account_id"]
    known = revenue[revenue["account_id"].notna()]
    # Arrow's stable sort: pandas sorts a string key by building a Categorical of it first
    # (~6 s on 9M orders); nulls last in both.
    order = pc.sort_indices(
        pa.table({"day": known["day"].to_numpy(), "order_id": pa.array(known["order_id"])}),
        sort_keys=[("day", "ascending"), ("order_id", "ascending")],
    )
    ordered = known.take(order.to_numpy())
    return ordered.drop_duplicates(keys, keep="first").reset_index(drop=True)


def created_facts(snap: Snapshot, dims: Dimensions, tz: str) -> pd.DataFrame:
    """One row per live opportunity, on the local date of its created_at."""
    opps = snap.opportunities
    facts = dims.opportunities(opps[["opportunity_id", "account_id", "owner_id", "product"]])
    facts["day"] = local_date(opps["created_at"], tz).to_numpy()
    return _until(facts, snap)


def closed_facts(snap: Snapshot, dims: Dimensions, tz: str) -> pd.DataFrame:
    """One row per live closed opportunity (current stage), on its close_date.

    Measures: won, lost (0/1), won_cents, lost_cents, cycle_days (won deals only: close_date minus the local
    date of created_at, whole days; null for lost deals).
    """
    opps = snap.opportunities
    closed = opps[opps["stage"].isin([WON, LOST]) & opps["close_date"].notna()]
    facts = dims.opportunities(closed[["opportunity_id", "account_id", "owner_id", "product"]])
    won = (closed["stage"] == WON).to_numpy()
    facts["day"] = closed["close_date"].to_numpy()
    facts["won"] = won.astype("int64")
    facts["lost"] = (~won).astype("int64")
    cents = to_cents(closed["amount"]).to_numpy()
    facts["won_cents"] = cents * won
    facts["lost_cents"] = cents * ~won
    cycle = (closed["close_date"] - local_date(closed["created_at"], tz)).dt.days
    facts["cycle_days"] = cycle.where(won).astype("float64").to_numpy()
    return _until(facts, snap)


def activity_facts(snap: Snapshot, dims: Dimensions, tz: str) -> pd.DataFrame:
    """One row per live activity, on the local date of occurred_at."""
    acts = snap.activities
    facts = dims.activities(acts[["activity_id", "account_id", "owner_id"]])
    facts["day"] = local_date(acts["occurred_at"], tz).to_numpy()
    return _until(facts, snap)


def first_event_day(snap: Snapshot, tz: str) -> pd.Timestamp | None:
    """Earliest local date of any event in the state: orders (any status), opportunities created
    or closed, activities, opportunity history versions. None when the state is empty."""
    candidates = [
        snap.orders["order_date"].min(),
        local_date(snap.opportunities["created_at"], tz).min(),
        snap.opportunities.loc[snap.opportunities["stage"].isin([WON, LOST]), "close_date"].min(),
        local_date(snap.activities["occurred_at"], tz).min(),
        local_date(snap.opportunity_history["valid_from"], tz).min(),
    ]
    if snap.revenue_source == "won_opportunities":
        candidates.append(revenue_events(snap)["day"].min())
    days = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    return min(days) if days else None
