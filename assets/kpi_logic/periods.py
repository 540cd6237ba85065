"""Reporting periods in the settings time zone: local dates, dense calendars, period-end instants.

Grain `day`: every local day from the first event to D. Grain `month`: every month touching that
range, identified by its first day. The last period of each grain is the running one and ends at
the end of D (its `days_elapsed` is the days so far, D.day for the month of D).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

GRAINS = ("day", "month")


def local_date(timestamps: pd.Series, tz: str) -> pd.Series:
    """UTC timestamps -> local calendar date in `tz` (datetime64[s], naive). NaT stays NaT.

    A timestamp counts on the local date where it happened: 2024-01-31T23:30Z is 2024-02-01 in
    Europe/Berlin.
    """
    ts = pd.to_datetime(timestamps, utc=True)
    return ts.dt.tz_convert(tz).dt.tz_localize(None).dt.floor("D").astype("datetime64[s]")


def local_midnight_utc(days: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """00:00 local time of each naive date, as a UTC instant (microseconds).

    Midnight may not exist (DST jump at 00:00 in a few zones): the first instant after the gap is
    used. An ambiguous midnight takes the later instant (standard time), so a day never ends early.
    """
    local = pd.DatetimeIndex(days).tz_localize(
        tz, ambiguous=np.zeros(len(days), dtype=bool), nonexistent="shift_forward"
    )
    return local.tz_convert("UTC").as_unit("us")


@dataclass(frozen=True)
class Calendar:
    """The dense set of periods from `start` (a local date) to `as_of` (D), in time zone `tz`."""

    start: pd.Timestamp
    as_of: pd.Timestamp
    tz: str

    @classmethod
    def spanning(cls, first_day: pd.Timestamp | None, as_of: date, tz: str) -> Calendar:
        """Calendar from the earliest event (or D when there is none or it is after D) to D."""
        end = pd.Timestamp(as_of).normalize()
        start = (
            end
            if first_day is None or pd.isna(first_day)
            else min(pd.Timestamp(first_day).normalize(), end)
        )
        return cls(start=start, as_of=end, tz=tz)

    def periods(self, grain: str) -> pd.DatetimeIndex:
        """First day of every period of `grain`, ascending (datetime64[s])."""
        if grain == "day":
            return pd.date_range(self.start, self.as_of, freq="D").as_unit("s")
        if grain == "month":
            first = self.start.to_period("M").start_time
            return pd.date_range(first, self.as_of, freq="MS").as_unit("s")
        raise ValueError(f"unknown grain {grain!r}")

    def next_starts(self, grain: str) -> pd.DatetimeIndex:
        """Local date just after each period (exclusive end); the running period ends after D."""
        starts = self.periods(grain)
        step = pd.DateOffset(days=1) if grain == "day" else pd.DateOffset(months=1)
        nxt = pd.DatetimeIndex(starts + step)
        return nxt.where(nxt <= self.as_of, self.as_of + pd.Timedelta(days=1)).as_unit("s")

    def period_ends_utc(self, grain: str) -> pd.DatetimeIndex:
        """The end of each period (end of its last local day, or of D) as a UTC instant.

        An instant `m` here is exclusive: the state at the end of the period is the version with
        `valid_from < m <= valid_to`, i.e. the one valid just before local midnight.
        """
        return local_midnight_utc(self.next_starts(grain), self.tz)

    def days_elapsed(self, grain: str) -> np.ndarray:
        """Days in each period up to D (a full month's length, D.day for the running month)."""
        starts = self.periods(grain)
        return (
            ((self.next_starts(grain) - starts) / pd.Timedelta(days=1)).to_numpy().astype("int64")
        )
