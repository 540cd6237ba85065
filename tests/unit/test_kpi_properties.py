"""Property-style cross-checks of kpi_summary on a synthetic random snapshot.

overall = sum over the values of any dimension (additive metrics), month rows = sum of their day
rows, and a DuckDB SQL recomputation of monthly revenue per region straight from the state frames.
`synthetic_snapshot` is also the benchmark input (2 years, ~1,000 accounts, 15 reps, 6 products).
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.kpi_logic import build_kpi_funnel, build_kpi_summary
from schemas import SCHEMAS
from schemas.ingest import STAGES
from tests.snapshot_factory import make_snapshot

TZ = "America/New_York"
ADDITIVE = [
    "revenue",
    "orders",
    "opportunities_created",
    "opportunities_won",
    "opportunities_lost",
    "won_amount",
    "pipeline_amount",
    "weighted_pipeline",
    "activities",
]
ACCOUNT_LEVEL = ["active_customers", "new_customers"]  # additive over account-level dimensions only


def synthetic_snapshot(
    accounts: int = 1000, days: int = 730, seed: int = 7, as_of: date = date(2025, 12, 30)
):
    """A random but well-formed snapshot: 15 reps, 5 regions (+ missing), 6 products (+ missing)."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=days - 1)
    reps = [f"R{i:02d}" for i in range(15)]
    regions = np.array(["EMEA", "NA", "LATAM", "APAC", "ANZ", None], dtype=object)
    products = np.array([f"P{i}" for i in range(6)] + [None], dtype=object)
    account_ids = [f"A{i:05d}" for i in range(accounts)]
    acc = pd.DataFrame(
        {
            "account_id": account_ids,
            "account_name": account_ids,
            "region": regions[rng.integers(0, len(regions), accounts)],
            "owner_id": np.array([*reps, None, "GHOST"], dtype=object)[
                rng.integers(0, 17, accounts)
            ],
            "created_at": pd.Timestamp("2020-01-01", tz="UTC"),
        }
    )

    def random_days(n: int) -> pd.Series:
        return pd.Series(start + pd.to_timedelta(rng.integers(0, days, n), unit="D"))

    def random_ts(n: int) -> pd.Series:
        offset = pd.to_timedelta(rng.integers(0, days * 86400, n), unit="s")
        return pd.Series((start + offset).tz_localize("UTC"))

    n_orders = accounts * 25
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i:07d}" for i in range(n_orders)],
            "account_id": np.array(account_ids + ["ORPHAN"], dtype=object)[
                rng.integers(0, accounts + 1, n_orders)
            ],
            "order_date": random_days(n_orders),
            "amount": np.round(rng.gamma(2.0, 400.0, n_orders), 2),
            "product": products[rng.integers(0, len(products), n_orders)],
            "status": np.array(["completed"] * 8 + ["cancelled", "refunded"])[
                rng.integers(0, 10, n_orders)
            ],
        }
    )

    n_opps = accounts * 5
    opp_ids = np.array([f"D{i:06d}" for i in range(n_opps)])
    created = random_ts(n_opps)
    n_versions = rng.integers(1, 5, n_opps)
    final = rng.integers(0, len(STAGES), n_opps)
    opp_account = np.array(account_ids + [None], dtype=object)[
        rng.integers(0, accounts + 1, n_opps)
    ]
    opp_owner = np.array([*reps, None], dtype=object)[rng.integers(0, 16, n_opps)]
    opp_product = products[rng.integers(0, len(products), n_opps)]
    amount = np.round(rng.gamma(2.0, 3000.0, n_opps), 2)
    # history: versions spaced 1..40 days apart; the last version carries the final stage
    pos = np.repeat(np.arange(n_opps), n_versions)
    step = np.concatenate([np.arange(k) for k in n_versions])
    gaps = pd.to_timedelta(rng.integers(1, 40 * 86400, len(pos)), unit="s")
    valid_from = (
        pd.Series(created.to_numpy()[pos])
        + pd.Series(gaps).where(step > 0, pd.Timedelta(0)).groupby(pos).cumsum().to_numpy()
    )
    is_last = step == n_versions[pos] - 1
    stage_idx = np.where(is_last, final[pos], np.minimum(step, 4))
    deleted = is_last & (rng.random(len(pos)) < 0.03) & (n_versions[pos] > 1)
    history = pd.DataFrame(
        {
            "opportunity_id": opp_ids[pos],
            "valid_from": valid_from.to_numpy(),
            "stage": np.array(STAGES)[stage_idx],
            "amount": amount[pos],
            "probability": np.array([10, 20, 40, 60, 80, 100, 0], dtype=float)[stage_idx],
            "is_deleted": deleted,
            "account_id": opp_account[pos],
            "owner_id": opp_owner[pos],
            "product": opp_product[pos],
            "created_at": created.to_numpy()[pos],
        }
    )
    history = history[history["valid_from"] < (end + pd.Timedelta(days=1)).tz_localize("UTC")]
    history["valid_to"] = history.groupby("opportunity_id")["valid_from"].shift(-1)
    current = history.drop_duplicates("opportunity_id", keep="last")
    current = current[~current["is_deleted"]]
    closed = current["stage"].isin(["closed_won", "closed_lost"])
    opps = current.assign(
        close_date=pd.Series(current["valid_from"].dt.tz_localize(None).dt.normalize()).where(
            closed
        ),
        campaign_id=np.array(["C1", "C2", None], dtype=object)[rng.integers(0, 3, len(current))],
    ).drop(columns=["valid_from", "valid_to"])

    n_acts = accounts * 30
    acts = pd.DataFrame(
        {
            "activity_id": [f"X{i:07d}" for i in range(n_acts)],
            "account_id": np.array(account_ids + [None], dtype=object)[
                rng.integers(0, accounts + 1, n_acts)
            ],
            "owner_id": np.array([*reps, None], dtype=object)[rng.integers(0, 16, n_acts)],
            "activity_type": "call",
            "occurred_at": random_ts(n_acts),
        }
    )
    months = pd.period_range(start, end, freq="M").strftime("%Y-%m").tolist()
    targets = pd.concat(
        [
            pd.DataFrame(
                {"period": months, "rep_id": None, "region": None, "target_amount": 500000.0}
            ),
            pd.DataFrame(
                {
                    "period": np.repeat(months, 15),
                    "rep_id": reps * len(months),
                    "region": None,
                    "target_amount": 30000.0,
                }
            ),
            pd.DataFrame(
                {"period": months, "rep_id": None, "region": "EMEA", "target_amount": 100000.0}
            ),
        ],
        ignore_index=True,
    )
    return make_snapshot(
        as_of,
        accounts=acc,
        reps=pd.DataFrame({"rep_id": reps, "rep_name": [f"Rep {r}" for r in reps]}),
        orders=orders,
        opportunities=opps,
        opportunity_history=history,
        activities=acts,
        targets=targets,
    )


