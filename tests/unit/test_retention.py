"""Retention choices (pure) and the guard that keeps deletion inside the warehouse."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from sales_pipeline.retention import (
    Plan,
    Policy,
    RunInfo,
    analytics_partitions_to_delete,
    apply,
    plan,
    runs_to_delete,
    unsafe_reason,
    window_partitions_to_delete,
)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_analytics_keeps_the_window_and_every_month_end():
    days = _days(date(2024, 1, 1), date(2024, 6, 30))
    gone = analytics_partitions_to_delete(days, today=date(2024, 6, 30), keep_days=30)
    kept = sorted(set(days) - set(gone))
    month_ends = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert kept == month_ends + _days(date(2024, 5, 31), date(2024, 6, 30))
    assert len(kept) == 4 + 31  # four month-ends before the window, then the last 30 days + May 31


def test_a_month_without_its_last_day_keeps_its_last_partition():
    days = [date(2024, 1, 10), date(2024, 1, 20), date(2024, 2, 5), date(2024, 3, 31)]
    gone = analytics_partitions_to_delete(days, today=date(2024, 12, 31), keep_days=7)
    assert gone == [date(2024, 1, 10)]


@pytest.mark.parametrize("choose", [analytics_partitions_to_delete, window_partitions_to_delete])
def test_the_current_partition_is_never_deleted(choose):
    days = [date(2023, 1, 5), date(2023, 1, 6)]
    # The pipeline stopped long ago: everything is outside the window but the latest stays.
    assert date(2023, 1, 6) not in choose(days, today=date(2024, 6, 1), keep_days=1)
    assert choose([date(2023, 1, 6)], today=date(2024, 6, 1), keep_days=1) == []
    assert choose([], today=date(2024, 6, 1), keep_days=1) == []


def test_quarantine_window_has_no_month_end_exception():
    days = _days(date(2024, 1, 1), date(2024, 3, 31))
    gone = window_partitions_to_delete(days, today=date(2024, 3, 31), keep_days=10)
    assert gone == _days(date(2024, 1, 1), date(2024, 3, 21))
    assert date(2024, 1, 31) in gone


def test_only_finished_runs_older_than_the_window_go():
    now = datetime(2024, 6, 1, tzinfo=UTC)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    runs = [
        RunInfo("old-ok", dg.DagsterRunStatus.SUCCESS, old),
        RunInfo("old-failed", dg.DagsterRunStatus.FAILURE, old),
        RunInfo("old-running", dg.DagsterRunStatus.STARTED, old),
        RunInfo("old-queued", dg.DagsterRunStatus.QUEUED, old),
        RunInfo("recent", dg.DagsterRunStatus.SUCCESS, recent),
    ]
    assert runs_to_delete(runs, now, keep_days=30) == ["old-ok", "old-failed"]


def test_policy_rejects_a_zero_window():
    with pytest.raises(ValueError, match="analytics_days"):
        Policy(analytics_days=0)


def _partition(root, table, day):
    folder = root / table / f"date={day}"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"x")
    return folder


def test_deletion_refuses_anything_but_a_real_partition_folder_inside_the_root(tmp_path):
    root, outside = tmp_path / "warehouse", tmp_path / "precious"
    good = _partition(root, "kpi_summary", "2024-01-01")
    _partition(outside, "kpi_summary", "2024-01-01")
    assert unsafe_reason(root, good) is None
    # A table folder that is a symlink to elsewhere.
    os.symlink(outside / "kpi_summary", root / "churn_scores")
    assert "symlink" in unsafe_reason(root, root / "churn_scores" / "date=2024-01-01")
    # A partition folder that is a symlink.
    os.symlink(
        outside / "kpi_summary" / "date=2024-01-01", root / "kpi_summary" / "date=2024-01-02"
    )
    assert "symlink" in unsafe_reason(root, root / "kpi_summary" / "date=2024-01-02")
    assert unsafe_reason(root, outside / "kpi_summary" / "date=2024-01-01") is not None
    assert unsafe_reason(root, root / ".." / "precious" / "kpi_summary" / "date=2024-01-01")
    assert unsafe_reason(root, root / "kpi_summary") == "not a partition folder"
    chosen = Plan(
        partitions=[
            good,
            root / "churn_scores" / "date=2024-01-01",
            root / "kpi_summary" / "date=2024-01-02",
        ]
    )
    assert apply(root, chosen) == (1, 0)
    assert not good.exists()
    assert (outside / "kpi_summary" / "date=2024-01-01" / "part-0.parquet").is_file()
    assert len(chosen.skipped) == 2


def test_plan_reads_tables_charts_and_quarantine(tmp_path):
    root = tmp_path / "warehouse"
    for day in ("2024-01-15", "2024-01-31", "2024-02-10", "2024-03-01"):
        _partition(root, "kpi_summary", day)
        _partition(root, "_charts/kpi_summary", day)
        _partition(root, "quarantine", day)
        _partition(root, "orders", day)  # clean tables are never touched
    chosen = plan(root, date(2024, 3, 1), Policy(5, 5, 5), tables=["kpi_summary"])
    names = sorted(str(p.relative_to(root)) for p in chosen.partitions)
    assert names == [
        "_charts/kpi_summary/date=2024-01-15",
        "kpi_summary/date=2024-01-15",
        "quarantine/date=2024-01-15",
        "quarantine/date=2024-01-31",
        "quarantine/date=2024-02-10",
    ]
