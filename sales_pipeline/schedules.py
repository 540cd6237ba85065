"""The nightly schedule: yesterday's partition of the daily job at 02:00 in the settings time zone."""

from __future__ import annotations

import dagster as dg

from sales_pipeline.jobs import DAILY_JOB


def build_schedules(jobs: list[dg.UnresolvedAssetJobDefinition]) -> list:
    daily = next(j for j in jobs if j.name == DAILY_JOB)
    # The time zone comes from the partitions definition (settings time zone), not an argument.
    return [build_nightly(daily)]


def build_nightly(job: dg.UnresolvedAssetJobDefinition):
    return dg.build_schedule_from_partitioned_job(
        job,
        name="nightly",
        hour_of_day=2,
        minute_of_hour=0,
        description="Every night at 02:00 (settings time zone): yesterday's landing day, end to end.",
    )
