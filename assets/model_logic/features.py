"""As-of features per account, shared by every model (segments, churn, propensity).

`FeatureInputs` extracts, once per snapshot, the few event streams the models use (completed
revenue, activities, closed deals, account creation), each reduced to a calendar day in UTC and cut
at D. `features_at(inputs, t)` then computes one row per account that existed at day t using only
events dated on or before t, so a training snapshot at t never sees its own future (see the leakage
test). Everything is groupby-vectorised; the only loop is over the handful of snapshot days.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from assets.state_logic import Snapshot, revenue_events

UNKNOWN = "__unknown__"

SEGMENT_FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "activities_90d",
    "win_rate",
]
"""The contract's customer_segments feature columns (also clustered, after scaling)."""

MODEL_FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "activities_90d",
    "win_rate",
    "closed_deals",
    "orders_total",
    "revenue_total",
    "avg_order_value",
    "orders_90d",
    "orders_prev_90d",
    "revenue_90d",
    "revenue_prev_90d",
    "activities_prev_90d",
    "days_since_activity",
    "order_trend",
    "activity_trend",
]
"""Features of the supervised models (churn, propensity): seed's Age (tenure), History (RFM) and
Engagement (activities), plus the 90-vs-previous-90-day trends that reveal a declining customer."""

# Heavy-tailed counts and money are log1p'd before they reach a model; trees do not care, the
# logistic regression and the clustering do.
_LOG_FEATURES = set(MODEL_FEATURES) - {"win_rate", "order_trend", "activity_trend"}
"""Every model feature but the bounded rate and the signed trends."""
NEVER_DAYS = 3650.0
"""Stand-in for 'never happened' in day-distance features (no order / no activity yet)."""

LABEL_HORIZON = 90
SNAPSHOT_STEP = 30
MAX_SNAPSHOTS = 12


def day_of(values: pd.Series) -> pd.Series:
    """Timestamps (tz-aware or naive) or dates -> naive midnight of their UTC calendar day."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.to_datetime(values).dt.floor("D").astype("datetime64[s]")


def end_of_day_utc(as_of: date) -> pd.Timestamp:
    """trained_at of every model report: D 23:59:59.999999 UTC (the end of D, not the wall clock,
    so reruns are identical)."""
    return pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def short_sha(payload: object) -> str:
    """12 hex digits of the SHA-256 of a JSON rendering (model versions, cache keys)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class FeatureInputs:
    """The event streams the features need, as of D (nothing dated after D survives)."""

    as_of: pd.Timestamp
    events: pd.DataFrame
    """Completed revenue: account_id, day, amount."""
    activities: pd.DataFrame
    """account_id, day."""
    deals: pd.DataFrame
    """Closed opportunities: account_id, day (close_date), won (bool)."""
    accounts: pd.DataFrame
    """account_id, created_day, region (UNKNOWN when missing)."""

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> FeatureInputs:
        d = pd.Timestamp(snap.as_of)
        ev = revenue_events(snap)
        ev = ev[ev["account_id"].notna() & (ev["day"] <= d)]
        events = pd.DataFrame(
            {
                "account_id": ev["account_id"].astype("str"),
                "day": ev["day"],
                "amount": ev["amount"].fillna(0.0),
            }
        )
        act = snap.activities
        act = act[act["account_id"].notna()]
        acts = pd.DataFrame(
            {"account_id": act["account_id"].astype("str"), "day": day_of(act["occurred_at"])}
        )
        acts = acts[acts["day"] <= d]
        opp = snap.opportunities
        opp = opp[
            opp["account_id"].notna()
            & opp["stage"].isin(["closed_won", "closed_lost"])
            & opp["close_date"].notna()
        ]
        # Stage is the state as of D; a deal whose close_date is <= t was closed by t (the close
        # date of a closed deal is when it closed), so filtering by close_date keeps features as-of.
        deals = pd.DataFrame(
            {
                "account_id": opp["account_id"].astype("str"),
                "day": day_of(opp["close_date"]),
                "won": (opp["stage"] == "closed_won").to_numpy(),
            }
        )
        deals = deals[deals["day"] <= d]
        acc = snap.accounts
        accounts = pd.DataFrame(
            {
                "account_id": acc["account_id"].astype("str"),
                "created_day": day_of(acc["created_at"]),
                "region": acc["region"].fillna(UNKNOWN).astype("str"),
            }
        )
        return cls(
            as_of=d,
            events=events.reset_index(drop=True),
            activities=acts.reset_index(drop=True),
            deals=deals.reset_index(drop=True),
            accounts=accounts.drop_duplicates("account_id").reset_index(drop=True),
        )

    @property
    def first_event_day(self) -> pd.Timestamp | None:
        return None if self.events.empty else self.events["day"].min()

    def cut(self, t: pd.Timestamp) -> FeatureInputs:
        """The same streams as of an earlier day t (events and accounts dated after t dropped;
        accounts without a creation day kept, as `features_at` treats them)."""
        acc = self.accounts
        return FeatureInputs(
            as_of=t,
            events=self.events[self.events["day"] <= t].reset_index(drop=True),
            activities=self.activities[self.activities["day"] <= t].reset_index(drop=True),
            deals=self.deals[self.deals["day"] <= t].reset_index(drop=True),
            accounts=acc[~(acc["created_day"] > t)].reset_index(drop=True),
        )

    def restrict(self, ids: pd.Index) -> FeatureInputs:
        """Only the given accounts' streams (a feature of an account depends on its own events
        only, so the features of those accounts are unchanged)."""
        return FeatureInputs(
            as_of=self.as_of,
            **{
                name: frame[frame["account_id"].isin(ids)].reset_index(drop=True)
                for name, frame in (
                    ("events", self.events),
                    ("activities", self.activities),
                    ("deals", self.deals),
                    ("accounts", self.accounts),
                )
            },
        )

    def known_accounts(self) -> pd.Index:
        """Sorted IDs of the accounts `features_at(self, self.as_of)` would return."""
        acc = self.accounts[self.accounts["created_day"] <= self.as_of]["account_id"]
        ids = pd.concat([acc, self.events["account_id"]]).drop_duplicates().sort_values()
        return pd.Index(ids.to_numpy(dtype="str"), name="account_id")


