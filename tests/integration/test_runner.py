"""The runner: orphaned runs failed at start, one message per blocked file, honest summary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date

import dagster as dg
import pandas as pd
from click.testing import CliRunner

from sales_pipeline.cli import main
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from sales_pipeline.runner import (
    PID_TAG,
    PLANNED_SUBSET_ENV,
    fail_orphaned_runs,
    ingest_span,
    run_days,
    run_job,
)
from tests.integration.landing_fixture import write_landing


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_runs_left_started_by_a_killed_process_are_failed_on_next_start(tmp_path):
    with dg.DagsterInstance.get() as instance:
        orphan = dg.DagsterRun(
            job_name="ingest_job",
            status=dg.DagsterRunStatus.STARTED,
            tags={PID_TAG: str(_dead_pid())},
        )
        no_pid = dg.DagsterRun(job_name="analytics_job", status=dg.DagsterRunStatus.STARTED)
        # The parent of this test process is alive: its run is really in flight.
        alive = dg.DagsterRun(
            job_name="ingest_job",
            status=dg.DagsterRunStatus.STARTED,
            tags={PID_TAG: str(os.getppid())},
        )
        # Killed between creating its run and starting it (test_sigkill_loop.py found it).
        created = dg.DagsterRun(
            job_name="analytics_job",
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={PID_TAG: str(_dead_pid())},
        )
        # Not a CLI run: created for a launch that may still come.
        pending = dg.DagsterRun(job_name="ingest_job", status=dg.DagsterRunStatus.NOT_STARTED)
        runs = (orphan, no_pid, alive, created, pending)
        for run in runs:
            instance.add_run(run)
        defs = build_defs(settings=PipelineSettings(warehouse=str(tmp_path / "wh")))
        run_days(defs, [], set(), instance)  # starting the runner is enough
        status = [instance.get_run_by_id(r.run_id).status for r in runs]
        assert status == [
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.STARTED,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.NOT_STARTED,
        ]
        assert fail_orphaned_runs(instance) == []  # idempotent


def _run(landing, wh, *args):
    return CliRunner().invoke(
        main,
        ["run", "--landing", str(landing), "--warehouse", str(wh), *args],
        env={"SALES_PIPELINE_MAX_QUARANTINE": "0.5"},
        catch_exceptions=False,
    )


def test_a_blocked_file_is_named_once_with_its_reason_code(tmp_path):
    landing, wh = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    (landing / "2024-01-01" / "orders.csv").write_bytes(b"")
    result = _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "none")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "orders.csv" in line]
    # Once while running, once in the final list of failures; each line names it once.
    assert lines and all(line.count("orders.csv") == 1 for line in lines), lines
    assert all("empty_file" in line for line in lines), lines
    assert not any("quarantine_share failed" in line for line in lines), lines


def test_range_failure_is_split_by_the_failed_day_metadata(tmp_path, monkeypatch):
    monkeypatch.setenv("SALES_PIPELINE_MAX_QUARANTINE", "0.5")
    landing, wh = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    (landing / "2024-01-02" / "orders.csv").write_bytes(b"")
    defs = build_defs(
        settings=PipelineSettings(landing=str(landing), warehouse=str(wh), start_date="2024-01-01")
    )
    with dg.DagsterInstance.get() as instance:
        outcome, _ = run_job(defs, "ingest_job", date(2024, 1, 1), instance, last=date(2024, 1, 2))
        planned = instance.get_records_for_run(
            outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
    assert not outcome.success
    assert outcome.failed_days == [date(2024, 1, 2)]
    # The range run planned each asset once (not once per asset and day); the switch that does
    # it is set only around that run.
    assets = {r.event_log_entry.dagster_event.asset_key for r in planned}
    assert len(assets) > 1 and len(planned) == len(assets)
    assert PLANNED_SUBSET_ENV not in os.environ


def test_a_span_with_several_blocked_days_is_split_once_around_all_of_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SALES_PIPELINE_MAX_QUARANTINE", "0.5")
    landing, wh = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    shutil.copytree(landing / "2024-01-02", landing / "2024-01-03")
    shutil.copytree(landing / "2024-01-02", landing / "2024-01-04")
    for day in ("2024-01-02", "2024-01-04"):
        (landing / day / "orders.csv").write_bytes(b"")
    defs = build_defs(
        settings=PipelineSettings(landing=str(landing), warehouse=str(wh), start_date="2024-01-01")
    )
    days = [date(2024, 1, d) for d in (1, 2, 3, 4)]
    with dg.DagsterInstance.get() as instance:
        first, _ = run_job(defs, "ingest_job", days[0], instance, last=days[-1])
        assert first.failed_days == [days[1], days[3]]
        outcomes = ingest_span(defs, days, instance)
        runs = instance.get_runs()
    assert [(o.day, o.success) for o in outcomes] == [
        (days[0], True),
        (days[1], False),
        (days[2], True),
        (days[3], False),
    ]
    # The probe, then one failing span and a run per piece: no run of a remainder that fails.
    assert len(runs) == 1 + 1 + 4
    # Day 3 as its own span ingested what day 2's run left (its orders withheld).
    audit = pd.read_parquet(wh / "ingest_audit" / "date=2024-01-03")
    assert set(audit["status"]) == {"ok"}


def test_summary_never_shows_a_failed_day_with_an_earlier_runs_numbers(tmp_path):
    landing, wh = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    first = _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-01", "--analytics", "none")
    assert first.exit_code == 0, first.output
    row = next(line for line in first.output.splitlines() if line.startswith("│ 2024-01-01"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[1:3] == ["ok", "5"], row  # five files read this time
    shutil.rmtree(landing / "2024-01-01")  # the day now fails before anything is written
    second = _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-01", "--analytics", "none")
    assert second.exit_code == 1
    row = next(line for line in second.output.splitlines() if line.startswith("│ 2024-01-01"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[1] == "failed" and cells[2:7] == ["-"] * 5, row
