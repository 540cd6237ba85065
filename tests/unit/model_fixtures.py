"""Synthetic snapshots with a planted truth for the model tests.

- `segment_world`: accounts drawn from five behavioural archetypes (plus prospects) whose
  clustering must be recovered.
- `churn_world`: customers ordering as Poisson processes; planted churners slow down (orders and
  activities decline over 120 days) and then stop for good, at dates spread over the history.
- `forecast_world`: daily revenue = linear trend + weekly seasonality + noise, split over regions
  and products.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from assets.state_logic import Snapshot
from tests.snapshot_factory import make_snapshot

AS_OF = date(2025, 6, 30)


def _frames(
    accounts: list[dict], orders: list[dict], activities: list[dict], opps: list[dict]
) -> dict[str, pd.DataFrame]:
    out = {"accounts": pd.DataFrame(accounts)}
    out["accounts"]["account_name"] = out["accounts"]["account_id"]
    if orders:
        o = pd.DataFrame(orders)
        o["order_id"] = [f"o{i:06d}" for i in range(len(o))]
        o["status"] = "completed"
        out["orders"] = o
    if activities:
        a = pd.DataFrame(activities)
        a["activity_id"] = [f"act{i:06d}" for i in range(len(a))]
        a["activity_type"] = "call"
        out["activities"] = a
    if opps:
        p = pd.DataFrame(opps)
        p["opportunity_id"] = [f"opp{i:06d}" for i in range(len(p))]
        p["probability"] = np.where(p["stage"] == "closed_won", 100.0, 0.0)
        out["opportunities"] = p
    return out


def _ts(day: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize("UTC") + pd.Timedelta(hours=10)


# Archetype: (order interval days, mean amount, activity interval days, first order, last order
# as days before D, win rate). Last-order ranges are what separates active, at-risk and dormant.
ARCHETYPES: dict[str, tuple[float, float, float, tuple[int, int], tuple[int, int], float]] = {
    "vip": (7, 20_000, 6, (1000, 1100), (0, 10), 0.7),
    "regular": (30, 2_000, 25, (600, 700), (0, 30), 0.4),
    "occasional": (150, 300, 90, (600, 700), (0, 60), 0.2),
    "at_risk": (30, 1_500, 25, (600, 700), (180, 260), 0.3),
    "dormant": (60, 800, 0, (1100, 1300), (500, 650), 0.1),
}


def segment_world(
    n_per: int = 30, n_prospects: int = 10, seed: int = 0
) -> tuple[Snapshot, pd.Series]:
    """Snapshot as of AS_OF and the planted archetype per account (prospects included)."""
    rng = np.random.default_rng(seed)
    d = pd.Timestamp(AS_OF)
    accounts, orders, activities, opps, truth = [], [], [], [], {}
    for name, (every, amount, act_every, first, last, win) in ARCHETYPES.items():
        for i in range(n_per):
            acc = f"{name}-{i:03d}"
            truth[acc] = name
            start = int(rng.integers(*first))
            stop = int(rng.integers(*last))
            accounts.append(
                {
                    "account_id": acc,
                    "region": "EMEA",
                    "created_at": _ts(d - pd.Timedelta(days=start + 30)),
                }
            )
            day = start - rng.uniform(0, every)
            while day >= stop:
                orders.append(
                    {
                        "account_id": acc,
                        "order_date": d - pd.Timedelta(days=int(day)),
                        "amount": round(float(amount * rng.lognormal(0, 0.3)), 2),
                        "product": "P1",
                    }
                )
                day -= every * rng.uniform(0.7, 1.3)
            if act_every:
                day = min(start, 400) - rng.uniform(0, act_every)
                while day >= stop:
                    activities.append(
                        {"account_id": acc, "occurred_at": _ts(d - pd.Timedelta(days=int(day)))}
                    )
                    day -= act_every * rng.uniform(0.7, 1.3)
            for _ in range(8):
                close = d - pd.Timedelta(days=int(rng.integers(stop, start + 1)))
                opps.append(
                    {
                        "account_id": acc,
                        "stage": "closed_won" if rng.random() < win else "closed_lost",
                        "amount": 1000.0,
                        "created_at": _ts(close - pd.Timedelta(days=30)),
                        "close_date": close,
                    }
                )
    for i in range(n_prospects):
        acc = f"prospect-{i:03d}"
        truth[acc] = "prospect"
        accounts.append(
            {"account_id": acc, "region": "AMER", "created_at": _ts(d - pd.Timedelta(days=100))}
        )
        activities.append({"account_id": acc, "occurred_at": _ts(d - pd.Timedelta(days=5))})
    snap = make_snapshot(AS_OF, **_frames(accounts, orders, activities, opps))
    return snap, pd.Series(truth, name="archetype").sort_index()


def churn_world(
    n: int = 300, history_days: int = 900, seed: int = 0
) -> tuple[Snapshot, pd.DataFrame]:
    """Snapshot as of AS_OF and per account its planted stop day (NaT = never churns).

    Each customer orders as a Poisson process (1-4 orders per 30 days). 45% are churners: over
    the 120 days before their stop day both order and activity rates decline to 15%, then stop.
    """
    rng = np.random.default_rng(seed)
    d = pd.Timestamp(AS_OF)
    day0 = d - pd.Timedelta(days=history_days)
    offsets = np.arange(history_days + 1)
    accounts, orders, activities, truth = [], [], [], []
    for i in range(n):
        acc = f"c{i:04d}"
        start = int(rng.integers(0, 300))
        rate = rng.uniform(1.0, 4.0) / 30.0
        mean_amount = rng.lognormal(7.0, 0.5)
        churner = rng.random() < 0.45
        stop = int(rng.integers(start + 200, history_days + 90)) if churner else 10**6
        mult = np.clip((stop - offsets) / 120.0, 0.15, 1.0)
        mult = np.where((offsets < start) | (offsets >= stop), 0.0, mult)
        order_days = offsets[rng.random(offsets.size) < rate * mult]
        act_days = offsets[rng.random(offsets.size) < (3.0 / 30.0) * mult]
        region = ["EMEA", "AMER", "APAC"][i % 3]
        accounts.append(
            {
                "account_id": acc,
                "region": region,
                "created_at": _ts(day0 + pd.Timedelta(days=start)),
            }
        )
        amounts = np.round(mean_amount * rng.lognormal(0, 0.3, order_days.size), 2)
        orders += [
            {
                "account_id": acc,
                "order_date": day0 + pd.Timedelta(days=int(o)),
                "amount": float(a),
                "product": "P1",
            }
            for o, a in zip(order_days, amounts, strict=True)
        ]
        activities += [
            {"account_id": acc, "occurred_at": _ts(day0 + pd.Timedelta(days=int(o)))}
            for o in act_days
        ]
        truth.append(
            {"account_id": acc, "stop_day": day0 + pd.Timedelta(days=stop) if churner else pd.NaT}
        )
    snap = make_snapshot(AS_OF, **_frames(accounts, orders, activities, []))
    return snap, pd.DataFrame(truth)


def forecast_world(days: int = 420, seed: int = 0, start_offset: int = 0) -> Snapshot:
    """Daily orders whose total follows trend + weekly seasonality + noise.

    a1 (EMEA, product A) and a2 (AMER, product B) order every day; a3 (no region, no product)
    orders on weekdays only. `start_offset` drops the first days (a shorter history).
    """
    rng = np.random.default_rng(seed)
    d = pd.Timestamp(AS_OF)
    weekly = np.array([1.0, 1.2, 1.3, 1.2, 1.1, 0.4, 0.3])
    rows = []
    for i in range(start_offset, days):
        day = d - pd.Timedelta(days=days - 1 - i)
        base = (800 + 2.0 * i) * weekly[day.day_of_week]
        for acc, share, product in (("a1", 0.5, "A"), ("a2", 0.3, "B"), ("a3", 0.2, None)):
            if acc == "a3" and day.day_of_week >= 5:
                continue
            amount = max(0.0, base * share + rng.normal(0, 40 * share))
            rows.append(
                {
                    "account_id": acc,
                    "order_date": day,
                    "amount": round(amount, 2),
                    "product": product,
                }
            )
    accounts = [
        {"account_id": "a1", "region": "EMEA", "created_at": _ts(d - pd.Timedelta(days=days + 10))},
        {"account_id": "a2", "region": "AMER", "created_at": _ts(d - pd.Timedelta(days=days + 10))},
        {"account_id": "a3", "region": None, "created_at": _ts(d - pd.Timedelta(days=days + 10))},
    ]
    return make_snapshot(AS_OF, **_frames(accounts, rows, [], []))
