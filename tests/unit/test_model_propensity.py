"""Propensity: beats the carried-forward baseline, deterministic versioned output (also across
processes with another hash seed)."""

from __future__ import annotations

from datetime import date

import pandas.testing as pdt
import pytest

from assets.model_logic import build_propensity
from schemas import SCHEMAS
from tests.cross_process import digest_in_subprocess, output_digest
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import churn_world


@pytest.fixture(scope="module")
def world():
    snap, _ = churn_world(n=200)
    return snap, build_propensity(snap)


def test_beats_the_last_90_days_carried_forward(world):
    _, out = world
    report = out.tables["propensity_model_report"]
    SCHEMAS["propensity_model_report"].validate(report)
    row = report.iloc[0]
    assert row["mae"] < row["baseline_mae"]
    assert row["auc"] >= 0.8
    assert row["n_train"] > 0


def test_scores_every_account_deterministically(world):
    snap, out = world
    table = out.tables["customer_propensity"]
    SCHEMAS["customer_propensity"].validate(table)
    assert sorted(table["account_id"]) == sorted(snap.accounts["account_id"])
    assert table["model_version"].str.match(r"^rf-[0-9a-f]{12}$").all()
    assert (table["expected_revenue_90d"] >= 0).all()
    again = build_propensity(snap)
    for name, frame in out.tables.items():
        pdt.assert_frame_equal(frame, again.tables[name])


@pytest.mark.slow
def test_same_inputs_give_identical_outputs_in_another_process(world):
    _, out = world
    setup = (
        "from assets.model_logic import build_propensity\n"
        "from tests.unit.model_fixtures import churn_world"
    )
    expr = "build_propensity(churn_world(n=200)[0])"
    assert digest_in_subprocess(setup, expr) == output_digest(out)


def test_no_history_gives_empty_tables():
    out = build_propensity(make_snapshot(date(2025, 6, 30)))
    assert out.tables["customer_propensity"].empty and out.metadata["status"] == "not trained"
