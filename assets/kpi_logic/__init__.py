"""KPI layer: pure functions building kpi_summary, kpi_funnel, campaign_roi and kpi_alerts from a
state `Snapshot`, plus headline numbers and PNG charts for the UI. No Dagster, no I/O.

Modules: `periods` (time zone, calendars, period ends), `dimensions` (attribution and labels),
`facts` (event frames), `pipeline` (open pipeline from history), `summary`, `funnel`,
`campaigns`, `alerts`, `headlines`, `charts`.
"""

from __future__ import annotations

from assets.kpi_logic.alerts import build_kpi_alerts
from assets.kpi_logic.campaigns import build_campaign_roi
from assets.kpi_logic.charts import funnel_chart, revenue_vs_target_chart
from assets.kpi_logic.funnel import build_kpi_funnel
from assets.kpi_logic.headlines import kpi_headlines
from assets.kpi_logic.summary import build_kpi_summary

__all__ = [
    "build_campaign_roi",
    "build_kpi_alerts",
    "build_kpi_funnel",
    "build_kpi_summary",
    "funnel_chart",
    "kpi_headlines",
    "revenue_vs_target_chart",
]
