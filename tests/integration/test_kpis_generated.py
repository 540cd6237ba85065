"""KPI cross-checks on a generated year of data (kpi_summary, kpi_funnel, campaign_roi).

One generated warehouse for the module: the first landing day carries a year of history, so
DAYS landing days give about 14 months of events. The KPIs are computed as of the last day and
checked three ways: `overall` equals the sum over every other dimension, month rows equal the
sum of their day rows for additive metrics, and the same numbers are recomputed in DuckDB SQL
straight from the clean Parquet, applying the upsert rule in SQL (latest `updated_at` per key,
ties: the later `date` partition, then the later `_source_row`; `is_deleted` removed).
Also covers the generator's target calibration, kpi_headlines and the two PNG charts.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from assets.kpi_logic import (
    build_campaign_roi,
    build_kpi_alerts,
    build_kpi_funnel,
    build_kpi_summary,
    funnel_chart,
    kpi_headlines,
    revenue_vs_target_chart,
)
from schemas.thresholds import Thresholds
from tests.integration.pipeline_fixture import build_generated_warehouse

pytestmark = pytest.mark.slow

DAYS = 75
ALL = "all"
UNKNOWN = "__unknown__"
MONEY = ["revenue", "won_amount", "pipeline_amount", "weighted_pipeline"]
COUNTS = [
    "orders",
    "active_customers",
    "new_customers",
    "opportunities_created",
    "opportunities_won",
    "opportunities_lost",
    "activities",
]
# Distinct-account counts do not add up over products (an account can buy two).
NOT_OVER_PRODUCT = {"active_customers", "new_customers"}
# Additive over time (pipeline is a stock at the period end, active_customers is distinct).
OVER_TIME = [
    "revenue",
    "won_amount",
    "orders",
    "new_customers",
    "opportunities_created",
    "opportunities_won",
    "opportunities_lost",
    "activities",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kpis(tmp_path_factory):
    built = build_generated_warehouse(tmp_path_factory.mktemp("kpis"), days=DAYS, seed=0)
    snap = built.snapshot()
    tz = built.settings.timezone
    summary = build_kpi_summary(snap, tz=tz)
    return {
        "built": built,
        "snap": snap,
        "summary": summary,
        "funnel": build_kpi_funnel(snap, tz=tz),
        "roi": build_campaign_roi(snap),
        # Streaks that ended earlier count too: this zone calibrates the generator's targets, and
        # which streak is still running on its last day is chance (the rule's default).
        "alerts": build_kpi_alerts(
            snap, summary, tz=tz, thresholds=Thresholds(attainment_streak_max_age_months=24)
        ),
    }


def _cents(values: pd.Series) -> pd.Series:
    return pd.Series(
        np.rint(values.astype("float64").fillna(0.0).to_numpy() * 100), index=values.index
    ).astype("int64")


def _additive(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Money as int cents, counts as int64, so sums compare exactly."""
    out = summary[["period_grain", "period_start", "dimension", "dimension_value"]].copy()
    for metric in metrics:
        out[metric] = (
            _cents(summary[metric]) if metric in MONEY else summary[metric].astype("int64")
        )
    return out


# --- shape of the generated year --------------------------------------------------------------


def test_the_generated_history_spans_more_than_a_year(kpis):
    summary, built = kpis["summary"], kpis["built"]
    days = summary.loc[summary["period_grain"] == "day", "period_start"]
    assert days.max() == pd.Timestamp(built.last_day)
    assert (days.max() - days.min()).days > 365
    overall = summary[(summary["dimension"] == "overall") & (summary["period_grain"] == "month")]
    assert (overall["revenue"] > 0).all() and (overall["orders"] > 0).all()
    for dimension in ("region", "owner", "product"):
        assert summary.loc[summary["dimension"] == dimension, "dimension_value"].nunique() >= 3


# --- overall = sum over each dimension --------------------------------------------------------


@pytest.mark.parametrize("dimension", ["region", "owner", "product", "segment"])
def test_overall_equals_the_sum_over_each_dimension(kpis, dimension):
    metrics = MONEY + [c for c in COUNTS if not (dimension == "product" and c in NOT_OVER_PRODUCT)]
    frame = _additive(kpis["summary"], metrics)
    keys = ["period_grain", "period_start"]
    overall = frame[frame["dimension"] == "overall"].set_index(keys)[metrics].sort_index()
    parts = frame[frame["dimension"] == dimension].groupby(keys)[metrics].sum().sort_index()
    pd.testing.assert_frame_equal(parts, overall, check_names=False)
    assert overall["revenue"].sum() > 0 and overall["opportunities_won"].sum() > 0


