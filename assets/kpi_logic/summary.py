"""kpi_summary: dense KPI history up to D.

Grain: one row per period_grain (day, month) x period_start x dimension x dimension_value.
Key: (period_grain, period_start, dimension, dimension_value). Dense: every period from the first
event to D times every dimension value known as of D; additive metrics are 0 where nothing
happened, ratios null where their denominator is 0. Money is summed as integer cents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.kpi_logic import facts as F
from assets.kpi_logic.common import (
    ALL,
    DIMENSION_COLUMNS,
    KEYS,
    dimension_categories,
    from_cents,
    group_by_dimension,
    month_start,
    ratio,
    to_cents,
)
from assets.kpi_logic.dimensions import Dimensions, known_values, values_from_facts
from assets.kpi_logic.periods import GRAINS, Calendar
from assets.kpi_logic.pipeline import deal_dimensions, pipeline_facts
from assets.state_logic import Snapshot
from schemas import TABLES, conform
from schemas.kpis import DIMENSIONS

_COUNTS = [
    "orders",
    "active_customers",
    "new_customers",
    "opportunities_created",
    "opportunities_won",
    "opportunities_lost",
    "activities",
]
_CENTS = ["revenue_cents", "won_cents", "lost_cents", "pipeline_cents", "weighted_cents"]


def _with_period(facts: pd.DataFrame, grain: str) -> pd.DataFrame:
    period = facts["day"] if grain == "day" else month_start(facts["day"])
    return facts.assign(period_start=period.to_numpy())


def _event_metrics(
    snap: Snapshot, dims: Dimensions, tz: str
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Aggregated long frames (one per fact kind and grain) and the raw fact frames used."""
    revenue = dimension_categories(F.revenue_facts(snap, dims))
    first_account = F.first_order_facts(revenue, by_product=False)
    first_product = F.first_order_facts(revenue, by_product=True)
    created = dimension_categories(F.created_facts(snap, dims, tz))
    closed = dimension_categories(F.closed_facts(snap, dims, tz))
    acts = dimension_categories(F.activity_facts(snap, dims, tz))
    non_product = [d for d in DIMENSIONS if d != "product"]

    # Distinct customers counted on integer codes: nunique of the string IDs factorised the
    # millions of revenue rows again for every dimension and grain. NaN (no account) is not
    # counted, as nunique does not count a missing ID.
    codes, _ = pd.factorize(revenue["account_id"])
    customer = np.where(codes >= 0, codes, np.nan)
    long = []
    for grain in GRAINS:
        long += [
            group_by_dimension(
                _with_period(revenue, grain).assign(_customer=customer),
                grain,
                {
                    "revenue_cents": ("cents", "sum"),
                    "orders": ("order_id", "size"),
                    "active_customers": ("_customer", "nunique"),
                },
            ),
            # new customers: first order per account, except for product (first of that product)
            group_by_dimension(
                _with_period(first_account, grain),
                grain,
                {"new_customers": ("account_id", "size")},
                non_product,
            ),
            group_by_dimension(
                _with_period(first_product, grain),
                grain,
                {"new_customers": ("account_id", "size")},
                ["product"],
            ),
            group_by_dimension(
                _with_period(created, grain),
                grain,
                {"opportunities_created": ("opportunity_id", "size")},
            ),
            group_by_dimension(
                _with_period(closed, grain),
                grain,
                {
                    "opportunities_won": ("won", "sum"),
                    "opportunities_lost": ("lost", "sum"),
                    "won_cents": ("won_cents", "sum"),
                    "lost_cents": ("lost_cents", "sum"),
                    "cycle_days_sum": ("cycle_days", "sum"),
                },
            ),
            group_by_dimension(
                _with_period(acts, grain), grain, {"activities": ("activity_id", "size")}
            ),
        ]
    return long, [revenue, created, closed, acts]


def _pipeline_metrics(
    snap: Snapshot, dims: Dimensions, calendar: Calendar
) -> tuple[list[pd.DataFrame], list]:
    long, raw = [], []
    deals = deal_dimensions(snap, dims)
    for grain in GRAINS:
        facts = pipeline_facts(snap, dims, calendar, grain, deals)
        raw.append(facts)
        long.append(
            group_by_dimension(
                facts,
                grain,
                {"pipeline_cents": ("cents", "sum"), "weighted_cents": ("weighted_cents", "sum")},
            )
        )
    return long, raw


def target_facts(snap: Snapshot, calendar: Calendar) -> pd.DataFrame:
    """One row per target row of a month in the calendar: keys, target_cents and `target_row`
    (its position in `snap.targets`). Rep rows -> owner, region rows -> region, company rows ->
    overall; the three kinds are never summed into one another.
    """
    t = snap.targets
    month = pd.to_datetime(t["period"] + "-01", format="%Y-%m-%d", errors="coerce").astype(
        "datetime64[s]"
    )
    is_rep = t["rep_id"].notna()
    is_region = ~is_rep & t["region"].notna()
    value = t["rep_id"].where(is_rep, t["region"].where(is_region, ALL))
    dimension = np.where(is_rep, "owner", np.where(is_region, "region", "overall"))
    frame = pd.DataFrame(
        {
            "period_grain": "month",
            "period_start": month.to_numpy(),
            "dimension": dimension,
            "dimension_value": value.astype("str").to_numpy(),
            "target_cents": to_cents(t["target_amount"]).to_numpy(),
            "target_row": np.arange(len(t)),
        }
    )
    return frame[frame["period_start"].isin(calendar.periods("month"))]


