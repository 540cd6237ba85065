"""Models against the generator's planted truth, on a warehouse built by the real ingest code.

One generated world (DAYS landing days x ACCOUNTS accounts, seed 0; the first landing day carries a
year of history) is ingested day by day; the models run on `Snapshot`s rebuilt from the warehouse
partitions, exactly as the assets see them.

- Segments vs `archetype`: compared over every account with a completed order as of the last day
  (the model clusters exactly those; accounts without one are `prospect` and left out), all five
  archetypes included. The model names behaviour, not the generator's labels: `champion` ->
  `high value, active`, `steady` -> `frequent, active` (about weekly or more), `occasional`
  (~15 orders a year) -> `regular, active`, `at_risk` -> `at risk`, and the generator's `dormant`
  (2-3 small orders a year, most with one in the last year) -> `occasional`; the model keeps
  `dormant` for no order in 365 days.
- Churn: scores as of D0 = the last day - 90 (a real snapshot of the partitions up to D0, so
  nothing later is visible) against what happened in (D0, D0 + 90], read from the snapshot as of
  the last day. The label is the contract's: no completed order in those 90 days.
- Propensity and forecasts: their own time-split evaluations (propensity_model_report,
  forecast_backtest) as of the last day, against their naive baselines.
- Leakage: features at D0 computed from the last day's snapshot equal those computed after every
  event dated after D0 is removed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pandas.testing as pdt
import pytest
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from assets.model_logic import (
    build_churn,
    build_customer_segments,
    build_propensity,
    build_sales_forecast,
)
from assets.model_logic.features import LABEL_HORIZON, FeatureInputs, features_at
from assets.state_logic import revenue_events
from tests.integration.pipeline_fixture import build_generated_warehouse

DAYS = 91
"""The fewest landing days with a D0 = last day - 90 that is itself a landing day."""
ACCOUNTS = 300


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    gen = build_generated_warehouse(
        tmp_path_factory.mktemp("generated"), days=DAYS, accounts=ACCOUNTS, seed=0
    )
    truth = gen.truth.set_index("account_id")
    return gen, gen.snapshot(), truth


def test_segments_recover_the_planted_archetypes_with_readable_distinct_names(world):
    _, last, truth = world
    out = build_customer_segments(last)
    table = out.tables["customer_segments"].set_index("account_id").join(truth["archetype"])
    buyers = table[table["segment_id"] != "prospect"]
    assert buyers["archetype"].notna().all()
    ari = adjusted_rand_score(buyers["archetype"], buyers["segment_id"])
    assert ari >= 0.8, (ari, out.metadata["sizes"])

    names = table.groupby("segment_id")["segment_name"].unique()
    assert (names.map(len) == 1).all()  # one name per ID ...
    assert table.groupby("segment_name")["segment_id"].nunique().max() == 1  # ... and vice versa
    # Readable: words and commas, no '(2)' disambiguation suffixes.
    assert table["segment_name"].str.fullmatch(r"[a-z]+(?:[ ,]+[a-z]+)*").all()
    majority = buyers.groupby("archetype")["segment_name"].agg(lambda s: s.mode().iloc[0])
    assert majority.is_unique, majority  # each archetype gets a segment of its own
    assert majority["champion"] == "high value, active"
    assert majority["at_risk"] == "at risk"
    assert majority["steady"] == "frequent, active"
    assert majority["occasional"] == "regular, active"
    assert majority["dormant"] == "occasional"


def test_churn_scores_as_of_d0_rank_who_then_stops_ordering(world):
    gen, last, truth = world
    d0 = gen.last_day - timedelta(days=LABEL_HORIZON)
    assert d0 >= gen.start  # a landing day: its snapshot holds only what was known then
    out = build_churn(gen.snapshot(d0))
    scores = out.tables["churn_scores"].set_index("account_id")["churn_probability"]
    events = revenue_events(last)
    t0 = pd.Timestamp(d0)
    window = (events["day"] > t0) & (events["day"] <= t0 + pd.Timedelta(days=LABEL_HORIZON))
    churned = ~scores.index.isin(events.loc[window, "account_id"].unique())
    assert 0 < churned.sum() < len(scores)
    auc = roc_auc_score(churned, scores.to_numpy())
    assert auc >= 0.9, (auc, int(churned.sum()), len(scores))
    assert truth.index.isin(scores.index).sum() == len(scores)  # every scored account is planted


def test_propensity_beats_the_last_90_days_carried_forward(world):
    _, last, _ = world
    row = build_propensity(last).tables["propensity_model_report"].iloc[0]
    assert row["n_train"] > 0
    assert row["mae"] < row["baseline_mae"], (row["mae"], row["baseline_mae"])
    assert row["auc"] > 0.7


def test_total_forecast_beats_seasonal_naive_in_the_backtest(world):
    _, last, _ = world
    backtest = build_sales_forecast(last, max_workers=1).tables["forecast_backtest"]
    total = backtest[backtest["level"] == "total"].iloc[0]
    assert total["n_test"] > 0 and total["model"] != "seasonal_naive"
    assert total["mase"] < total["baseline_mase"], (total["mase"], total["baseline_mase"])
    candidates = total[["selection_mase_arima", "selection_mase_ets", "selection_mase_naive"]]
    assert total["mase"] == candidates.min()  # the best candidate of the backtest ships


def test_features_at_d0_ignore_everything_after_d0(world):
    gen, last, _ = world
    t0 = pd.Timestamp(gen.last_day - timedelta(days=LABEL_HORIZON))
    inputs = FeatureInputs.from_snapshot(last)
    assert (inputs.events["day"] > t0).any() and (inputs.activities["day"] > t0).any()
    cut = replace(
        inputs,
        events=inputs.events[inputs.events["day"] <= t0],
        activities=inputs.activities[inputs.activities["day"] <= t0],
        deals=inputs.deals[inputs.deals["day"] <= t0],
        accounts=inputs.accounts[inputs.accounts["created_day"] <= t0],
    )
    pdt.assert_frame_equal(features_at(inputs, t0), features_at(cut, t0))
