"""Shared helpers of the KPI layer: integer-cent money, null-safe ratios, per-dimension grouping.

No I/O and no Dagster. Every KPI frame is keyed by `KEYS` (grain, period start, dimension, value).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.kpis import DIMENSIONS, UNKNOWN

ALL = "all"
"""dimension_value (and label) of the `overall` dimension."""

KEYS = ["period_grain", "period_start", "dimension", "dimension_value"]
"""Primary key of kpi_summary; every intermediate long frame carries these columns."""

# The columns a fact frame carries for each non-overall dimension (named after the dimension).
DIMENSION_COLUMNS = tuple(d for d in DIMENSIONS if d != "overall")

__all__ = ["ALL", "DIMENSIONS", "DIMENSION_COLUMNS", "KEYS", "UNKNOWN"]


def isin(values: pd.Series, members: pd.Series) -> np.ndarray:
    """`values.isin(members)` for string columns, in Arrow: pandas' Arrow-string `isin` turns
    every member into a Python object (~1 s per 100,000 members). Nulls are never members."""
    value_set = pa.array(members.dropna().unique(), type=pa.large_string())
    found = pc.is_in(pa.array(values, type=pa.large_string()), value_set=value_set)
    return found.to_numpy(zero_copy_only=False) & values.notna().to_numpy()


def to_cents(values: pd.Series) -> pd.Series:
    """Money -> int64 cents (null -> 0): aggregates sum integer cents so no float drift creeps in."""
    return pd.Series(
        np.rint(values.astype("float64").fillna(0.0).to_numpy() * 100.0), index=values.index
    ).astype("int64")


def from_cents(cents: pd.Series) -> pd.Series:
    """int64 cents -> float64 money."""
    return cents.astype("float64") / 100.0


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Unrounded float64 ratio; a zero (or missing) denominator gives null, never inf."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return (num / den).where(den.fillna(0) != 0)


def month_start(days: pd.Series) -> pd.Series:
    """First day of each date's month (datetime64[s], NaT kept)."""
    values = days.to_numpy(dtype="datetime64[s]").astype("datetime64[M]").astype("datetime64[s]")
    return pd.Series(values, index=days.index)


def fill_unknown(values: pd.Series) -> pd.Series:
    """Null or blank dimension value -> `__unknown__` (as `str`)."""
    out = values.astype("str")
    out = out.where(out.notna() & (out.str.strip() != ""), UNKNOWN)
    return out.astype("str")


def dimension_categories(facts: pd.DataFrame) -> pd.DataFrame:
    """The facts with their dimension columns as categories: each grain groups the same facts
    again, and grouping by category codes skips hashing millions of strings each time."""
    present = [d for d in DIMENSION_COLUMNS if d in facts.columns]
    return facts.astype(dict.fromkeys(present, "category"))


def group_by_dimension(
    facts: pd.DataFrame,
    grain: str,
    aggregations: dict[str, tuple[str, str]],
    dimensions: Iterable[str] = DIMENSIONS,
) -> pd.DataFrame:
    """Aggregate a fact frame per period x dimension value, for each dimension.

    `facts` has `period_start` plus one column per dimension (named like the dimension);
    `aggregations` are pandas named aggregations. Returns a long frame keyed by `KEYS`.
    Grouping one dimension at a time keeps memory at one copy of the facts, not five.
    """
    columns = [*KEYS, *aggregations]
    # Only the columns the aggregations read: grouping carries (and reorders) every column of
    # its frame, and a fact frame's IDs and other dimensions are millions of strings.
    sources = list(dict.fromkeys(source for source, _ in aggregations.values()))
    # One integer key per (period, dimension value) instead of a two-column groupby: pandas
    # factorised the period column again for every dimension and aggregation (a third of a
    # 100,000-account KPI build). Groups come out in order of first appearance, as with
    # sort=False, and rows with a missing period or value are dropped, as with dropna.
    period_codes, periods = pd.factorize(facts["period_start"])
    data = facts[sources]
    parts = []
    for dimension in dimensions:
        if dimension == "overall":
            value_codes, values = np.zeros(len(facts), dtype=np.int64), pd.Index([ALL])
        elif isinstance(facts[dimension].dtype, pd.CategoricalDtype):
            value_codes = facts[dimension].cat.codes.to_numpy().astype(np.int64)
            values = facts[dimension].cat.categories
        else:
            value_codes, values = pd.factorize(facts[dimension])
        width = max(len(values), 1)
        keep = (period_codes >= 0) & (value_codes >= 0)
        key = period_codes.astype(np.int64) * width + value_codes
        grouped = data[keep].groupby(key[keep], sort=False).agg(**aggregations)
        group = grouped.index.to_numpy()
        grouped = grouped.reset_index(drop=True).assign(
            period_start=periods.take(group // width),
            dimension_value=values.take(group % width),
            period_grain=grain,
            dimension=dimension,
        )
        parts.append(grouped)
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
