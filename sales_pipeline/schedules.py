"""The nightly schedule: yesterday's partition of the daily job at 02:00 in the settings time zone.

Coordinated with the landing sensor: when a run of the daily job for that partition, for the
same landing content (`landing_sha256` tag), is already queued, running or succeeded, the
tick skips and says so; otherwise it requests the run with the same tags. One run per partition
at a time is enforced by the run queue (jobs.PARTITION_CONCURRENCY_TAG).
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.jobs import DAILY_JOB, PARTITION_CONCURRENCY_TAG
from sales_pipeline.sensors import folder_content_hash

_NOT_FAILED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.SUCCESS,
]


def build_schedules(
    jobs: list[dg.UnresolvedAssetJobDefinition], partitions_def: dg.TimeWindowPartitionsDefinition
) -> list[dg.ScheduleDefinition]:
    daily = next(j for j in jobs if j.name == DAILY_JOB)
    return [build_nightly(daily, partitions_def)]


def build_nightly(
    job: dg.UnresolvedAssetJobDefinition, partitions_def: dg.TimeWindowPartitionsDefinition
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly",
        cron_schedule="0 2 * * *",
        execution_timezone=partitions_def.timezone,
        job=job,
        description=(
            "Every night at 02:00 (settings time zone): yesterday's landing day, end to end; "
            "skipped when the landing sensor already ran that day's content."
        ),
    )
    def nightly(context: dg.ScheduleEvaluationContext, settings: PipelineSettings):
        # Yesterday in the settings time zone: the partition that ended before this tick.
        local = context.scheduled_execution_time.astimezone(ZoneInfo(partitions_def.timezone))
        day = (local.date() - timedelta(days=1)).isoformat()
        if day < partitions_def.start.date().isoformat():
            return dg.SkipReason(f"{day} is before the first partition")
        folder = settings.resolve().landing / day
        tags = {}
        if folder.is_dir():
            content = folder_content_hash(folder)[:63]
            tags["landing_sha256"] = content
            done = context.instance.get_runs(
                filters=dg.RunsFilter(
                    job_name=DAILY_JOB,
                    statuses=_NOT_FAILED,
                    tags={PARTITION_CONCURRENCY_TAG: day, "landing_sha256": content},
                ),
                limit=1,
            )
            if done:
                return dg.SkipReason(
                    f"{day}: run {done[0].run_id} already covers this landing content"
                )
        return dg.RunRequest(run_key=None, partition_key=day, tags=tags)

    return nightly
