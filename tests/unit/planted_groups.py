"""An independent data set for segment recovery: four planted behaviour groups that differ in
order rate, order size, activity rate and dormancy (issue 14, part 5). Vectorised: Poisson order
and activity days per account over two years, lognormal order sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.state_logic import Snapshot
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import AS_OF

HISTORY_DAYS = 730
# group: (orders per year, median order size, activities per 90 days, days silent before D)
GROUPS: dict[str, tuple[float, float, float, int]] = {
    "frequent_small": (52.0, 100.0, 6.0, 0),
    "rare_big": (4.0, 8_000.0, 2.0, 0),
    "engaged_mid": (12.0, 1_000.0, 40.0, 0),
    "dormant": (12.0, 600.0, 0.0, 420),
}


def planted_groups(n_per: int = 60, seed: int = 0) -> tuple[Snapshot, pd.Series]:
    rng = np.random.default_rng(seed)
    d = pd.Timestamp(AS_OF)
    accounts, orders, acts, truth = [], [], [], {}
    for name, (per_year, size, acts_90, silent) in GROUPS.items():
        ids = [f"{name}-{i:03d}" for i in range(n_per)]
        truth.update(dict.fromkeys(ids, name))
        rate = per_year * rng.lognormal(0.0, 0.25, n_per) / 365.0
        span = HISTORY_DAYS - silent
        n_orders = np.maximum(rng.poisson(rate * span), 1)
        owner = np.repeat(ids, n_orders)
        offset = rng.integers(silent, HISTORY_DAYS, len(owner))
        amount = np.round(size * rng.lognormal(0.0, 0.35, len(owner)), 2)
        orders.append(
            pd.DataFrame(
                {
                    "account_id": owner,
                    "order_date": (d - pd.to_timedelta(offset, unit="D")).astype("datetime64[s]"),
                    "amount": amount,
                }
            )
        )
        if acts_90 > 0:
            n_acts = rng.poisson(acts_90 * rng.lognormal(0.0, 0.25, n_per) * HISTORY_DAYS / 90)
            who = np.repeat(ids, n_acts)
            when = d - pd.to_timedelta(rng.integers(0, HISTORY_DAYS, len(who)), unit="D")
            acts.append(pd.DataFrame({"account_id": who, "occurred_at": when}))
        accounts.append(pd.DataFrame({"account_id": ids}))
    acc = pd.concat(accounts, ignore_index=True)
    acc = acc.assign(
        account_name=acc["account_id"],
        created_at=pd.Timestamp(d - pd.Timedelta(days=HISTORY_DAYS + 5), tz="UTC"),
    )
    o = pd.concat(orders, ignore_index=True)
    o = o.assign(order_id=[f"o{i:07d}" for i in range(len(o))], status="completed")
    a = pd.concat(acts, ignore_index=True)
    a = a.assign(
        activity_id=[f"a{i:07d}" for i in range(len(a))],
        activity_type="call",
        occurred_at=pd.to_datetime(a["occurred_at"]).dt.tz_localize("UTC") + pd.Timedelta(hours=10),
    )
    snap = make_snapshot(AS_OF, accounts=acc, orders=o, activities=a)
    return snap, pd.Series(truth, name="group")
