"""Churn: planted churners are found, time-split report, drivers, determinism, no-history case."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from sklearn.metrics import roc_auc_score

from assets.model_logic import build_churn
from schemas import SCHEMAS
from tests.cross_process import digest_in_subprocess, output_digest
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import AS_OF, churn_world


@pytest.fixture(scope="module")
def world():
    snap, truth = churn_world(n=200)
    return snap, truth, build_churn(snap)


def test_planted_churners_are_detected(world):
    _, _, out = world
    report = out.tables["churn_model_report"].set_index("model")
    assert set(report.index) == {"logistic_regression", "random_forest"}
    assert report["selected"].sum() == 1
    selected = report[report["selected"]].iloc[0]
    assert selected["auc"] >= 0.8
    assert selected["auc"] == report["auc"].max()
    assert (report["n_train"] > 0).all() and report["positive_rate"].between(0.01, 0.99).all()
    assert (report["trained_at"] == pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")).all()


def test_scores_cover_active_accounts_with_tiers_and_drivers(world):
    snap, truth, out = world
    scores = out.tables["churn_scores"]
    SCHEMAS["churn_scores"].validate(scores)
    SCHEMAS["churn_model_report"].validate(out.tables["churn_model_report"])
    d = pd.Timestamp(AS_OF)
    recent = snap.orders[snap.orders["order_date"] >= d - pd.Timedelta(days=179)]["account_id"]
    assert sorted(scores["account_id"]) == sorted(recent.unique())
    p = scores["churn_probability"]
    expected = np.where(p >= 0.5, "high", np.where(p >= 0.2, "medium", "low"))
    assert (scores["risk_tier"] == expected).all()
    assert all(
        isinstance(d, list) and len(d) <= 3 and all(isinstance(s, str) for s in d)
        for d in scores["top_drivers"]
    )
    assert scores["model_version"].nunique() == 1
    # Accounts whose planted decline is under way score higher than steady customers.
    stop = truth.set_index("account_id")["stop_day"].reindex(scores["account_id"]).to_numpy()
    declining = (
        pd.notna(stop)
        & (stop > np.datetime64(d))
        & (stop <= np.datetime64(d + pd.Timedelta(days=90)))
    )
    steady = pd.isna(stop)
    keep = declining | steady
    planted_auc = roc_auc_score(declining[keep], p[keep])
    assert declining.sum() >= 5 and planted_auc >= 0.8, planted_auc
    assert out.charts["churn_calibration"].startswith(b"\x89PNG")


@pytest.mark.slow
def test_same_inputs_give_identical_outputs_in_another_process(world):
    _, _, out = world
    setup = "from assets.model_logic import build_churn\nfrom tests.unit.model_fixtures import churn_world"
    assert digest_in_subprocess(setup, "build_churn(churn_world(n=200)[0])") == output_digest(out)


def test_orders_after_d_change_nothing(world):
    snap, _, out = world
    future = snap.orders.iloc[:40].assign(
        order_id=[f"future{i}" for i in range(40)],
        order_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=5),
    )
    later = make_snapshot(
        AS_OF,
        accounts=snap.accounts,
        activities=snap.activities,
        orders=pd.concat([snap.orders, future]),
    )
    again = build_churn(later)
    for name, frame in out.tables.items():
        pdt.assert_frame_equal(frame, again.tables[name])


def test_too_little_history_scores_nothing_and_says_why():
    orders = pd.DataFrame(
        {
            "order_id": ["o1"],
            "account_id": ["a"],
            "order_date": [pd.Timestamp("2025-06-01")],
            "amount": [10.0],
            "status": "completed",
        }
    )
    out = build_churn(make_snapshot(date(2025, 6, 30), orders=orders))
    assert out.tables["churn_scores"].empty and out.tables["churn_model_report"].empty
    assert (
        out.metadata["status"] == "not trained" and "too little history" in out.metadata["reason"]
    )
    SCHEMAS["churn_scores"].validate(out.tables["churn_scores"])