@pytest.fixture(scope="module")
def snap():
    return synthetic_snapshot(accounts=200, days=400, seed=3)


@pytest.fixture(scope="module")
def segments(snap):
    ids = snap.accounts["account_id"]
    seg = np.where(
        np.arange(len(ids)) % 3 == 0, "S0", np.where(np.arange(len(ids)) % 3 == 1, "S1", "prospect")
    )
    keep = np.arange(len(ids)) % 10 != 0  # some accounts have no segment row -> __unknown__
    return pd.DataFrame(
        {"account_id": ids[keep], "segment_id": seg[keep], "segment_name": seg[keep]}
    )


@pytest.fixture(scope="module")
def summary(snap, segments):
    return build_kpi_summary(snap, tz=TZ, segments=segments)


def test_schema_and_density(summary):
    SCHEMAS["kpi_summary"].validate(summary)
    for grain in ("day", "month"):
        rows = summary[summary["period_grain"] == grain]
        per_value = rows.groupby(["dimension", "dimension_value"]).size()
        assert per_value.nunique() == 1  # every value has every period
        assert rows["period_start"].nunique() == per_value.iloc[0]


@pytest.mark.parametrize("dimension", ["region", "owner", "product", "segment"])
def test_overall_equals_sum_over_values(summary, dimension):
    metrics = ADDITIVE + (ACCOUNT_LEVEL if dimension != "product" else [])
    keys = ["period_grain", "period_start"]
    overall = summary[summary["dimension"] == "overall"].set_index(keys)[metrics].sort_index()
    parts = summary[summary["dimension"] == dimension].groupby(keys)[metrics].sum().sort_index()
    pd.testing.assert_frame_equal(parts.round(2), overall.round(2), check_dtype=False)


def test_month_rows_equal_sum_of_day_rows(summary):
    metrics = [m for m in ADDITIVE if "pipeline" not in m] + ["new_customers"]
    days = summary[summary["period_grain"] == "day"]
    days = days.assign(
        period_start=days["period_start"].dt.to_period("M").dt.start_time.astype("datetime64[s]")
    )
    keys = ["period_start", "dimension", "dimension_value"]
    from_days = days.groupby(keys)[metrics].sum().sort_index()
    months = summary[summary["period_grain"] == "month"].set_index(keys)[metrics].sort_index()
    pd.testing.assert_frame_equal(from_days.round(2), months.round(2), check_dtype=False)


