"""Customer lifetime value and key accounts (seeds 002 and 004).

CLV = average order value x purchase frequency per year x expected lifetime in years, where

- average order value = lifetime completed revenue / lifetime completed orders (as of D);
- purchase frequency per year = completed orders in [D-364, D], annualised over the tenure when the
  account is younger than a year (tenure floored at 30 days so a brand-new account is not inflated);
- expected lifetime = 1 / (1 - r), capped at MAX_LIFETIME_YEARS, with r the observed yearly
  retention of the account's segment: the share of the segment's accounts that ordered in
  [D-729, D-365] and ordered again in [D-364, D]. A segment without such accounts uses the
  retention of all customers; without any, one year.

Dormant customers have no orders in the last year, so their CLV (expected future value) is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.model_logic.features import FeatureInputs

MAX_LIFETIME_YEARS = 10.0


def retention_by_segment(inputs: FeatureInputs, segment: pd.Series) -> tuple[pd.Series, float]:
    """Yearly retention per segment (index segment_id) and the overall retention (NaN if none)."""
    d = inputs.as_of
    ev = inputs.events
    prev = ev.loc[
        (ev["day"] > d - pd.Timedelta(days=730)) & (ev["day"] <= d - pd.Timedelta(days=365)),
        "account_id",
    ].unique()
    this = ev.loc[ev["day"] > d - pd.Timedelta(days=365), "account_id"].unique()
    frame = pd.DataFrame({"segment_id": segment})
    frame["was_active"] = frame.index.isin(prev)
    frame["retained"] = frame.index.isin(this) & frame["was_active"]
    base = frame[frame["was_active"]]
    overall = float(base["retained"].mean()) if len(base) else float("nan")
    return base.groupby("segment_id")["retained"].mean().astype("float64"), overall


def lifetime_years(retention: pd.Series | float) -> pd.Series | float:
    """1 / (1 - r) capped (r = 1 -> the cap)."""
    r = np.clip(np.asarray(retention, dtype="float64"), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        years = np.minimum(1.0 / (1.0 - r), MAX_LIFETIME_YEARS)
    if isinstance(retention, pd.Series):
        return pd.Series(years, index=retention.index)
    return float(years)


def customer_lifetime_value(
    features: pd.DataFrame, segment: pd.Series, inputs: FeatureInputs
) -> tuple[pd.Series, dict[str, float]]:
    """CLV per account (0 for prospects) and the lifetime in years used per segment."""
    retention, overall = retention_by_segment(inputs, segment)
    default_years = lifetime_years(overall) if np.isfinite(overall) else 1.0
    years_by_segment = lifetime_years(retention).to_dict()
    years = segment.map(years_by_segment).astype("float64").fillna(default_years)
    aov = (
        features["revenue_total"] / features["orders_total"].where(features["orders_total"] > 0)
    ).fillna(0.0)
    per_year = features["frequency"] * 365.0 / features["tenure_days"].clip(30.0, 365.0)
    clv = (aov * per_year * years).round(2)
    used = {str(s): float(years_by_segment.get(s, default_years)) for s in sorted(segment.unique())}
    return clv, used


def key_accounts(
    features: pd.DataFrame, as_of: pd.Timestamp, *, revenue: float, years: int
) -> pd.Series:
    """Contract: completed revenue in [D-364, D] >= revenue and first completed order on or
    before D minus `years` calendar years."""
    cutoff = as_of - pd.DateOffset(years=years)
    first = features["first_order_day"]
    return (features["monetary"] >= revenue) & first.notna() & (first <= cutoff)
