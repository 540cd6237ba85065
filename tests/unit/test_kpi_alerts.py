"""Known-answer tests for kpi_alerts, kpi_headlines and the charts (D = 2024-05-15)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from assets.kpi_logic import (
    build_kpi_alerts,
    build_kpi_funnel,
    build_kpi_summary,
    funnel_chart,
    kpi_headlines,
    revenue_vs_target_chart,
)
from schemas import SCHEMAS
from schemas.thresholds import Thresholds
from tests.snapshot_factory import make_snapshot

D = date(2024, 5, 15)  # 90-day window: [2024-02-16, 2024-05-15]


def deals() -> pd.DataFrame:
    rows = [  # id, account, owner, stage, created_at, close_date
        # R1 / A1 (EU): won, cycle 2024-04-30 - 2024-01-01 = 120 days, and 9 lost -> 1 won of 10
        ("W1", "A1", "R1", "closed_won", "2024-01-01T10:00Z", "2024-04-30"),
        *[
            (f"L{i}", "A1", "R1", "closed_lost", "2024-01-01T10:00Z", "2024-05-01")
            for i in range(1, 10)
        ],
        # R2 / A2 (US): won on the window's first day, cycle 2024-02-16 - 2024-02-06 = 10 days, 9 lost
        ("W2", "A2", "R2", "closed_won", "2024-02-06T10:00Z", "2024-02-16"),
        *[
            (f"L{i}", "A2", "R2", "closed_lost", "2024-01-01T10:00Z", "2024-03-01")
            for i in range(10, 19)
        ],
        # outside the window: closed the day before it starts, and the day after D
        ("W3", "A2", "R2", "closed_won", "2024-02-01T10:00Z", "2024-02-15"),
        ("L19", "A2", "R2", "closed_lost", "2024-01-01T10:00Z", "2024-05-16"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["opportunity_id", "account_id", "owner_id", "stage", "created_at", "close_date"],
    )
    return frame.assign(
        created_at=pd.to_datetime(frame["created_at"], utc=True),
        close_date=pd.to_datetime(frame["close_date"]),
        amount=100.0,
        probability=frame["stage"].map({"closed_won": 100.0, "closed_lost": 0.0}),
    )


@pytest.fixture(scope="module")
def snap():
    return make_snapshot(
        D,
        accounts=pd.DataFrame(
            {
                "account_id": ["A1", "A2"],
                "account_name": ["a", "b"],
                "region": ["EU", "US"],
                "owner_id": ["R1", "R2"],
                "created_at": pd.to_datetime(["2023-01-01"] * 2, utc=True),
            }
        ),
        reps=pd.DataFrame({"rep_id": ["R1", "R2"], "rep_name": ["Ann", "Bob"]}),
        opportunities=deals(),
    )


def monthly(
    dimension: str, value: str, label: str, attainment: dict[str, float | None]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period_grain": "month",
            "period_start": pd.to_datetime([f"{m}-01" for m in attainment]).astype("datetime64[s]"),
            "dimension": dimension,
            "dimension_value": value,
            "dimension_label": label,
            "attainment": [float("nan") if a is None else a for a in attainment.values()],
        }
    )


# A hand-made summary: only the columns the attainment rule reads.
SUMMARY = pd.concat(
    [
        # R1: Nov 0.5, Dec 0.6, Jan 0.7 (3 in a row -> qualifies, dated Jan), Feb 0.9 breaks,
        # Mar 0.1, Apr 0.2 (only 2), May is running -> latest alert: 2024-01, value 0.7
        monthly(
            "owner",
            "R1",
            "Ann",
            {
                "2023-11": 0.5,
                "2023-12": 0.6,
                "2024-01": 0.7,
                "2024-02": 0.9,
                "2024-03": 0.1,
                "2024-04": 0.2,
                "2024-05": 0.0,
            },
        ),
        # R2: Feb, Mar, Apr at 0.5 -> alert dated 2024-04, value 0.5; 0.8 exactly is not below
        monthly(
            "owner", "R2", "Bob", {"2024-01": 0.8, "2024-02": 0.5, "2024-03": 0.5, "2024-04": 0.5}
        ),
        # EU: Feb has no target (null) -> breaks the run
        monthly(
            "region", "EU", "EU", {"2024-01": 0.1, "2024-02": None, "2024-03": 0.1, "2024-04": 0.1}
        ),
        # overall: Mar, Apr, and May still running -> no alert
        monthly("overall", "all", "all", {"2024-03": 0.1, "2024-04": 0.1, "2024-05": 0.1}),
        # product rows never alert
        monthly("product", "P1", "P1", {"2024-02": 0.1, "2024-03": 0.1, "2024-04": 0.1}),
    ],
    ignore_index=True,
)

CHURN = pd.DataFrame(
    {"account_id": [f"A{i}" for i in range(10)], "risk_tier": ["high"] * 3 + ["low"] * 7}
)

AUDIT = pd.DataFrame(
    {
        "_landing_day": pd.to_datetime(
            ["2024-05-10", "2024-05-11", "2024-05-12", "2024-05-16", "2024-05-12"]
        ),
        "entity": ["orders", "accounts", "opportunities", "orders", "unknown"],
        "source_file": [
            "2024-05-10/orders.csv",
            "2024-05-11/accounts.csv",
            "2024-05-12/Opportunity.csv",
            "2024-05-16/orders.csv",
            "2024-05-12/notes.txt",
        ],
        # 6 / (100 - 0) = 0.06 > 0.05; 4 / (100 - 20) = 0.05 not above; unreadable file blocked;
        # after D ignored; skipped unknown file with nothing read
        "rows_read": [100, 100, 50, 10, 0],
        "rows_clean": [94, 76, 0, 0, 0],
        "rows_quarantined": [6, 4, 50, 10, 0],
        "rows_duplicate": [0, 20, 0, 0, 0],
        "status": ["ok", "ok", "blocked", "blocked", "skipped"],
        "message": [
            None,
            None,
            "2024-05-12/Opportunity.csv: not valid UTF-8, GB18030 or cp1252 (byte offset 17)",
            None,
            "skipped: no entity matches notes.txt",
        ],
    }
)


@pytest.fixture(scope="module")
def alerts(snap):
    return build_kpi_alerts(snap, SUMMARY, churn_scores=CHURN, audit=AUDIT)


def test_schema(alerts):
    SCHEMAS["kpi_alerts"].validate(alerts)
    assert alerts["message"].str.len().min() > 20


def pick(alerts: pd.DataFrame, code: str) -> list[tuple]:
    rows = alerts[alerts["alert_code"] == code]
    return list(
        zip(
            rows["dimension"],
            rows["dimension_value"],
            rows["period_start"].dt.strftime("%Y-%m-%d"),
            rows["value"],
            strict=True,
        )
    )


def test_attainment_low(alerts):
    # D = 2024-05-15: April is the latest completed month. R2's streak (Feb-Apr) is still
    # running; R1's ended in January, so by default it no longer alerts.
    assert pick(alerts, "attainment_low") == [("owner", "R2", "2024-04-01", 0.5)]
    assert (alerts.loc[alerts["alert_code"] == "attainment_low", "threshold"] == 0.8).all()
    message = alerts.loc[alerts["alert_code"] == "attainment_low", "message"].iloc[0]
    assert message.endswith("latest 2024-04 (still running)")


def test_attainment_streaks_that_ended_say_how_long_ago(snap):
    older = Thresholds(attainment_streak_max_age_months=3)
    out = build_kpi_alerts(snap, SUMMARY, thresholds=older)
    assert pick(out, "attainment_low") == [
        ("owner", "R1", "2024-01-01", 0.7),
        ("owner", "R2", "2024-04-01", 0.5),
    ]
    messages = out.loc[out["alert_code"] == "attainment_low", "message"].tolist()
    assert messages[0].endswith("latest 2024-01 (ended 3 months ago)")
    assert messages[1].endswith("(still running)")
    two = Thresholds(attainment_streak_max_age_months=2)
    assert [
        r[1] for r in pick(build_kpi_alerts(snap, SUMMARY, thresholds=two), "attainment_low")
    ] == ["R2"]


def test_attainment_month_of_d_counts_once_complete():
    # with D = 2024-05-31 May is complete: overall Mar, Apr, May -> alert dated 2024-05
    snap = make_snapshot(date(2024, 5, 31))
    out = build_kpi_alerts(snap, SUMMARY)
    assert ("overall", "all", "2024-05-01", 0.1) in pick(out, "attainment_low")


def test_win_rate_low(alerts):
    # window opens 2024-02-16 (D - 89). overall: W1, W2 won + L1..L18 lost = 2 / 20 = 0.1;
    # R1 / EU: 1 / 10; R2 / US: W2 + L10..L18 = 1 / 10 (W3 before the window, L19 after D)
    assert pick(alerts, "win_rate_low") == [
        ("overall", "all", "2024-02-16", 0.1),
        ("owner", "R1", "2024-02-16", 0.1),
        ("owner", "R2", "2024-02-16", 0.1),
        ("region", "EU", "2024-02-16", 0.1),
        ("region", "US", "2024-02-16", 0.1),
    ]


def test_sales_cycle_long(alerts):
    # R1 / EU: W1 120 days > 90; overall (120 + 10) / 2 = 65 and R2 / US 10 stay below
    assert pick(alerts, "sales_cycle_long") == [
        ("owner", "R1", "2024-02-16", 120.0),
        ("region", "EU", "2024-02-16", 120.0),
    ]
    assert (alerts.loc[alerts["alert_code"] == "sales_cycle_long", "severity"] == "warning").all()


def test_churn_risk_high(alerts):
    # 3 high of 10 scored = 0.3 > 0.2
    assert pick(alerts, "churn_risk_high") == [("overall", "all", "2024-05-15", 0.3)]


def test_churn_at_threshold_is_no_alert(snap):
    at_limit = CHURN.assign(risk_tier=["high"] * 2 + ["low"] * 8)  # 0.2 is not above 0.2
    assert pick(build_kpi_alerts(snap, SUMMARY, churn_scores=at_limit), "churn_risk_high") == []
    assert pick(build_kpi_alerts(snap, SUMMARY), "churn_risk_high") == []


def test_data_quality(alerts):
    assert pick(alerts, "data_quality") == [
        ("file", "2024-05-10/orders.csv", "2024-05-10", 0.06),
        ("file", "2024-05-12/Opportunity.csv", "2024-05-12", 1.0),
    ]
    dq = alerts[alerts["alert_code"] == "data_quality"]
    assert (dq["severity"] == "critical").all() and (dq["threshold"] == 0.05).all()
    assert "blocked" in dq["message"].iloc[1]
    # an unreadable file names its file-level reason, not "50 of 50 rows quarantined"
    assert dq["message"].iloc[1] == (
        "opportunities file 2024-05-12/Opportunity.csv landed 2024-05-12: unreadable, partition "
        "blocked: not valid UTF-8, GB18030 or cp1252 (byte offset 17)"
    )
    assert dq["message"].iloc[0].endswith("6 of 100 rows quarantined (threshold 5%)")


def test_thresholds_override(snap):
    strict = Thresholds(
        win_rate_min=0.05,
        sales_cycle_max_days=150.0,
        min_closed_deals=10,
        attainment_months=4,
        churn_high_share_max=0.5,
    )
    out = build_kpi_alerts(
        snap,
        SUMMARY,
        thresholds=strict,
        max_quarantine_share=0.1,
        churn_scores=CHURN,
        audit=AUDIT,
    )
    # 0.1 is not below 0.05; 120 is not above 150; no run of 4 months; 0.3 <= 0.5; 0.06 <= 0.1 but blocked stays
    assert out["alert_code"].tolist() == ["data_quality"]
    few = build_kpi_alerts(snap, SUMMARY, thresholds=Thresholds(min_closed_deals=11))
    # only the overall window has >= 11 closed deals (20)
    assert pick(few, "win_rate_low") == [("overall", "all", "2024-02-16", 0.1)]


def test_no_alerts_is_an_empty_conformed_frame():
    out = build_kpi_alerts(make_snapshot(D), SUMMARY.iloc[0:0])
    assert out.empty
    assert list(out.columns) == list(SCHEMAS["kpi_alerts"].columns)
    SCHEMAS["kpi_alerts"].validate(out)


def test_headlines_and_charts(snap):
    summary = build_kpi_summary(snap)
    alerts = build_kpi_alerts(snap, summary, churn_scores=CHURN, audit=AUDIT)
    h = kpi_headlines(summary, alerts, D)
    # May: L1..L9 lost (2024-05-01) -> win rate 0.0; Apr: W1 won (2024-04-30) -> 1.0
    assert (
        h["month"] == "2024-05"
        and h["win_rate_this_month"] == 0.0
        and h["win_rate_last_month"] == 1.0
    )
    assert h["revenue_this_month"] == 0.0 and h["revenue_change"] is None  # no orders at all
    assert h["attainment_this_month"] is None
    assert h["alerts"] == len(alerts) and h["alerts_critical"] == 2
    assert h["alerts_by_code"]["data_quality"] == 2
    png = revenue_vs_target_chart(summary)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert funnel_chart(build_kpi_funnel(snap))[:8] == b"\x89PNG\r\n\x1a\n"
