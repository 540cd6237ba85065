"""The single daily partitions definition every asset uses (partition = landing / as-of day)."""

from __future__ import annotations

import dagster as dg

from sales_pipeline.config import Settings


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Daily from the first partition setting, in the schedule time zone.

    A day's partition exists once the day is over, which is what the nightly schedule targets.
    """
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(), timezone=settings.timezone
    )