def _target_metrics(snap: Snapshot, calendar: Calendar) -> pd.DataFrame:
    """Month rows with a target (see `target_facts`), summed per key."""
    frame = target_facts(snap, calendar)
    return frame.groupby(KEYS, as_index=False, sort=False)["target_cents"].sum()


def _grid(calendar: Calendar, values: dict[str, list[str]]) -> pd.DataFrame:
    """Every grain x period x dimension x value (dense), in output order."""
    parts = []
    for grain in GRAINS:
        periods = calendar.periods(grain)
        for dimension in DIMENSIONS:
            vals = values[dimension]
            parts.append(
                pd.DataFrame(
                    {
                        "period_grain": grain,
                        "period_start": np.repeat(periods.to_numpy(), len(vals)),
                        "dimension": dimension,
                        "dimension_value": np.tile(np.array(vals, dtype=object), len(periods)),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def build_kpi_summary(
    snap: Snapshot, *, tz: str = "UTC", segments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Dense KPI history of `snap` up to D, conformed to `kpi_summary`.

    `segments` is a customer_segments frame (account_id, segment_id, segment_name) or None, in
    which case every account is in segment `__unknown__`.
    """
    dims = Dimensions.from_snapshot(snap, segments)
    calendar = Calendar.spanning(F.first_event_day(snap, tz), snap.as_of, tz)
    event_long, raw = _event_metrics(snap, dims, tz)
    pipe_long, pipe_raw = _pipeline_metrics(snap, dims, calendar)
    targets = _target_metrics(snap, calendar)

    known = known_values(snap, dims)
    used = values_from_facts(*raw, *pipe_raw)
    values = {d: sorted(known[d] | used[d]) for d in DIMENSION_COLUMNS}
    values["overall"] = [ALL]
    for dimension in ("region", "owner"):
        values[dimension] = sorted(
            set(values[dimension])
            | set(targets.loc[targets["dimension"] == dimension, "dimension_value"])
        )

    grid = _grid(calendar, values)
    for frame in [*event_long, *pipe_long, targets]:
        frame = frame.astype({"period_start": "datetime64[s]", "dimension_value": "str"})
        grid = grid.astype({"dimension_value": "str"})
        metric_cols = [c for c in frame.columns if c not in KEYS]
        overlap = [c for c in metric_cols if c in grid.columns]
        merged = grid.merge(frame, on=KEYS, how="left", sort=False, suffixes=("", "_new"))
        for col in overlap:  # new_customers comes from two frames with disjoint dimensions
            merged[col] = merged[col].fillna(merged.pop(f"{col}_new"))
        grid = merged
    return _finish(grid, calendar, dims)


def _finish(grid: pd.DataFrame, calendar: Calendar, dims: Dimensions) -> pd.DataFrame:
    """Zero-fill additive metrics, derive ratios and money, label, conform and sort."""
    for col in [*_COUNTS, *_CENTS]:
        grid[col] = grid[col].fillna(0).astype("int64")
    out = grid.assign(
        revenue=from_cents(grid["revenue_cents"]),
        won_amount=from_cents(grid["won_cents"]),
        pipeline_amount=from_cents(grid["pipeline_cents"]),
        weighted_pipeline=from_cents(grid["weighted_cents"]),
        target_amount=from_cents(grid["target_cents"]),  # NaN stays NaN: no target
    )
    out["aov"] = ratio(out["revenue"], out["orders"])
    out["win_rate"] = ratio(
        out["opportunities_won"], out["opportunities_won"] + out["opportunities_lost"]
    )
    # By amount, as dbt_salesforce and CRM reports weight it: won / (won + lost) amounts.
    out["win_rate_amount"] = ratio(out["won_cents"], out["won_cents"] + out["lost_cents"])
    out["avg_sales_cycle_days"] = ratio(out["cycle_days_sum"].fillna(0.0), out["opportunities_won"])
    out["attainment"] = ratio(out["revenue"], out["target_amount"])

    elapsed = pd.concat(
        [
            pd.DataFrame(
                {
                    "period_grain": grain,
                    "period_start": calendar.periods(grain).to_numpy(),
                    "days_elapsed": calendar.days_elapsed(grain),
                }
            )
            for grain in GRAINS
        ],
        ignore_index=True,
    )
    out = out.merge(elapsed, on=["period_grain", "period_start"], how="left", sort=False)
    out["activities_per_day"] = ratio(out["activities"], out["days_elapsed"])

    labels = pd.Series(index=out.index, dtype="str")
    for dimension in DIMENSIONS:
        mask = out["dimension"] == dimension
        labels[mask] = dims.label(dimension, out.loc[mask, "dimension_value"])
    out["dimension_label"] = labels

    rank = out["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)})
    out = out.assign(_rank=rank).sort_values(
        ["period_grain", "period_start", "_rank", "dimension_value"], kind="stable"
    )
    return conform(out, TABLES["kpi_summary"])
