"""Every overridable threshold the contract names, declared once with its default and bounds.

The settings (`sales_pipeline.core.config`) read them from the settings file's `[thresholds]`
table; the KPI, segment, churn and forecast logic take them as plain values. Pure pydantic, no
settings resolution and no Dagster, so the analytics logic can import it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_QUARANTINE_DEFAULT = 0.05
"""Contract section 1: the quarantine share per file above which its entity's day is blocked."""


def reject_bool(value: Any) -> Any:
    """A TOML/YAML `true` is not a number: pydantic would otherwise read it as 1 or 1.0."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


Number = Annotated[float, BeforeValidator(reject_bool), Field(allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(reject_bool)]
Share = Annotated[Number, Field(ge=0, le=1)]


class Thresholds(BaseModel):
    """Alert, key-account, churn-tier, forecast and segmentation thresholds (contract defaults).

    `2.7` for a count is an error (not 2) and `true` for a number is an error (not 1.0); an
    unknown name is an error, so a typo never silently keeps the default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attainment_min: Annotated[Number, Field(ge=0, le=10)] = 0.8
    """attainment_low: attainment below this ..."""
    attainment_months: Annotated[Count, Field(ge=1, le=120)] = 3
    """... for this many consecutive completed months."""
    attainment_streak_max_age_months: Annotated[Count, Field(ge=0, le=120)] = 0
    """0: attainment_low only for streaks still running in the latest completed month; N: also
    streaks that ended at most N months before it."""
    win_rate_min: Share = 0.2
    """win_rate_low: 90-day win rate benchmark."""
    sales_cycle_max_days: Annotated[Number, Field(gt=0, le=3650)] = 90.0
    """sales_cycle_long: 90-day average sales cycle standard, in days."""
    churn_high_share_max: Share = 0.2
    """churn_risk_high: share of high-risk customers above which the alert fires."""
    min_closed_deals: Annotated[Count, Field(ge=1)] = 10
    """The 90-day rules only look at dimension values with at least this many closed deals."""
    churn_high: Share = 0.5
    """Churn tier `high`: churn_probability >= this."""
    churn_medium: Share = 0.2
    """Churn tier `medium`: churn_probability >= this (and below churn_high)."""
    key_account_revenue: Annotated[Number, Field(ge=0)] = 5_000_000.0
    """Key account: completed revenue in [D-364, D] at least this (reporting currency) ..."""
    key_account_years: Annotated[Count, Field(ge=0, le=100)] = 3
    """... and a first completed order at least this many years before D."""
    forecast_horizon: Annotated[Count, Field(ge=1, le=1830)] = 90
    """Days forecast ahead of D."""
    segments_k_min: Annotated[Count, Field(ge=2, le=50)] = 3
    """Smallest K-means k tried (a silhouette needs at least two clusters)."""
    segments_k_max: Annotated[Count, Field(ge=2, le=50)] = 8
    """Largest K-means k tried."""
    clv_horizon_days: Annotated[Count, Field(ge=1, le=3650)] = 365
    """Probabilistic CLV: days of expected purchases valued."""
    clv_discount_rate: Annotated[Number, Field(ge=0, le=1)] = 0.10
    """Annual, compounded to each 30-day step of the CLV horizon."""
    drift_alert_days: Annotated[Count, Field(ge=0, le=365)] = 7
    """data_quality alerts name schema drifts found in the last this many landing days."""
    max_snapshot_drop: Share = 0.5
    """A full snapshot (`load_mode = "snapshot"`) deleting more than this share of the live
    records is blocked (`snapshot_drop`); an empty one always is."""

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.churn_medium > self.churn_high:
            raise ValueError(
                f"churn_medium ({self.churn_medium}) must not exceed churn_high ({self.churn_high})"
            )
        if self.segments_k_min > self.segments_k_max:
            raise ValueError(
                f"segments_k_min ({self.segments_k_min}) must not exceed segments_k_max ({self.segments_k_max})"
            )
        return self