def test_distinct_customers_do_not_exceed_the_product_sum(kpis):
    frame = _additive(kpis["summary"], ["active_customers"])
    keys = ["period_grain", "period_start"]
    overall = (
        frame[frame["dimension"] == "overall"].set_index(keys)["active_customers"].sort_index()
    )
    parts = (
        frame[frame["dimension"] == "product"].groupby(keys)["active_customers"].sum().sort_index()
    )
    assert (parts >= overall).all() and (parts > overall).any()


# --- month = sum of its days -------------------------------------------------------------------


def test_month_rows_equal_the_sum_of_their_day_rows(kpis):
    frame = _additive(kpis["summary"], OVER_TIME)
    keys = ["period_start", "dimension", "dimension_value"]
    days = frame[frame["period_grain"] == "day"].copy()
    days["period_start"] = (
        days["period_start"].dt.to_period("M").dt.start_time.astype(frame["period_start"].dtype)
    )
    summed = days.groupby(keys)[OVER_TIME].sum().sort_index()
    months = frame[frame["period_grain"] == "month"].set_index(keys)[OVER_TIME].sort_index()
    pd.testing.assert_frame_equal(summed, months, check_names=False)


def test_month_pipeline_equals_its_last_day(kpis):
    """Pipeline is a stock: the month row is the pipeline at the end of its last day (or at D)."""
    frame = _additive(kpis["summary"], ["pipeline_amount", "weighted_pipeline"])
    frame = frame[frame["dimension"] == "overall"]
    days = frame[frame["period_grain"] == "day"].copy()
    days["month"] = days["period_start"].dt.to_period("M").dt.start_time
    last = days.sort_values("period_start").groupby("month").tail(1).set_index("month")
    months = frame[frame["period_grain"] == "month"].set_index("period_start")
    for col in ("pipeline_amount", "weighted_pipeline"):
        assert last[col].to_dict() == {k: months.loc[k, col] for k in last.index}


# --- the same numbers in DuckDB SQL ------------------------------------------------------------


def _state_sql(warehouse: Path, entity: str, key: str, as_of: str) -> str:
    """The upsert rule in SQL: the latest version per key among partitions <= D, deletes dropped."""
    return f"""
        SELECT * EXCLUDE (_rank) FROM (
            SELECT *, row_number() OVER (
                PARTITION BY {key} ORDER BY updated_at DESC, "date" DESC, _source_row DESC
            ) AS _rank
            FROM read_parquet('{warehouse}/{entity}/*/*.parquet', hive_partitioning = true)
            WHERE "date" <= DATE '{as_of}'
        )
        WHERE _rank = 1 AND NOT coalesce(is_deleted, false)
    """


def _sql_frame(sql: str) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        frame = con.execute(sql).df()
    finally:
        con.close()
    if "month" in frame:
        frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


@pytest.fixture(scope="module")
def sql_revenue(kpis):
    built = kpis["built"]
    wh, d = built.settings.warehouse, built.last_day.isoformat()
    return _sql_frame(f"""
        WITH orders AS ({_state_sql(wh, "orders", "order_id", d)}),
             accounts AS ({_state_sql(wh, "accounts", "account_id", d)})
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month,
               coalesce(a.region, '{UNKNOWN}') AS region,
               CAST(sum(CAST(round(o.amount * 100) AS BIGINT)) AS BIGINT) AS cents,
               count(*) AS orders
        FROM orders AS o LEFT JOIN accounts AS a ON a.account_id = o.account_id
        WHERE o.status = 'completed' AND o.order_date <= DATE '{d}'
        GROUP BY ALL ORDER BY ALL
    """)


