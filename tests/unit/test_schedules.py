"""The nightly schedule's ticks: which partition a tick at a given instant requests, in the
settings time zone (yesterday's landing day at 02:00 local time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs


@pytest.fixture(scope="module")
def instance():
    # One instance for the module: schedule evaluation keeps a weak reference to the instance,
    # and one closed by an earlier test must not be the one a later evaluation finds.
    return dg.DagsterInstance.ephemeral()


def _tick(defs: dg.Definitions, at: datetime, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=at,
        resources={"settings": defs.resources["settings"]},
        repository_def=defs.get_repository_def(),
    )
    result = schedule.evaluate_tick(context)
    assert result.skip_message is None, result.skip_message
    return list(result.run_requests or [])


def _defs(timezone: str) -> dg.Definitions:
    return build_defs(settings=PipelineSettings(start_date="2024-01-01", timezone=timezone))


@pytest.mark.parametrize(
    ("timezone", "local_tick", "partition"),
    [
        ("UTC", "2024-03-05 02:00", "2024-03-04"),
        ("UTC", "2024-01-02 02:00", "2024-01-01"),  # the first partition
        ("Europe/Berlin", "2024-03-05 02:00", "2024-03-04"),
        ("America/New_York", "2024-07-01 02:00", "2024-06-30"),
        ("Asia/Tokyo", "2024-03-31 02:00", "2024-03-30"),
    ],
)
def test_the_nightly_tick_requests_yesterday_in_the_settings_time_zone(
    timezone: str, local_tick: str, partition: str, instance: dg.DagsterInstance
) -> None:
    at = datetime.fromisoformat(local_tick).replace(tzinfo=ZoneInfo(timezone))
    requests = _tick(_defs(timezone), at, instance)
    assert [r.partition_key for r in requests] == [partition]
    assert requests[0].job_name in (None, "daily_job")


def test_the_time_zone_decides_the_day_of_one_instant(instance: dg.DagsterInstance) -> None:
    """01:00 UTC on 5 March is 02:00 in Berlin (a tick: yesterday = 4 March) but still the
    evening of 4 March in New York, where the 02:00 tick of 4 March asked for 3 March."""
    instant = datetime(2024, 3, 5, 1, 0, tzinfo=ZoneInfo("UTC"))
    berlin = _tick(_defs("Europe/Berlin"), instant, instance)
    assert [r.partition_key for r in berlin] == ["2024-03-04"]
    new_york = _defs("America/New_York").resolve_schedule_def("nightly")
    assert new_york.execution_timezone == "America/New_York"
    assert new_york.cron_schedule == "0 2 * * *"
    previous_ny_tick = datetime(2024, 3, 4, 2, 0, tzinfo=ZoneInfo("America/New_York"))
    assert [
        r.partition_key for r in _tick(_defs("America/New_York"), previous_ny_tick, instance)
    ] == ["2024-03-03"]
