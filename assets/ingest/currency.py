"""Money in the reporting currency: which date's rate applies, and the rate itself.

The rate used for a value is the latest rate on or before its date (contract 'fx_rates'); the
reporting currency is 1; no rate at all leaves NaN, which cleaning quarantines as `no_fx_rate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def money_date(entity: str, typed: dict[str, pd.Series], tz: str, index: pd.Index) -> pd.Series:
    """The date whose fx rate converts the entity's money (contract 'fx_rates')."""
    if entity == "orders":
        return typed["order_date"]
    if entity == "opportunities":
        created = typed["created_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
        return typed.get(
            "close_date", pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
        ).fillna(created)
    if entity == "campaigns":
        updated = typed["updated_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
        return typed.get(
            "start_date", pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
        ).fillna(updated)
    if entity == "targets":
        return pd.to_datetime(typed["period"] + "-01", format="%Y-%m-%d", errors="coerce")
    raise KeyError(entity)


_RATE_TABLE: tuple[pd.DataFrame, pd.DataFrame] | None = None
"""(fx frame, its sorted rate table): a day's files share one fx frame (a new frame whenever
rates are added), so it is prepared once a frame. One tuple, read and replaced whole."""


def _rate_table(fx: pd.DataFrame) -> pd.DataFrame:
    global _RATE_TABLE
    cached = _RATE_TABLE
    if cached is None or cached[0] is not fx:
        table = fx.assign(
            d=fx["rate_date"].astype("datetime64[s]"), currency=fx["currency"].astype("str")
        )[["d", "currency", "rate"]]
        cached = (fx, table.dropna().sort_values("d", kind="stable"))
        _RATE_TABLE = cached
    return cached[1]


def lookup_rates(
    dates: pd.Series, currencies: pd.Series, fx: pd.DataFrame | None, reporting: str
) -> pd.Series:
    """Latest rate on or before each date per currency; 1 for the reporting currency; NaN if none."""
    out = pd.Series(np.nan, index=dates.index, dtype="float64")
    out[currencies == reporting] = 1.0
    need = (currencies != reporting) & currencies.notna() & dates.notna()
    if fx is None or fx.empty or not need.any():
        return out
    left = pd.DataFrame(
        {
            "d": dates[need].astype("datetime64[s]"),
            "currency": currencies[need].astype("str"),
            "pos": np.flatnonzero(need),
        }
    ).sort_values("d", kind="stable")
    merged = pd.merge_asof(left, _rate_table(fx), on="d", by="currency", direction="backward")
    arr = out.to_numpy(copy=True)
    arr[merged["pos"].to_numpy()] = merged["rate"].to_numpy()
    return pd.Series(arr, index=dates.index)