@pytest.fixture(scope="module")
def sql_closed(kpis):
    built = kpis["built"]
    wh, d = built.settings.warehouse, built.last_day.isoformat()
    return _sql_frame(f"""
        WITH opps AS ({_state_sql(wh, "opportunities", "opportunity_id", d)})
        SELECT CAST(date_trunc('month', close_date) AS DATE) AS month,
               count(*) FILTER (WHERE stage = 'closed_won') AS won,
               count(*) FILTER (WHERE stage = 'closed_lost') AS lost,
               sum(CAST(round(coalesce(amount, 0) * 100) AS BIGINT))
                   FILTER (WHERE stage = 'closed_won') AS won_cents,
               count(*) FILTER (WHERE stage = 'closed_won')
                   / nullif(count(*), 0) AS win_rate
        FROM opps
        WHERE stage IN ('closed_won', 'closed_lost') AND close_date <= DATE '{d}'
        GROUP BY ALL ORDER BY ALL
    """)


def _month_rows(summary: pd.DataFrame, dimension: str) -> pd.DataFrame:
    rows = summary[(summary["period_grain"] == "month") & (summary["dimension"] == dimension)]
    return rows.assign(month=rows["period_start"].dt.date)


def test_sql_monthly_revenue_and_orders_overall(kpis, sql_revenue):
    assert kpis["snap"].revenue_source == "orders"
    months = _month_rows(kpis["summary"], "overall").set_index("month")
    sql = sql_revenue.groupby("month")[["cents", "orders"]].sum()
    assert len(sql) >= 13 and set(sql.index) <= set(months.index)
    sql = sql.reindex(months.index, fill_value=0)
    assert _cents(months["revenue"]).to_dict() == sql["cents"].to_dict()
    assert months["orders"].astype("int64").to_dict() == sql["orders"].to_dict()


def test_sql_monthly_revenue_per_region(kpis, sql_revenue):
    rows = _month_rows(kpis["summary"], "region")
    kpi = {
        (m, r): c
        for m, r, c in zip(
            rows["month"], rows["dimension_value"], _cents(rows["revenue"]), strict=True
        )
        if c != 0
    }
    sql = {
        (m, r): int(c)
        for m, r, c in sql_revenue[["month", "region"]]
        .assign(c=sql_revenue["cents"])
        .itertuples(index=False)
        if c != 0
    }
    assert len(sql) > 40
    assert kpi == sql


def test_sql_won_lost_and_win_rate_by_close_month(kpis, sql_closed):
    months = _month_rows(kpis["summary"], "overall").set_index("month")
    sql = sql_closed.set_index("month")
    assert set(sql.index) <= set(months.index) and sql["won"].sum() > 100
    sql = sql.reindex(months.index)
    assert months["opportunities_won"].to_dict() == sql["won"].fillna(0).astype("int64").to_dict()
    assert months["opportunities_lost"].to_dict() == sql["lost"].fillna(0).astype("int64").to_dict()
    assert (
        _cents(months["won_amount"]).to_dict()
        == sql["won_cents"].fillna(0).astype("int64").to_dict()
    )
    for month, rate in months["win_rate"].items():
        expected = sql.loc[month, "win_rate"]
        if pd.isna(expected):
            assert pd.isna(rate), month
        else:
            assert rate == pytest.approx(float(expected), rel=1e-12), month


def test_sql_campaign_roi(kpis):
    built = kpis["built"]
    wh, d = built.settings.warehouse, built.last_day.isoformat()
    sql = _sql_frame(f"""
        WITH opps AS ({_state_sql(wh, "opportunities", "opportunity_id", d)}),
             camps AS ({_state_sql(wh, "campaigns", "campaign_id", d)})
        SELECT c.campaign_id,
               CAST(round(c.cost * 100) AS BIGINT) AS cost_cents,
               coalesce(sum(CAST(round(coalesce(o.amount, 0) * 100) AS BIGINT)), 0) AS won_cents,
               count(o.opportunity_id) AS won_deals
        FROM camps AS c
        LEFT JOIN opps AS o ON o.campaign_id = c.campaign_id AND o.stage = 'closed_won'
        GROUP BY ALL ORDER BY c.campaign_id
    """)
    roi = kpis["roi"].set_index("campaign_id").sort_index()
    sql = sql.set_index("campaign_id").sort_index()
    assert list(roi.index) == list(sql.index) and len(roi) > 5
    assert _cents(roi["cost"]).tolist() == sql["cost_cents"].tolist()
    assert _cents(roi["won_amount"]).tolist() == sql["won_cents"].tolist()
    assert roi["won_deals"].tolist() == sql["won_deals"].tolist()
    assert (roi["won_deals"] > 0).any()
    expected = (sql["won_cents"] - sql["cost_cents"]) / sql["cost_cents"]
    assert np.allclose(roi["roi"].to_numpy(), expected.to_numpy(), rtol=1e-9, equal_nan=True)


