"""The landing sensor and the nightly schedule: readiness, reruns, stale analytics, coordination."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import dagster as dg

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from sales_pipeline.jobs import ANALYTICS_JOB, DAILY_JOB
from sales_pipeline.sensors import QUIET_SECONDS, READY_MARKER, landing_requests

VALID = {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"}


def _tick(defs, cursor=None):
    sensor = defs.resolve_sensor_def("landing_folders")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=defs,
            resources={"settings": defs.resources["settings"]},
        )
        return sensor.evaluate_tick(context)


def _write(folder, text, marker=True):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(text)
    if marker:
        (folder / READY_MARKER).write_text("")


def test_marked_folder_runs_then_unchanged_skips_then_changed_runs(tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "2024-01-02", "order_id\n1\n")
    (landing / "not-a-day").mkdir()
    defs = build_defs(
        settings=PipelineSettings(landing=str(landing), warehouse=str(tmp_path / "w"))
    )
    first = _tick(defs)
    assert [r.partition_key for r in first.run_requests] == ["2024-01-02"]
    assert first.run_requests[0].job_name == DAILY_JOB
    key = first.run_requests[0].run_key
    assert key.startswith("2024-01-02:1:") and len(key.split(":")[2]) == 16
    assert not _tick(defs, first.cursor).run_requests

    _write(landing / "2024-01-02", "order_id\n1\n2\n")
    changed = _tick(defs, first.cursor)
    assert [r.run_key.split(":")[1] for r in changed.run_requests] == ["2"]
    assert json.loads(changed.cursor)["2024-01-02"]["seq"] == 2


def test_half_copied_folder_waits_for_marker_or_quiet_period(tmp_path):
    _write(tmp_path / "2024-01-01", "order_id\n1\n", marker=False)
    now = time.time()
    assert landing_requests(tmp_path, VALID, {}, now=now)[0] == []
    later, cursor = landing_requests(tmp_path, VALID, {}, now=now + QUIET_SECONDS + 1)
    assert [r.partition_key for r in later] == ["2024-01-01"]


def test_folder_back_to_earlier_content_runs_again(tmp_path):
    folder = tmp_path / "2024-01-01"
    keys = []
    cursor: dict = {}
    for text in ("order_id\n1\n", "order_id\n1\n2\n", "order_id\n1\n"):
        _write(folder, text)
        stamp = time.time() + len(keys)
        os.utime(folder / "orders.csv", (stamp, stamp))
        requests, cursor = landing_requests(tmp_path, VALID, cursor)
        keys += [r.run_key for r in requests]
    assert len(keys) == 3 and len(set(keys)) == 3  # the third equals the first's content
    assert keys[0].split(":")[2] == keys[2].split(":")[2]
    # Touched without a change of bytes: no rerun.
    os.utime(folder / "orders.csv", (time.time() + 10, time.time() + 10))
    assert landing_requests(tmp_path, VALID, cursor)[0] == []


def test_redelivered_day_reruns_the_analytics_days_after_it(tmp_path):
    _write(tmp_path / "2024-01-02", "order_id\n1\n")
    built = ["2024-01-01", "2024-01-03", "2024-01-05"]
    first, cursor = landing_requests(tmp_path, VALID, {}, analytics_days=built)
    assert [r.job_name for r in first] == [DAILY_JOB]  # a first delivery makes nothing stale
    _write(tmp_path / "2024-01-02", "order_id\n1\n2\n")
    again, _ = landing_requests(tmp_path, VALID, cursor, analytics_days=built)
    assert [(r.job_name, r.partition_key) for r in again] == [
        (DAILY_JOB, "2024-01-02"),
        (ANALYTICS_JOB, "2024-01-03"),
        (ANALYTICS_JOB, "2024-01-05"),
    ]


def test_nightly_skips_when_the_sensor_already_ran_that_content(tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "2024-01-02", "order_id\n1\n")
    defs = build_defs(
        settings=PipelineSettings(
            landing=str(landing), warehouse=str(tmp_path / "w"), start_date="2024-01-01"
        )
    )
    schedule = defs.resolve_schedule_def("nightly")
    tick_time = datetime(2024, 1, 3, 2, 0, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick_time,
            resources={"settings": defs.resources["settings"]},
            repository_def=defs.get_repository_def(),
        )
        first = schedule.evaluate_tick(context)
        assert [r.partition_key for r in first.run_requests] == ["2024-01-02"]
        content = first.run_requests[0].tags["landing_sha256"]
        instance.add_run(
            dg.DagsterRun(
                job_name=DAILY_JOB,
                status=dg.DagsterRunStatus.SUCCESS,
                tags={"dagster/partition": "2024-01-02", "landing_sha256": content},
            )
        )
        second = schedule.evaluate_tick(context)
        assert not second.run_requests and "already covers" in second.skip_message
