"""The CLI's contract: exit codes 0/1/2, blocked days named, runs recorded in the instance."""

from __future__ import annotations

import dagster as dg
import pytest
from click.testing import CliRunner

from sales_pipeline.cli import main
from sales_pipeline.core import warehouse
from tests.integration.landing_fixture import write_landing


@pytest.fixture
def zone(tmp_path):
    return write_landing(tmp_path / "landing"), tmp_path / "warehouse"


def _run(landing, wh, *args, env=None):
    return CliRunner().invoke(
        main,
        ["run", "--landing", str(landing), "--warehouse", str(wh), *args],
        env={"SALES_PIPELINE_MAX_QUARANTINE": "0.5", **(env or {})},
        catch_exceptions=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2024-13-01", "--to", "2024-01-02"],
        ["--from", "2024-01-02", "--to", "2024-01-01"],
        ["--from", "2023-01-01", "--to", "2023-01-02"],
        ["--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "2025-01-01"],
    ],
)
def test_usage_errors_exit_2(zone, args):
    landing, wh = zone
    result = _run(landing, wh, *args)
    assert result.exit_code == 2, result.output


def test_ingest_only_run_succeeds_and_is_recorded(zone):
    landing, wh = zone
    result = _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "none")
    assert result.exit_code == 0, result.output
    assert warehouse.list_partitions(wh, "ingest_audit") == ["2024-01-01", "2024-01-02"]
    with dg.DagsterInstance.get() as instance:
        # Consecutive ingest-only days run as one single-run backfill, recorded like any run.
        assert len(instance.get_runs()) == 1
        for table in ("orders", "ingest_audit"):
            assert instance.get_materialized_partitions(dg.AssetKey(table)) == {
                "2024-01-01",
                "2024-01-02",
            }


def test_blocked_day_exits_1_and_names_day_file_and_reason(zone):
    landing, wh = zone
    assert (
        _run(
            landing, wh, "--from", "2024-01-01", "--to", "2024-01-01", "--analytics", "none"
        ).exit_code
        == 0
    )
    before = warehouse.read_partition(wh, "orders", "2024-01-01")
    (landing / "2024-01-01" / "orders.csv").write_bytes(b"")  # zero-byte file: empty_file
    result = _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "none")
    assert result.exit_code == 1
    assert (
        "2024-01-01" in result.output
        and "orders.csv" in result.output
        and "empty_file" in result.output
    )
    # The earlier good partition stays, quarantine and audit show why, the next day still ran.
    assert warehouse.read_partition(wh, "orders", "2024-01-01").equals(before)
    audit = warehouse.read_partition(wh, "ingest_audit", "2024-01-01").set_index("source_file")
    assert audit.loc["2024-01-01/orders.csv", "status"] == "blocked"
    quarantine = warehouse.read_partition(wh, "quarantine", "2024-01-01")
    assert "empty_file" in set(quarantine["reason_code"])
    assert warehouse.has_partition(wh, "ingest_audit", "2024-01-02")


def test_missing_landing_folder_is_an_error(zone):
    landing, wh = zone
    result = _run(landing, wh, "--from", "2024-01-03", "--to", "2024-01-03", "--analytics", "none")
    assert result.exit_code == 1
    assert "no landing folder for 2024-01-03" in result.output


def test_rerun_skips_what_was_materialised_from_the_same_inputs(zone):
    landing, wh = zone
    args = ("--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "last")
    assert _run(landing, wh, *args).exit_code == 0
    with dg.DagsterInstance.get() as instance:
        runs = len(instance.get_runs())
    again = _run(landing, wh, *args)
    assert again.exit_code == 0 and "skipped" in again.output
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == runs  # nothing redone
    # A partition lost (a crash between runs, a deleted file): only its day is redone.
    warehouse.partition_path(wh, "orders", "2024-01-02").unlink()
    assert _run(landing, wh, *args).exit_code == 0
    assert warehouse.has_partition(wh, "orders", "2024-01-02")
    with dg.DagsterInstance.get() as instance:
        # The day's ingest, and its analytics: the re-ingest rewrites the day's schema profile,
        # which the analytics ledger counts among its inputs (conservative, never stale).
        assert len(instance.get_runs()) == runs + 2
    assert _run(landing, wh, *args, "--force").exit_code == 0
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == runs + 4  # --force: ingest span and analytics again


def _overall_revenue(wh, day: str) -> float:
    kpis = warehouse.read_partition(wh, "kpi_summary", day)
    rows = kpis[(kpis["period_grain"] == "month") & (kpis["dimension"] == "overall")]
    return float(rows["revenue"].sum())


def test_rerun_downstream_rebuilds_the_later_analytics_days_after_a_re_sent_day(zone):
    landing, wh = zone
    assert _run(landing, wh, "--from", "2024-01-01", "--to", "2024-01-02").exit_code == 0
    before = _overall_revenue(wh, "2024-01-02")
    with dg.DagsterInstance.get() as instance:
        runs = len(instance.get_runs())
    # Day 1 is re-sent with one more completed order: the state of day 2 includes it.
    orders = landing / "2024-01-01" / "orders.csv"
    orders.write_text(
        orders.read_text(encoding="utf-8") + "x4,a1,2023-12-08,200,EUR,completed\n",
        encoding="utf-8",
    )
    args = ("--from", "2024-01-01", "--to", "2024-01-01", "--rerun-downstream")
    result = _run(landing, wh, *args)
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.get() as instance:
        new = instance.get_runs(limit=len(instance.get_runs()) - runs)
        assert sorted((r.job_name, r.tags["dagster/partition"]) for r in new) == [
            ("analytics_job", "2024-01-01"),
            ("analytics_job", "2024-01-02"),
            ("ingest_job", "2024-01-01"),
        ]
    assert _overall_revenue(wh, "2024-01-02") > before
    assert _overall_revenue(wh, "2024-01-02") == _overall_revenue(wh, "2024-01-01")
    # Nothing re-sent since: the ingest is skipped, so nothing downstream is stale.
    with dg.DagsterInstance.get() as instance:
        runs = len(instance.get_runs())
    assert _run(landing, wh, *args).exit_code == 0
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == runs


def test_analytics_days_build_in_a_worker_process_and_are_recorded(zone):
    import os

    from sales_pipeline.runner import PID_TAG

    landing, wh = zone
    args = ("--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "all")
    result = _run(landing, wh, *args, env={"SALES_PIPELINE_ANALYTICS_WORKER": "1"})
    assert result.exit_code == 0, result.output
    assert warehouse.list_partitions(wh, "kpi_summary") == ["2024-01-01", "2024-01-02"]
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        analytics = [r for r in runs if r.job_name == "analytics_job"]
        ingest = [r for r in runs if r.job_name == "ingest_job"]
    assert len(analytics) == 2 and all(r.is_success for r in runs)
    # Both analytics runs came from one other process; the ingest ran here.
    assert {r.tags[PID_TAG] for r in ingest} == {str(os.getpid())}
    assert len({r.tags[PID_TAG] for r in analytics} - {str(os.getpid())}) == 1
    # The worker recorded them in the ledger under the caller's keys: a rerun skips everything.
    again = _run(landing, wh, *args, env={"SALES_PIPELINE_ANALYTICS_WORKER": "1"})
    assert again.exit_code == 0, again.output
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == len(runs)