def _window(frame: pd.DataFrame, t: pd.Timestamp, days: int, offset: int = 0) -> pd.DataFrame:
    """Rows with day in [t - offset - days + 1, t - offset]."""
    hi = t - pd.Timedelta(days=offset)
    lo = hi - pd.Timedelta(days=days - 1)
    return frame[(frame["day"] >= lo) & (frame["day"] <= hi)]


def features_at(inputs: FeatureInputs, t: pd.Timestamp | date) -> pd.DataFrame:
    """One row per account existing at day t (created on or before t, or with an order by t),
    indexed by account_id (sorted), columns MODEL_FEATURES (+ first_order_day). Uses only events
    dated <= t. NaN: recency_days/avg_order_value without orders, win_rate without closed deals,
    days_since_activity without activities."""
    t = pd.Timestamp(t)
    ev = inputs.events[inputs.events["day"] <= t]
    acts = inputs.activities[inputs.activities["day"] <= t]
    deals = inputs.deals[inputs.deals["day"] <= t]
    acc = inputs.accounts[inputs.accounts["created_day"] <= t]
    # Vectorised: a Python set of the events' account IDs iterated millions of Arrow strings.
    known = pd.concat([acc["account_id"], ev["account_id"]], ignore_index=True).astype("str")
    ids = pd.Index(known.unique(), name="account_id").sort_values()

    def count(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("account_id").size().reindex(ids, fill_value=0).astype("float64")

    def total(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("account_id")["amount"].sum().reindex(ids, fill_value=0.0)

    by_acc = ev.groupby("account_id")["day"]
    first_order = by_acc.min().reindex(ids)
    last_order = by_acc.max().reindex(ids)
    created = inputs.accounts.set_index("account_id")["created_day"].reindex(ids)
    # Tenure starts at account creation, or at the first order when that is earlier or unknown.
    start = pd.concat([created, first_order], axis=1).min(axis=1)
    last_act = acts.groupby("account_id")["day"].max().reindex(ids)
    won = deals.groupby("account_id")["won"].sum().reindex(ids, fill_value=0).astype("float64")
    closed = count(deals)

    out = pd.DataFrame(index=ids)
    out["recency_days"] = (t - last_order).dt.days.astype("float64")
    out["frequency"] = count(_window(ev, t, 365))
    out["monetary"] = total(_window(ev, t, 365))
    out["tenure_days"] = (t - start).dt.days.astype("float64").fillna(0.0)
    out["activities_90d"] = count(_window(acts, t, 90))
    out["win_rate"] = (won / closed.where(closed > 0)).astype("float64")
    out["closed_deals"] = closed
    out["orders_total"] = count(ev)
    out["revenue_total"] = total(ev)
    out["avg_order_value"] = out["revenue_total"] / out["orders_total"].where(
        out["orders_total"] > 0
    )
    out["orders_90d"] = count(_window(ev, t, 90))
    out["orders_prev_90d"] = count(_window(ev, t, 90, offset=90))
    out["revenue_90d"] = total(_window(ev, t, 90))
    out["revenue_prev_90d"] = total(_window(ev, t, 90, offset=90))
    out["activities_prev_90d"] = count(_window(acts, t, 90, offset=90))
    out["days_since_activity"] = (t - last_act).dt.days.astype("float64")
    out["order_trend"] = np.log1p(out["orders_90d"]) - np.log1p(out["orders_prev_90d"])
    out["activity_trend"] = np.log1p(out["activities_90d"]) - np.log1p(out["activities_prev_90d"])
    out["first_order_day"] = first_order.astype("datetime64[s]")
    return out


def future_outcome(inputs: FeatureInputs, t: pd.Timestamp, ids: pd.Index) -> pd.DataFrame:
    """Labels of snapshot day t: completed orders and revenue in (t, t + LABEL_HORIZON]."""
    ev = inputs.events
    ev = ev[(ev["day"] > t) & (ev["day"] <= t + pd.Timedelta(days=LABEL_HORIZON))]
    grouped = ev.groupby("account_id")["amount"]
    return pd.DataFrame(
        {
            "future_orders": grouped.size().reindex(ids, fill_value=0).astype("float64"),
            "future_revenue": grouped.sum().reindex(ids, fill_value=0.0),
        },
        index=ids,
    )


def snapshot_days(inputs: FeatureInputs) -> list[pd.Timestamp]:
    """Labeled training snapshot days, ascending: D-90, D-120, ... (every SNAPSHOT_STEP days, at
    most MAX_SNAPSHOTS), each with its full 90-day label window on or before D and at least 90 days
    of revenue history behind it."""
    first = inputs.first_event_day
    if first is None:
        return []
    days = []
    for k in range(MAX_SNAPSHOTS):
        t = inputs.as_of - pd.Timedelta(days=LABEL_HORIZON + SNAPSHOT_STEP * k)
        if t < first + pd.Timedelta(days=90):
            break
        days.append(t)
    return sorted(days)


def labeled_snapshots(inputs: FeatureInputs, days: list[pd.Timestamp]) -> pd.DataFrame:
    """Features at each snapshot day joined with its future outcome; columns snapshot_day,
    account_id, MODEL_FEATURES, future_orders, future_revenue. Sorted by (snapshot_day, account)."""
    frames = []
    for t in days:
        feats = features_at(inputs, t)
        labels = future_outcome(inputs, t, feats.index)
        frames.append(feats.join(labels).assign(snapshot_day=t).reset_index())
    if not frames:
        return pd.DataFrame(
            columns=[
                "snapshot_day",
                "account_id",
                *MODEL_FEATURES,
                "future_orders",
                "future_revenue",
            ]
        )
    return pd.concat(frames, ignore_index=True)


def model_matrix(features: pd.DataFrame) -> np.ndarray:
    """MODEL_FEATURES as a float matrix: day distances without an event -> NEVER_DAYS (capped),
    missing win rate -> 0 (closed_deals = 0 tells the model there is no evidence), heavy tails
    log1p'd. Same transform for training and scoring."""
    cols = {}
    for name in MODEL_FEATURES:
        values = features[name].astype("float64")
        if name in ("recency_days", "days_since_activity"):
            values = values.fillna(NEVER_DAYS).clip(0, NEVER_DAYS)
        values = values.fillna(0.0)
        cols[name] = np.log1p(values.clip(lower=0)) if name in _LOG_FEATURES else values
    return pd.DataFrame(cols).to_numpy(dtype="float64")
