"""As-of features: no feature at snapshot day t may depend on anything dated after t."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

from assets.model_logic.features import FeatureInputs, features_at, labeled_snapshots, snapshot_days
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import AS_OF, segment_world


def _cut(snap, t: pd.Timestamp):
    """The same world with every order, activity and deal dated after t removed."""
    orders = snap.orders[snap.orders["order_date"] <= t]
    acts = snap.activities[snap.activities["occurred_at"].dt.tz_localize(None).dt.floor("D") <= t]
    opps = snap.opportunities[snap.opportunities["close_date"] <= t]
    return make_snapshot(
        AS_OF, accounts=snap.accounts, orders=orders, activities=acts, opportunities=opps
    )


def test_features_at_t_ignore_everything_after_t():
    snap, _ = segment_world(n_per=8)
    t = pd.Timestamp(AS_OF) - pd.Timedelta(days=200)
    full = features_at(FeatureInputs.from_snapshot(snap), t)
    cut = features_at(FeatureInputs.from_snapshot(_cut(snap, t)), t)
    assert len(snap.orders) > len(_cut(snap, t).orders)  # there is future data to leak
    pdt.assert_frame_equal(full, cut)


def test_snapshot_features_do_not_change_when_later_orders_are_added():
    snap, _ = segment_world(n_per=8)
    inputs = FeatureInputs.from_snapshot(snap)
    days = snapshot_days(inputs)
    feature_cols = [
        c for c in labeled_snapshots(inputs, days[:1]).columns if not c.startswith("future_")
    ]
    extra = snap.orders.iloc[:50].assign(
        order_id=[f"late{i}" for i in range(50)],
        order_date=pd.Timestamp(AS_OF) - pd.Timedelta(days=1),
    )
    more = make_snapshot(
        AS_OF,
        accounts=snap.accounts,
        orders=pd.concat([snap.orders, extra], ignore_index=True),
        activities=snap.activities,
        opportunities=snap.opportunities,
    )
    before = labeled_snapshots(inputs, days)[feature_cols]
    after = labeled_snapshots(FeatureInputs.from_snapshot(more), days)[feature_cols]
    pdt.assert_frame_equal(before, after)


def test_events_after_d_are_invisible():
    snap, _ = segment_world(n_per=5)
    future = snap.orders.iloc[:20].assign(
        order_id=[f"f{i}" for i in range(20)], order_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=3)
    )
    later = make_snapshot(
        AS_OF,
        accounts=snap.accounts,
        orders=pd.concat([snap.orders, future], ignore_index=True),
        activities=snap.activities,
        opportunities=snap.opportunities,
    )
    d = pd.Timestamp(AS_OF)
    pdt.assert_frame_equal(
        features_at(FeatureInputs.from_snapshot(snap), d),
        features_at(FeatureInputs.from_snapshot(later), d),
    )
