"""Model outputs and their evaluation reports. Partition = as-of day D."""

from __future__ import annotations

import pandera.pandas as pa

from schemas.spec import Col, Table

# When and on how much a weekly-refitted model was fitted (churn and propensity reports).
_WEEKLY_FIT = (
    Col(
        "fitted_as_of",
        "timestamp",
        False,
        "End of the Monday on or before D whose data the model was fitted on (weekly refit).",
    ),
    Col(
        "n_labeled",
        "int64",
        False,
        "Labeled snapshot rows available before the training cap (n_train: rows used).",
    ),
)

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
        *_WEEKLY_FIT,
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
    "Rolling-origin backtest of the chosen forecast model vs the seasonal naive baseline, and the"
    " MASE of every candidate in the selection (on the Monday on or before D).",
    (
        Col("level", "string", False),
        Col("key", "string", False),
        Col("model", "string", False, "the model shipped in sales_forecast"),
        Col("mase", "float64", description="chosen model, folds D-90, D-60, D-30"),
        Col("smape", "float64", description="chosen model, percent"),
        Col("baseline_mase", "float64", description="seasonal naive (lag 7), same folds"),
        Col("baseline_smape", "float64"),
        Col("n_test", "int64", False),
        Col("coverage_80", "float64", description="share of fold actuals inside the 80% interval"),
        Col("coverage_95", "float64", description="share of fold actuals inside the 95% interval"),
        Col("arima_order", "string", description="the ARIMA candidate (lowest AIC on the grid)"),
        Col("selection_mase_arima", "float64", description="selection backtest, ARIMA candidate"),
        Col("selection_mase_ets", "float64", description="selection backtest, ETS(A,Ad,A)[7]"),
        Col("selection_mase_naive", "float64", description="selection backtest, seasonal naive"),
    ),
    primary_key=("level", "key"),
)

CUSTOMER_CLV = Table(
    "customer_clv",
    "One row per account with a completed order as of D: BG/NBD + Gamma-Gamma lifetime value.",
    (
        Col("account_id", "string", False),
        Col(
            "frequency",
            "int64",
            False,
            "repeat purchase days (distinct days with a completed order, minus 1)",
        ),
        Col("recency_days", "float64", False, "days from the first to the last purchase day"),
        Col("tenure_days", "float64", False, "the models' T: days from the first purchase to D"),
        Col("avg_repeat_spend", "float64", description="mean value of the repeat purchase days"),
        Col(
            "p_alive", "float64", description="BG/NBD probability of being alive at D", checks=_PROB
        ),
        Col(
            "expected_purchases", "float64", description="BG/NBD expected purchases in the horizon"
        ),
        Col("expected_spend", "float64", description="Gamma-Gamma expected value per purchase"),
        Col("clv", "float64", description="discounted expected value of the horizon's purchases"),
        Col("horizon_days", "int64", False),
        Col("model", "string", False, "models behind the values, e.g. bgnbd+gamma_gamma"),
    ),
    primary_key=("account_id",),
)

CLV_MODEL_REPORT = Table(
    "clv_model_report",
    "Fitted BG/NBD (time in weeks) and Gamma-Gamma parameters, one row per model.",
    (
        Col("model", "string", False, "bgnbd | gamma_gamma"),
        Col("r", "float64", description="BG/NBD: shape of the purchase-rate gamma"),
        Col("alpha", "float64", description="BG/NBD: scale of the purchase-rate gamma, in weeks"),
        Col("a", "float64", description="BG/NBD: dropout beta a"),
        Col("b", "float64", description="BG/NBD: dropout beta b"),
        Col("p", "float64", description="Gamma-Gamma: shape of a transaction's value"),
        Col("q", "float64", description="Gamma-Gamma: shape of the value-scale gamma"),
        Col("v", "float64", description="Gamma-Gamma: scale of the value-scale gamma (money)"),
        Col("log_likelihood", "float64", False),
        Col("n", "int64", False, "customers the model was fitted on"),
        Col("converged", "bool", False),
        Col(
            "spend_frequency_corr",
            "float64",
            description="Gamma-Gamma only: correlation of frequency and mean spend (assumed ~0)",
        ),
        Col("horizon_days", "int64", False),
        Col("discount_rate", "float64", False, "annual"),
        Col("trained_at", "timestamp", False),
    ),
    primary_key=("model",),
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
        *_WEEKLY_FIT,
    ),
)

MODEL_TABLES: tuple[Table, ...] = (
    CUSTOMER_SEGMENTS,
    CUSTOMER_CLV,
    CLV_MODEL_REPORT,
    CUSTOMER_PROPENSITY,
    PROPENSITY_MODEL_REPORT,
    SALES_FORECAST,
    FORECAST_BACKTEST,
    CHURN_SCORES,
    CHURN_MODEL_REPORT,
)