def test_pipeline_at_month_end_equals_last_day(summary):
    # the end of a month is the end of its last day: month pipeline = pipeline of its last day row
    days = summary[summary["period_grain"] == "day"]
    last = days.groupby(
        [days["period_start"].dt.to_period("M"), "dimension", "dimension_value"]
    ).tail(1)
    last = last.assign(
        period_start=last["period_start"].dt.to_period("M").dt.start_time.astype("datetime64[s]")
    )
    keys = ["period_start", "dimension", "dimension_value"]
    months = summary[summary["period_grain"] == "month"].set_index(keys).sort_index()
    last = last.set_index(keys).sort_index()
    for metric in ("pipeline_amount", "weighted_pipeline"):
        pd.testing.assert_series_equal(last[metric], months[metric])


def test_duckdb_monthly_revenue_per_region(snap, summary):
    orders, accounts = snap.orders, snap.accounts  # noqa: F841 - read by DuckDB by name
    expected = duckdb.sql(
        """
        SELECT date_trunc('month', o.order_date)::TIMESTAMP AS period_start,
               coalesce(a.region, '__unknown__') AS dimension_value,
               sum(round(o.amount * 100)::BIGINT) / 100.0 AS revenue,
               count(*) AS orders
        FROM orders o LEFT JOIN accounts a USING (account_id)
        WHERE o.status = 'completed' AND o.order_date <= DATE '2025-12-30'
        GROUP BY ALL
        """
    ).df()
    ours = summary[(summary["period_grain"] == "month") & (summary["dimension"] == "region")]
    ours = ours[ours["orders"] > 0][["period_start", "dimension_value", "revenue", "orders"]]
    expected["period_start"] = expected["period_start"].astype("datetime64[s]")
    key = ["period_start", "dimension_value"]
    merged = ours.merge(expected, on=key, how="outer", suffixes=("", "_sql"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["revenue"] - merged["revenue_sql"]).abs().max() < 1e-6
    assert (merged["orders"] == merged["orders_sql"]).all()


def test_attainment_only_where_targets(summary):
    months = summary[summary["period_grain"] == "month"]
    with_target = months[months["target_amount"].notna()]
    # company -> overall, rep rows -> owner, region rows -> region (EMEA only); never products/segments
    assert set(with_target["dimension"]) == {"overall", "owner", "region"}
    assert set(with_target.loc[with_target["dimension"] == "region", "dimension_value"]) == {"EMEA"}
    assert (
        with_target.loc[with_target["dimension"] == "overall", "target_amount"] == 500000.0
    ).all()
    assert (with_target.loc[with_target["dimension"] == "owner", "target_amount"] == 30000.0).all()


def test_funnel_monotone_and_additive(snap):
    f = build_kpi_funnel(snap, tz=TZ)
    SCHEMAS["kpi_funnel"].validate(f)
    g = f.groupby(["period_start", "dimension", "dimension_value"])["reached"]
    assert (g.diff().fillna(0) <= 0).all()  # reached never grows along the funnel
    overall = f[f["dimension"] == "overall"].groupby("stage")["reached"].sum()
    for dimension in ("region", "owner", "product"):
        assert f[f["dimension"] == dimension].groupby("stage")["reached"].sum().equals(overall)


@pytest.mark.slow
def test_two_year_summary_has_a_row_per_day():
    # How fast this is belongs in benchmarks/, not in an assertion (no test asserts a timing).
    big = synthetic_snapshot()  # 730 days, 1,000 accounts, 15 reps, 6 products
    out = build_kpi_summary(big, tz="Europe/Berlin")
    assert out["period_start"].nunique() == 730


@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30),
    members=st.lists(st.text(max_size=4), max_size=30),
)
@settings(max_examples=200, deadline=None)
def test_arrow_isin_agrees_with_pandas(values: list, members: list) -> None:
    from assets.kpi_logic.common import isin

    left = pd.Series(values, dtype="str")
    found = isin(left, pd.Series(members, dtype="str"))
    assert found.tolist() == left.isin(members).tolist()


def test_first_orders_break_same_day_ties_by_order_id() -> None:
    from assets.kpi_logic.facts import first_order_facts

    day = pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-03"]).as_unit("s")
    revenue = pd.DataFrame(
        {
            "account_id": pd.Series(["a", "a", "a", "b"], dtype="str"),
            "order_id": pd.Series(["o1", "o9", "o3", "o2"], dtype="str"),
            "product": pd.Series(["x", "y", "x", "x"], dtype="str"),
            "day": day,
        }
    )
    first = first_order_facts(revenue, by_product=False)
    assert first["order_id"].tolist() == ["o3", "o2"]
    by_product = first_order_facts(revenue, by_product=True)
    assert sorted(by_product["order_id"]) == ["o2", "o3", "o9"]
