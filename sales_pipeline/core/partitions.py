"""The single daily partitions definition every asset uses (partition = landing / as-of day)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from sales_pipeline.core.config import Settings

# The nightly schedule lands yesterday's partition at 02:00: a table older than a day and a few
# hours has missed a night.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
)


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Daily from the first partition setting, in the schedule time zone.

    A day's partition exists once the day is over, which is what the nightly schedule targets.
    """
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(), timezone=settings.timezone
    )
