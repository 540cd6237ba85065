"""Known-answer tests for kpi_summary, kpi_funnel and campaign_roi.

A hand-built snapshot (D = 2024-03-10, time zone Europe/Berlin, UTC+1 in winter) where every
expected number below is worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from assets.kpi_logic import build_campaign_roi, build_kpi_funnel, build_kpi_summary
from schemas import SCHEMAS
from tests.snapshot_factory import make_snapshot

TZ = "Europe/Berlin"
D = date(2024, 3, 10)
NA = None


def ts(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True))


def days(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


def hand_snapshot(revenue_source: str = "orders"):
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3"],
            "account_name": ["Alpha", "Beta", "Gamma"],
            "region": ["EU", "US", NA],
            "owner_id": ["R1", "R2", "R1"],
            "created_at": ts("2023-01-01", "2023-01-01", "2023-01-01"),
        }
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "rep_name": ["Ann", "Bob"]})
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8"],
            "account_id": ["A1", "A1", "A2", "A2", "A3", "A1", "A1", "A2"],
            "order_date": days(
                "2024-01-05",
                "2024-01-20",
                "2024-01-20",
                "2024-02-03",
                "2024-02-29",
                "2024-02-10",
                "2024-03-10",
                "2024-03-01",
            ),
            "amount": [100.10, 50.20, 30.00, 999.00, 20.05, 10.00, 5.55, 0.10],
            "product": ["P1", "P2", "P1", "P1", NA, "P1", "P1", "P2"],
            "status": [
                "completed",
                "completed",
                "completed",
                "refunded",
                "completed",
                "cancelled",
                "completed",
                "completed",
            ],
        }
    )
    # Current state (D4 is deleted, so it is absent from the state but present in history).
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2", "D3", "D5", "D6", "D7"],
            "account_id": ["A1", "A2", "A3", NA, "A2", "A1"],
            "owner_id": ["R1", "R2", "R1", "R3", "R2", "R1"],
            "stage": ["closed_won", "negotiation", "closed_lost", "lead", "closed_won", "lead"],
            "amount": [1000.0, 400.0, 300.0, np.nan, 250.50, 80.0],
            "probability": [100.0, 80.0, 0.0, 10.0, 100.0, 10.0],
            "product": ["P1", "P2", "P1", NA, "P1", "P1"],
            "campaign_id": ["C1", "C2", "C3", NA, "C1", NA],
            "created_at": ts(
                "2024-01-10T09:00Z",
                "2024-01-31T23:30Z",  # 2024-02-01 00:30 in Berlin: a February deal
                "2024-01-05T12:00Z",
                "2024-02-20T10:00Z",
                "2024-02-01T10:00Z",
                "2024-03-02T10:00Z",
            ),
            "close_date": days("2024-02-05", NA, "2024-02-15", NA, "2024-03-05", NA),
        }
    )
    h = [  # opportunity_id, valid_from, valid_to, stage, amount, probability, is_deleted
        ("D1", "2024-01-10T09:00Z", "2024-01-15T09:00Z", "lead", 1000.0, 10.0, False),
        ("D1", "2024-01-15T09:00Z", "2024-01-20T10:00Z", "qualified", 1000.0, 20.0, False),
        ("D1", "2024-01-20T10:00Z", "2024-02-05T10:00Z", "proposal", 1000.0, 60.0, False),
        ("D1", "2024-02-05T10:00Z", NA, "closed_won", 1000.0, 100.0, False),
        # D2 moves twice in February
        ("D2", "2024-01-31T23:30Z", "2024-02-10T10:00Z", "lead", 400.0, 10.0, False),
        ("D2", "2024-02-10T10:00Z", "2024-02-20T10:00Z", "qualified", 400.0, 20.0, False),
        ("D2", "2024-02-20T10:00Z", NA, "negotiation", 400.0, 80.0, False),
        ("D3", "2024-01-05T12:00Z", "2024-01-25T10:00Z", "lead", 300.0, 10.0, False),
        ("D3", "2024-01-25T10:00Z", "2024-02-15T10:00Z", "needs_analysis", 300.0, 40.0, False),
        ("D3", "2024-02-15T10:00Z", NA, "closed_lost", 300.0, 0.0, False),
        # D4: tombstoned on 2024-02-12, counts in pipeline until then, nowhere else
        ("D4", "2024-01-08T10:00Z", "2024-02-12T10:00Z", "qualified", 500.0, 20.0, False),
        ("D4", "2024-02-12T10:00Z", NA, "qualified", 500.0, 20.0, True),
        ("D5", "2024-02-20T10:00Z", NA, "lead", np.nan, 10.0, False),
        ("D6", "2024-02-01T10:00Z", "2024-03-05T10:00Z", "lead", 250.50, 10.0, False),
        ("D6", "2024-03-05T10:00Z", NA, "closed_won", 250.50, 100.0, False),
        ("D7", "2024-03-02T10:00Z", NA, "lead", 80.0, 10.0, False),
    ]
    history = pd.DataFrame(
        h,
        columns=[
            "opportunity_id",
            "valid_from",
            "valid_to",
            "stage",
            "amount",
            "probability",
            "is_deleted",
        ],
    )
    deal_attrs = {  # account, owner, product of each deal's versions
        "D1": ("A1", "R1", "P1"),
        "D2": ("A2", "R2", "P2"),
        "D3": ("A3", "R1", "P1"),
        "D4": ("A1", "R1", "P2"),
        "D5": (NA, "R3", NA),
        "D6": ("A2", "R2", "P1"),
        "D7": ("A1", "R1", "P1"),
    }
    history["account_id"] = history["opportunity_id"].map(lambda k: deal_attrs[k][0])
    history["owner_id"] = history["opportunity_id"].map(lambda k: deal_attrs[k][1])
    history["product"] = history["opportunity_id"].map(lambda k: deal_attrs[k][2])
    history["valid_from"] = pd.to_datetime(history["valid_from"], utc=True)
    history["valid_to"] = pd.to_datetime(history["valid_to"], utc=True)
    activities = pd.DataFrame(
        {
            "activity_id": ["X1", "X2", "X3", "X4", "X5"],
            "account_id": ["A1", "A2", NA, "A1", "A1"],
            "owner_id": ["R1", "R2", NA, "R1", "R1"],
            "activity_type": ["call", "email", "task", "meeting", "call"],
            "occurred_at": ts(
                "2024-01-31T23:30Z",  # 2024-02-01 in Berlin
                "2024-01-15T10:00Z",
                "2024-03-09T10:00Z",
                "2024-03-10T22:30Z",  # 23:30 on D in Berlin
                "2024-03-10T23:30Z",  # 2024-03-11 in Berlin: after D, excluded
            ),
        }
    )
    targets = pd.DataFrame(
        {
            "period": ["2024-01", "2024-01", "2024-02", "2024-02"],
            "rep_id": [NA, "R1", NA, "R2"],
            "region": [NA, NA, "EU", NA],
            "target_amount": [200.0, 100.0, 50.0, 0.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["C1", "C2", "C3"],
            "campaign_name": ["Spring", "Webinar", "Fair"],
            "cost": [1000.0, 0.0, 500.0],
        }
    )
    return make_snapshot(
        D,
        revenue_source=revenue_source,
        accounts=accounts,
        reps=reps,
        orders=orders,
        opportunities=opportunities,
        opportunity_history=history,
        activities=activities,
        targets=targets,
        campaigns=campaigns,
    )


SEGMENTS = pd.DataFrame(
    {
        "account_id": ["A1", "A2", "A3"],
        "segment_id": ["S1", "S1", "S2"],
        "segment_name": ["Loyal", "Loyal", "Small"],
    }
)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return build_kpi_summary(hand_snapshot(), tz=TZ, segments=SEGMENTS)


def row(summary: pd.DataFrame, grain: str, start: str, dimension: str, value: str) -> pd.Series:
    hit = summary[
        (summary["period_grain"] == grain)
        & (summary["period_start"] == pd.Timestamp(start))
        & (summary["dimension"] == dimension)
        & (summary["dimension_value"] == value)
    ]
    assert len(hit) == 1, (grain, start, dimension, value)
    return hit.iloc[0]


def check(r: pd.Series, **expected) -> None:
    for metric, value in expected.items():
        got = r[metric]
        if value is None:
            assert pd.isna(got), (metric, got)
        else:
            assert got == value, (metric, got, value)


def test_schema_and_shape(summary):
    SCHEMAS["kpi_summary"].validate(summary)
    # first event: D3 created 2024-01-05 12:00Z and O1 on 2024-01-05; D = 2024-03-10
    # days: 27 (Jan 5..31) + 29 (Feb) + 10 (Mar) = 66; months: 3
    # values: overall 1, region EU/US/__unknown__ 3, owner R1/R2/R3/__unknown__ 4,
    # product P1/P2/__unknown__ 3, segment S1/S2/__unknown__ 3 -> 14
    assert (summary["period_grain"] == "day").sum() == 66 * 14
    assert (summary["period_grain"] == "month").sum() == 3 * 14
    assert not summary.duplicated(
        ["period_grain", "period_start", "dimension", "dimension_value"]
    ).any()
    assert summary.equals(
        summary.sort_values(["period_grain", "period_start"], kind="stable").reset_index(drop=True)
    )


def test_revenue_month_overall(summary):
    # Jan: O1 100.10 + O2 50.20 + O3 30.00 = 180.30 over 3 orders (aov 60.10); accounts A1, A2 (both new)
    check(
        row(summary, "month", "2024-01-01", "overall", "all"),
        revenue=180.30,
        orders=3,
        aov=180.30 / 3,
        active_customers=2,
        new_customers=2,
        target_amount=200.0,
        attainment=180.30 / 200.0,
    )
    # Feb: O4 refunded and O6 cancelled excluded; O5 20.05 (A3 new); company target none in Feb
    check(
        row(summary, "month", "2024-02-01", "overall", "all"),
        revenue=20.05,
        orders=1,
        aov=20.05,
        active_customers=1,
        new_customers=1,
        target_amount=None,
        attainment=None,
    )
    # Mar (running): O7 5.55 + O8 0.10 = 5.65; A1 and A2 active, none new
    check(
        row(summary, "month", "2024-03-01", "overall", "all"),
        revenue=5.65,
        orders=2,
        active_customers=2,
        new_customers=0,
    )


def test_revenue_by_dimension(summary):
    # EU = A1: Jan O1 + O2 = 150.30; US = A2: Jan O3 30.00, Mar O8 0.10; A3 has no region: Feb O5 20.05
    check(
        row(summary, "month", "2024-01-01", "region", "EU"),
        revenue=150.30,
        orders=2,
        active_customers=1,
        new_customers=1,
        target_amount=None,
    )
    check(
        row(summary, "month", "2024-03-01", "region", "US"), revenue=0.10, orders=1, new_customers=0
    )
    check(
        row(summary, "month", "2024-02-01", "region", "__unknown__"), revenue=20.05, new_customers=1
    )
    # region target EU Feb 50.00, revenue 0 -> attainment 0.0 (not null)
    check(
        row(summary, "month", "2024-02-01", "region", "EU"),
        revenue=0.0,
        aov=None,
        target_amount=50.0,
        attainment=0.0,
    )
    # owner of an order = its account's owner: R1 owns A1 and A3; rep target R1 Jan 100 -> 150.30 / 100
    check(
        row(summary, "month", "2024-01-01", "owner", "R1"),
        dimension_label="Ann",
        revenue=150.30,
        target_amount=100.0,
        attainment=150.30 / 100.0,
    )
    check(row(summary, "month", "2024-02-01", "owner", "R1"), revenue=20.05)
    # R2 Feb target 0 -> attainment null (zero denominator)
    check(
        row(summary, "month", "2024-02-01", "owner", "R2"),
        revenue=0.0,
        target_amount=0.0,
        attainment=None,
    )
    # company target never lands on a rep/region row, rep targets never on overall
    check(row(summary, "month", "2024-01-01", "region", "US"), target_amount=None, attainment=None)
    # products: P1 Jan O1 + O3 = 130.10, both accounts' first P1 order; P2 Jan O2 (A1's first P2)
    check(row(summary, "month", "2024-01-01", "product", "P1"), revenue=130.10, new_customers=2)
    check(row(summary, "month", "2024-01-01", "product", "P2"), revenue=50.20, new_customers=1)
    # Mar: P1 O7 (A1 bought P1 before: not new), P2 O8 (A2's first P2: new)
    check(row(summary, "month", "2024-03-01", "product", "P1"), revenue=5.55, new_customers=0)
    check(row(summary, "month", "2024-03-01", "product", "P2"), revenue=0.10, new_customers=1)
    check(row(summary, "month", "2024-02-01", "product", "__unknown__"), revenue=20.05)
    # segments: S1 = A1 + A2: Jan 180.30; S2 = A3: Feb 20.05
    check(
        row(summary, "month", "2024-01-01", "segment", "S1"),
        dimension_label="Loyal",
        revenue=180.30,
    )
    check(
        row(summary, "month", "2024-02-01", "segment", "S2"), dimension_label="Small", revenue=20.05
    )


def test_day_rows(summary):
    # 2024-01-20: O2 50.20 + O3 30.00
    check(
        row(summary, "day", "2024-01-20", "overall", "all"),
        revenue=80.20,
        orders=2,
        aov=40.10,
        active_customers=2,
        new_customers=1,
        activities_per_day=0.0,
    )
    # nothing happened on 2024-01-06: zeros and null ratios
    check(
        row(summary, "day", "2024-01-06", "overall", "all"),
        revenue=0.0,
        orders=0,
        aov=None,
        win_rate=None,
        avg_sales_cycle_days=None,
        attainment=None,
        target_amount=None,
    )
    # targets are monthly: day rows never carry one
    assert summary.loc[summary["period_grain"] == "day", "target_amount"].isna().all()


def test_opportunities(summary):
    # created (Berlin dates, deleted D4 excluded): Jan D3 (01-05), D1 (01-10) = 2;
    # Feb D2 (2024-01-31T23:30Z = Feb 1 local), D6, D5 = 3; Mar D7 = 1
    assert row(summary, "month", "2024-01-01", "overall", "all")["opportunities_created"] == 2
    assert row(summary, "month", "2024-02-01", "overall", "all")["opportunities_created"] == 3
    assert row(summary, "month", "2024-03-01", "overall", "all")["opportunities_created"] == 1
    # Feb closes: D1 won 1000 (cycle 2024-02-05 - 2024-01-10 = 26 days), D3 lost -> win rate 1/2
    check(
        row(summary, "month", "2024-02-01", "overall", "all"),
        opportunities_won=1,
        opportunities_lost=1,
        won_amount=1000.0,
        win_rate=0.5,
        avg_sales_cycle_days=26.0,
    )
    # ... by amount: won 1000 / (1000 won + 300 lost), what dbt_salesforce calls win percent
    feb = row(summary, "month", "2024-02-01", "overall", "all")
    assert feb["win_rate_amount"] == pytest.approx(1000.0 / 1300.0)
    assert row(summary, "month", "2024-03-01", "overall", "all")["win_rate_amount"] == 1.0
    assert pd.isna(row(summary, "month", "2024-01-01", "overall", "all")["win_rate_amount"])
    # Mar: D6 won 250.50 (cycle 2024-03-05 - 2024-02-01 = 33 days)
    check(
        row(summary, "month", "2024-03-01", "overall", "all"),
        opportunities_won=1,
        opportunities_lost=0,
        won_amount=250.50,
        win_rate=1.0,
        avg_sales_cycle_days=33.0,
    )
    # Jan: nothing closed -> null ratios
    check(
        row(summary, "month", "2024-01-01", "overall", "all"),
        opportunities_won=0,
        win_rate=None,
        avg_sales_cycle_days=None,
    )
    # owner of a deal is its own: D5's owner R3 is no rep -> label is the ID; D5 has no account or product
    check(
        row(summary, "month", "2024-02-01", "owner", "R3"),
        dimension_label="R3",
        opportunities_created=1,
    )
    check(
        row(summary, "month", "2024-02-01", "region", "__unknown__"),
        opportunities_created=1,
        opportunities_lost=1,
    )  # D5 (no account) created, D3 (A3, no region) lost
    check(row(summary, "month", "2024-02-01", "product", "__unknown__"), opportunities_created=1)
    # lost deal D3 belongs to R1: R1 Feb won D1 + lost D3
    check(row(summary, "month", "2024-02-01", "owner", "R1"), win_rate=0.5, won_amount=1000.0)


def test_pipeline(summary):
    # end of Jan = 2024-01-31T23:00Z: D1 proposal 1000 x 60% = 600, D3 needs_analysis 300 x 40% = 120,
    # D4 qualified 500 x 20% = 100 (not yet tombstoned); D2 starts at 23:30Z, after the end
    check(
        row(summary, "month", "2024-01-01", "overall", "all"),
        pipeline_amount=1800.0,
        weighted_pipeline=820.0,
    )
    # by owner/region/product: deleted D4 takes its last version's attributes (A1 -> EU, R1, P2)
    check(
        row(summary, "month", "2024-01-01", "region", "EU"),
        pipeline_amount=1500.0,
        weighted_pipeline=700.0,
    )
    check(
        row(summary, "month", "2024-01-01", "region", "__unknown__"),
        pipeline_amount=300.0,
        weighted_pipeline=120.0,
    )
    check(
        row(summary, "month", "2024-01-01", "product", "P2"),
        pipeline_amount=500.0,
        weighted_pipeline=100.0,
    )
    # end of Feb = 2024-02-29T23:00Z: D2 negotiation 400 x 80% = 320; D5 lead without amount 0;
    # D6 lead 250.50 x 10% = 25.05; D1 won, D3 lost, D4 deleted
    check(
        row(summary, "month", "2024-02-01", "overall", "all"),
        pipeline_amount=650.50,
        weighted_pipeline=345.05,
    )
    # running month ends at the end of D: D2 400/320 + D5 0 + D7 80 x 10% = 8 (D6 won on 03-05)
    check(
        row(summary, "month", "2024-03-01", "overall", "all"),
        pipeline_amount=480.0,
        weighted_pipeline=328.0,
    )
    # day grain, end of 2024-02-11: D1 won on 02-05 (out); D3 needs_analysis 300 x 40% = 120,
    # D4 qualified 500 x 20% = 100, D2 qualified 400 x 20% = 80, D6 lead 250.50 x 10% = 25.05
    # -> 300 + 500 + 400 + 250.50 = 1450.50 and 120 + 100 + 80 + 25.05 = 325.05
    check(
        row(summary, "day", "2024-02-11", "overall", "all"),
        pipeline_amount=1450.50,
        weighted_pipeline=325.05,
    )
    # on 2024-02-12 D4's tombstone (10:00Z) removes it: 1450.50 - 500 = 950.50, 325.05 - 100 = 225.05
    check(
        row(summary, "day", "2024-02-12", "overall", "all"),
        pipeline_amount=950.50,
        weighted_pipeline=225.05,
    )


def test_activities(summary):
    # Jan: X2 -> 1/31; Feb: X1 (2024-01-31T23:30Z = Feb 1 in Berlin) -> 1/29
    check(
        row(summary, "month", "2024-01-01", "overall", "all"),
        activities=1,
        activities_per_day=1 / 31,
    )
    check(
        row(summary, "month", "2024-02-01", "overall", "all"),
        activities=1,
        activities_per_day=1 / 29,
    )
    check(row(summary, "day", "2024-02-01", "owner", "R1"), activities=1, activities_per_day=1.0)
    # running month: X3 (03-09) + X4 (23:30 on D local) = 2 over 10 elapsed days; X5 is 03-11 local
    check(
        row(summary, "month", "2024-03-01", "overall", "all"), activities=2, activities_per_day=0.2
    )
    # X3 has no owner and no account; activities never have a product
    check(
        row(summary, "month", "2024-03-01", "owner", "__unknown__"),
        activities=1,
        activities_per_day=0.1,
    )
    check(row(summary, "month", "2024-03-01", "product", "__unknown__"), activities=2)


def test_utc_moves_month_boundary():
    s = build_kpi_summary(hand_snapshot(), tz="UTC")
    # in UTC D2 is created on 2024-01-31 and X1 occurs on 2024-01-31
    check(row(s, "month", "2024-01-01", "overall", "all"), opportunities_created=3, activities=2)
    check(row(s, "month", "2024-02-01", "overall", "all"), opportunities_created=2, activities=0)
    # end of Jan in UTC = 2024-02-01T00:00Z: D2 (lead 400 x 10% = 40) now counts
    check(
        row(s, "month", "2024-01-01", "overall", "all"),
        pipeline_amount=2200.0,
        weighted_pipeline=860.0,
    )
    # no segments given: every account is in segment __unknown__
    assert set(s.loc[s["dimension"] == "segment", "dimension_value"]) == {"__unknown__"}


def test_won_opportunities_revenue_source():
    s = build_kpi_summary(hand_snapshot("won_opportunities"), tz=TZ)
    # revenue = won deals by close_date: Feb D1 1000 (A1), Mar D6 250.50 (A2)
    check(
        row(s, "month", "2024-02-01", "overall", "all"), revenue=1000.0, orders=1, new_customers=1
    )
    check(row(s, "month", "2024-03-01", "owner", "R2"), revenue=250.50, new_customers=1)


def test_funnel():
    f = build_kpi_funnel(hand_snapshot(), tz=TZ)
    SCHEMAS["kpi_funnel"].validate(f)

    def stages(month: str, dimension: str = "overall", value: str = "all") -> pd.DataFrame:
        rows = f[
            (f["period_start"] == pd.Timestamp(month))
            & (f["dimension"] == dimension)
            & (f["dimension_value"] == value)
        ]
        return rows.set_index("stage")

    # Jan: D1 (won: every stage), D3 (lost, highest open stage needs_analysis); D4 deleted
    jan = stages("2024-01-01")
    assert jan["reached"].tolist() == [2, 2, 2, 1, 1, 1]
    assert jan["stage_order"].tolist() == [1, 2, 3, 4, 5, 6]
    assert jan["conversion"].tolist()[1:] == [1.0, 1.0, 0.5, 1.0, 1.0] and pd.isna(
        jan["conversion"].iloc[0]
    )
    assert (jan["overall_conversion"] == 0.5).all()  # 1 won / 2 leads
    # Feb (Berlin): D2 (negotiation, moved twice in Feb), D5 (lead), D6 (won)
    feb = stages("2024-02-01")
    assert feb["reached"].tolist() == [3, 2, 2, 2, 2, 1]
    assert feb["conversion"].tolist()[1:] == [2 / 3, 1.0, 1.0, 1.0, 0.5]
    assert (feb["overall_conversion"] == 1 / 3).all()
    # Mar: D7 lead only -> conversion 0 then null (zero denominators)
    mar = stages("2024-03-01")
    assert mar["reached"].tolist() == [1, 0, 0, 0, 0, 0]
    assert mar["conversion"].iloc[1] == 0.0 and mar["conversion"].iloc[2:].isna().all()
    assert (mar["overall_conversion"] == 0.0).all()
    # dimensions: Feb owner R2 = D2 + D6; region __unknown__ = D5 (no account)
    assert stages("2024-02-01", "owner", "R2")["reached"].tolist() == [2, 2, 2, 2, 2, 1]
    assert stages("2024-02-01", "region", "__unknown__")["reached"].tolist() == [1, 0, 0, 0, 0, 0]
    assert set(f["stage"]) == {
        "lead",
        "qualified",
        "needs_analysis",
        "proposal",
        "negotiation",
        "closed_won",
    }
    # overall equals the sum over owners, per month and stage
    by_owner = f[f["dimension"] == "owner"].groupby(["period_start", "stage"])["reached"].sum()
    overall = f[f["dimension"] == "overall"].set_index(["period_start", "stage"])["reached"]
    pd.testing.assert_series_equal(by_owner.sort_index(), overall.sort_index(), check_names=False)


def test_campaign_roi():
    roi = build_campaign_roi(hand_snapshot())
    SCHEMAS["campaign_roi"].validate(roi)
    assert roi["campaign_id"].tolist() == ["C1", "C2", "C3"]
    # C1: D1 1000 + D6 250.50 won = 1250.50 against 1000 -> (1250.50 - 1000) / 1000 = 0.2505
    # C2: cost 0 -> roi null (D2 is open); C3: D3 lost -> (0 - 500) / 500 = -1
    assert roi["won_amount"].tolist() == [1250.50, 0.0, 0.0]
    assert roi["won_deals"].tolist() == [2, 0, 0]
    assert roi["cost"].tolist() == [1000.0, 0.0, 500.0]
    assert (
        roi["roi"].iloc[0] == 0.2505 and pd.isna(roi["roi"].iloc[1]) and roi["roi"].iloc[2] == -1.0
    )
    assert roi["campaign_name"].tolist() == ["Spring", "Webinar", "Fair"]


def test_empty_snapshot():
    from tests.snapshot_factory import make_snapshot as mk

    snap = mk(D)
    s = build_kpi_summary(snap, tz=TZ)
    # no events: only D itself, overall only
    assert s[["period_grain", "period_start", "dimension"]].values.tolist() == [
        ["day", pd.Timestamp("2024-03-10"), "overall"],
        ["month", pd.Timestamp("2024-03-01"), "overall"],
    ]
    assert s["revenue"].tolist() == [0.0, 0.0] and s["activities_per_day"].tolist() == [0.0, 0.0]
    assert build_kpi_funnel(snap).empty and build_campaign_roi(snap).empty
