"""`sales-pipeline retention`: a dry run lists and deletes nothing; --apply deletes exactly that."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
from click.testing import CliRunner

from sales_pipeline.cli import main


def _partition(root, table, day):
    folder = root / table / f"date={day}"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"x")
    return folder


def test_retention_dry_run_then_apply(tmp_path):
    root = tmp_path / "warehouse"
    today = date.today()
    old, month_end, recent = date(2023, 2, 10), date(2023, 2, 28), today - timedelta(days=1)
    for day in (old, month_end, recent):
        _partition(root, "kpi_summary", day)
        _partition(root, "quarantine", day)
        _partition(root, "orders", day)
    with dg.DagsterInstance.get() as instance:
        finished = dg.DagsterRun(job_name="daily_job", status=dg.DagsterRunStatus.SUCCESS)
        running = dg.DagsterRun(job_name="daily_job", status=dg.DagsterRunStatus.STARTED)
        instance.add_run(finished)
        instance.add_run(running)
    # The runs were created now: age them by looking from 100 days ahead.
    ahead = (today + timedelta(days=100)).isoformat()
    args = ["retention", "--warehouse", str(root), "--keep-run-days", "30", "--today", ahead]
    dry = CliRunner().invoke(main, args, catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert f"would delete {root}/kpi_summary/date={old}" in dry.output
    assert f"kpi_summary/date={month_end}" not in dry.output
    assert f"would delete run {finished.run_id}" in dry.output
    assert running.run_id not in dry.output and "orders" not in dry.output
    assert (root / "kpi_summary" / f"date={old}").is_dir()  # nothing deleted in a dry run

    applied = CliRunner().invoke(main, [*args, "--apply"], catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    assert not (root / "kpi_summary" / f"date={old}").exists()
    assert (root / "kpi_summary" / f"date={month_end}").is_dir()
    # Outside the window seen from `ahead`, but the latest partition: the current one stays.
    assert (root / "kpi_summary" / f"date={recent}").is_dir()
    assert not (root / "quarantine" / f"date={month_end}").exists()
    assert (root / "quarantine" / f"date={recent}").is_dir()
    assert all((root / "orders" / f"date={d}").is_dir() for d in (old, month_end, recent))
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(finished.run_id) is None
        assert instance.get_run_by_id(running.run_id) is not None
