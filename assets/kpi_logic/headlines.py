"""kpi_headlines: a handful of numbers for the UI metadata of the KPI assets.

This month (the month of D, running) against last month, from the overall month rows of
kpi_summary, plus the alert counts. Values are plain Python floats/ints or None (JSON-friendly).
"""

from __future__ import annotations

from datetime import date

import pandas as pd


def _value(row: pd.DataFrame, column: str) -> float | None:
    if row.empty or pd.isna(row[column].iloc[0]):
        return None
    return float(row[column].iloc[0])


def _change(current: float | None, previous: float | None) -> float | None:
    """Relative change; None without both values or from zero."""
    if current is None or previous is None or previous == 0:
        return None
    return current / previous - 1.0


def kpi_headlines(summary: pd.DataFrame, alerts: pd.DataFrame, as_of: date) -> dict:
    """Revenue, win rate and attainment this month vs last month, and alert counts as of D."""
    this_month = pd.Timestamp(as_of).to_period("M").start_time
    last_month = this_month - pd.DateOffset(months=1)
    overall = summary[(summary["period_grain"] == "month") & (summary["dimension"] == "overall")]
    now = overall[overall["period_start"] == this_month]
    before = overall[overall["period_start"] == last_month]
    out: dict = {
        "as_of": pd.Timestamp(as_of).strftime("%Y-%m-%d"),
        "month": this_month.strftime("%Y-%m"),
    }
    for metric in ("revenue", "win_rate", "attainment"):
        current, previous = _value(now, metric), _value(before, metric)
        out[f"{metric}_this_month"] = current
        out[f"{metric}_last_month"] = previous
        out[f"{metric}_change"] = _change(current, previous)
    out["alerts"] = len(alerts)
    out["alerts_critical"] = int((alerts["severity"] == "critical").sum()) if len(alerts) else 0
    out["alerts_by_code"] = {
        str(k): int(v) for k, v in alerts["alert_code"].value_counts().sort_index().items()
    }
    return out