# --- funnel --------------------------------------------------------------------------------------


def test_funnel_sums_over_dimensions_and_lead_equals_created(kpis):
    funnel, summary = kpis["funnel"], kpis["summary"]
    keys = ["period_start", "stage"]
    overall = funnel[funnel["dimension"] == "overall"].set_index(keys)["reached"].sort_index()
    for dimension in ("region", "owner", "product", "segment"):
        parts = funnel[funnel["dimension"] == dimension].groupby(keys)["reached"].sum().sort_index()
        assert parts.to_dict() == overall.to_dict(), dimension
    # Reached `lead` = every live deal created that month = opportunities_created.
    lead = overall.xs("lead", level="stage")
    created = _month_rows(summary, "overall").set_index("period_start")["opportunities_created"]
    created = created[created > 0]
    assert {pd.Timestamp(k): v for k, v in lead.items()} == {
        pd.Timestamp(k): v for k, v in created.items()
    }
    # Monotone: a stage never has more deals than the one before.
    by_group = funnel.sort_values("stage_order").groupby(
        ["period_start", "dimension", "dimension_value"]
    )
    assert (by_group["reached"].diff().dropna() <= 0).all()


# --- targets (generator calibration) and alerts ------------------------------------------------


def test_company_attainment_is_calibrated(kpis):
    built = kpis["built"]
    months = _month_rows(kpis["summary"], "overall")
    done = months[months["period_start"] + pd.offsets.MonthEnd(0) <= pd.Timestamp(built.last_day)]
    attainment = done["attainment"]
    assert attainment.notna().all() and len(attainment) >= 13
    assert attainment.between(0.8, 1.2).all(), attainment.round(3).tolist()
    assert 0.9 <= attainment.median() <= 1.1


def test_attainment_low_fires_for_some_reps_and_regions_only(kpis):
    summary, alerts = kpis["summary"], kpis["alerts"]
    low = alerts[alerts["alert_code"] == "attainment_low"]
    assert "overall" not in set(low["dimension"])
    for dimension in ("owner", "region"):
        with_target = summary[
            (summary["dimension"] == dimension) & summary["target_amount"].notna()
        ]["dimension_value"].nunique()
        fired = (low["dimension"] == dimension).sum()
        assert 0 < fired < with_target, (dimension, fired, with_target)
    assert (low["value"] < 0.8).all()


# --- headlines and charts ------------------------------------------------------------------------


def test_headlines_match_the_summary(kpis):
    built, summary, alerts = kpis["built"], kpis["summary"], kpis["alerts"]
    head = kpi_headlines(summary, alerts, built.last_day)
    months = _month_rows(summary, "overall").set_index("period_start")
    this, last = months.index.max(), months.index.max() - pd.DateOffset(months=1)
    assert head["month"] == this.strftime("%Y-%m")
    assert head["revenue_this_month"] == pytest.approx(months.loc[this, "revenue"])
    assert head["revenue_last_month"] == pytest.approx(months.loc[last, "revenue"])
    assert head["attainment_last_month"] == pytest.approx(months.loc[last, "attainment"])
    change = months.loc[this, "revenue"] / months.loc[last, "revenue"] - 1
    assert head["revenue_change"] == pytest.approx(change)
    assert head["alerts"] == len(alerts) and sum(head["alerts_by_code"].values()) == len(alerts)
    for value in head.values():
        assert not (isinstance(value, float) and math.isnan(value))


@pytest.mark.parametrize("chart", ["revenue_vs_target", "funnel"])
def test_charts_are_valid_pngs(kpis, chart, tmp_path):
    from PIL import Image

    png = (
        revenue_vs_target_chart(kpis["summary"])
        if chart == "revenue_vs_target"
        else funnel_chart(kpis["funnel"])
    )
    assert png.startswith(PNG_MAGIC)
    path = tmp_path / f"{chart}.png"
    path.write_bytes(png)
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        assert width > 400 and height > 250
        # Not blank: plenty of distinct colours (bars, text, target line).
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 20
