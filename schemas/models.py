"""Model outputs and their evaluation reports. Partition = as-of day D."""

from __future__ import annotations

import pandera.pandas as pa

from schemas.spec import Col, Table

_PROB = (pa.Check.in_range(0, 1),)

CUSTOMER_SEGMENTS = Table(
    "customer_segments",
    "One row per account as of D: features, K-means segment, CLV, key-account and outlier flags.",
    (
        Col("account_id", "string", False),
        Col(
            "segment_id",
            "string",
            False,
            "stable ID of the kind of customer; 'prospect' without orders",
        ),
        Col("segment_name", "string", False),
        Col("recency_days", "float64", description="days since the last completed order"),
        Col("frequency", "float64", description="completed orders in the last 365 days"),
        Col("monetary", "float64", description="completed revenue in the last 365 days"),
        Col("tenure_days", "float64"),
        Col("activities_90d", "float64"),
        Col("win_rate", "float64"),
        Col("clv", "float64"),
        Col("is_key_account", "bool", False),
        Col("is_outlier", "bool", False),
    ),
    primary_key=("account_id",),
)

CUSTOMER_PROPENSITY = Table(
    "customer_propensity",
    "Probability of a completed order and expected revenue in the next 90 days, per account.",
    (
        Col("account_id", "string", False),
        Col("p_purchase_90d", "float64", False, checks=_PROB),
        Col("expected_revenue_90d", "float64", False),
        Col("model_version", "string", False),
    ),
    primary_key=("account_id",),
)

PROPENSITY_MODEL_REPORT = Table(
    "propensity_model_report",
    "Time-split evaluation of the propensity models against the naive baseline.",
    (
        Col("model", "string", False),
        Col("mae", "float64"),
        Col("baseline_mae", "float64"),
        Col("auc", "float64"),
        Col("n_train", "int64", False),
        Col("trained_at", "timestamp", False),
    ),
)

SALES_FORECAST = Table(
    "sales_forecast",
    "Daily revenue forecasts with 80% and 95% intervals per level/key.",
    (
        Col("level", "string", False, "total | region | product"),
        Col("key", "string", False),
        Col("ds", "date", False),
        Col("horizon", "int64", False),
        Col("yhat", "float64", False),
        Col("yhat_lower_80", "float64", False),
        Col("yhat_upper_80", "float64", False),
        Col("yhat_lower_95", "float64", False),
        Col("yhat_upper_95", "float64", False),
        Col("model", "string", False),
    ),
    primary_key=("level", "key", "ds"),
)

FORECAST_BACKTEST = Table(
    "forecast_backtest",
    "Rolling-origin backtest of the forecast model vs the seasonal naive baseline.",
    (
        Col("level", "string", False),
        Col("key", "string", False),
        Col("model", "string", False),
        Col("mase", "float64"),
        Col("smape", "float64"),
        Col("baseline_mase", "float64"),
        Col("baseline_smape", "float64"),
        Col("n_test", "int64", False),
    ),
    primary_key=("level", "key"),
)

CHURN_SCORES = Table(
    "churn_scores",
    "Churn probability per active account (completed order in the last 180 days).",
    (
        Col("account_id", "string", False),
        Col("churn_probability", "float64", False, checks=_PROB),
        Col(
            "risk_tier",
            "string",
            False,
            "high | medium | low",
            (pa.Check.isin(["high", "medium", "low"]),),
        ),
        Col("top_drivers", "list<string>", False),
        Col("model_version", "string", False),
    ),
    primary_key=("account_id",),
)

CHURN_MODEL_REPORT = Table(
    "churn_model_report",
    "Time-split evaluation of each churn model; the selected one scores customers.",
    (
        Col("model", "string", False),
        Col("auc", "float64"),
        Col("pr_auc", "float64"),
        Col("brier", "float64"),
        Col("calibration_error", "float64"),
        Col("n_train", "int64", False),
        Col("positive_rate", "float64"),
        Col("trained_at", "timestamp", False),
        Col("selected", "bool", False),
    ),
)

MODEL_TABLES: tuple[Table, ...] = (
    CUSTOMER_SEGMENTS,
    CUSTOMER_PROPENSITY,
    PROPENSITY_MODEL_REPORT,
    SALES_FORECAST,
    FORECAST_BACKTEST,
    CHURN_SCORES,
    CHURN_MODEL_REPORT,
)
