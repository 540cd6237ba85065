"""KPI tables: summary (wide), funnel, campaign ROI and alerts. Partition = as-of day D."""

from __future__ import annotations

import pandera.pandas as pa

from schemas.spec import Col, Table

GRAINS = ("day", "month")
DIMENSIONS = ("overall", "region", "owner", "product", "segment")
UNKNOWN = "__unknown__"

_DIMENSION_COLS = (
    Col(
        "dimension",
        "string",
        False,
        "overall|region|owner|product|segment",
        (pa.Check.isin(list(DIMENSIONS)),),
    ),
    Col(
        "dimension_value", "string", False, "rep ID, region, product, segment ID; 'all' for overall"
    ),
    Col("dimension_label", "string", False, "readable name (rep name, segment name)"),
)

KPI_SUMMARY = Table(
    "kpi_summary",
    "Dense KPI history up to D: one row per grain x period_start x dimension x value; metrics wide.",
    (
        Col("period_grain", "string", False, "day | month", (pa.Check.isin(list(GRAINS)),)),
        Col(
            "period_start",
            "date",
            False,
            "first day of the period (the day, or the month's first day)",
        ),
        *_DIMENSION_COLS,
        Col(
            "revenue",
            "float64",
            False,
            "sum of amount of completed orders with order_date in the period, reporting currency",
        ),
        Col("orders", "int64", False, "completed orders with order_date in the period"),
        Col("aov", "float64", description="revenue / orders"),
        Col(
            "active_customers",
            "int64",
            False,
            "distinct accounts with a completed order in the period",
        ),
        Col(
            "new_customers",
            "int64",
            False,
            "accounts whose first completed order ever (of that product, for product) is in the period",
        ),
        Col(
            "opportunities_created",
            "int64",
            False,
            "opportunities with created_at in the period",
        ),
        Col(
            "opportunities_won",
            "int64",
            False,
            "opportunities now closed_won with close_date in the period",
        ),
        Col(
            "opportunities_lost",
            "int64",
            False,
            "opportunities now closed_lost with close_date in the period",
        ),
        Col(
            "won_amount",
            "float64",
            False,
            "amount of the won opportunities, reporting currency",
        ),
        Col("win_rate", "float64", description="won / (won + lost), by count (the contract's)"),
        Col(
            "win_rate_amount",
            "float64",
            description="won_amount / (won + lost amount), by amount (dbt_salesforce's win percent)",
        ),
        Col(
            "avg_sales_cycle_days",
            "float64",
            description="mean whole days created -> close, won deals",
        ),
        Col("pipeline_amount", "float64", False, "open pipeline at the end of the period"),
        Col("weighted_pipeline", "float64", False, "sum of amount x probability / 100"),
        Col("activities", "int64", False, "activities that occurred in the period"),
        Col("activities_per_day", "float64", description="activities / days elapsed in the period"),
        Col("target_amount", "float64", description="month rows with a target"),
        Col("attainment", "float64", description="revenue / target_amount"),
    ),
    primary_key=("period_grain", "period_start", "dimension", "dimension_value"),
)

KPI_FUNNEL = Table(
    "kpi_funnel",
    "Funnel per creation month x dimension x stage: deals that reached at least the stage.",
    (
        Col("period_start", "date", False, "month of creation"),
        *_DIMENSION_COLS,
        Col("stage", "string", False, "lead..negotiation, closed_won (no closed_lost row)"),
        Col("stage_order", "int64", False, "1..6 in canonical stage order"),
        Col(
            "reached",
            "int64",
            False,
            "opportunities that reached at least this stage (a won deal every stage)",
        ),
        Col("conversion", "float64", description="reached / reached at the previous stage"),
        Col("overall_conversion", "float64", description="won / reached lead"),
    ),
    primary_key=("period_start", "dimension", "dimension_value", "stage"),
)

CAMPAIGN_ROI = Table(
    "campaign_roi",
    "Campaign cost against won amount attributed by campaign_id, as of D.",
    (
        Col("campaign_id", "string", False, "campaign ID"),
        Col("campaign_name", "string", description="campaign name"),
        Col("channel", "string", description="marketing channel"),
        Col("cost", "float64", False, "campaign cost, reporting currency"),
        Col(
            "won_amount",
            "float64",
            False,
            "amount of won opportunities attributed by campaign_id, reporting currency",
        ),
        Col("won_deals", "int64", False, "won opportunities attributed to the campaign"),
        Col("roi", "float64", description="(won_amount - cost) / cost"),
    ),
    primary_key=("campaign_id",),
)

KPI_ALERTS = Table(
    "kpi_alerts",
    "Monitoring alerts raised as of D.",
    (
        Col(
            "alert_code",
            "string",
            False,
            "attainment_low | win_rate_low | sales_cycle_long | churn_risk_high | data_quality",
        ),
        Col("severity", "string", False, "warning | critical (data_quality)"),
        Col("dimension", "string", False, "overall | region | owner; 'file' for data_quality"),
        Col("dimension_value", "string", False, "value; source_file for data_quality"),
        Col("period_start", "date", False, "alert month; window start D-89; D; landing day"),
        Col("value", "float64", description="the measured value that raised the alert"),
        Col("threshold", "float64", description="the threshold it crossed"),
        Col("message", "string", False, "readable explanation of the alert"),
    ),
)

KPI_TABLES: tuple[Table, ...] = (KPI_SUMMARY, KPI_FUNNEL, CAMPAIGN_ROI, KPI_ALERTS)
