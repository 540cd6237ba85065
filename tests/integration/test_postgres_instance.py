"""The pipeline on a Dagster instance stored in PostgreSQL (deploy/postgres/dagster.yaml).

Runs the CLI's runner against a real server on loopback, in a database created for the test
and dropped after it, and reads the run and its events back from Postgres itself.
"""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg

from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from sales_pipeline.runner import run_days
from tests.integration.landing_fixture import write_landing
from tests.integration.services import (
    DEPLOY,
    PG_HOST,
    PG_PORT,
    PG_USER,
    fresh_postgres_database,
    postgres_env,
)

DAYS = [date(2024, 1, 1), date(2024, 1, 2)]


def test_pipeline_runs_on_a_postgres_instance(tmp_path, monkeypatch):
    import psycopg2
    from dagster_postgres import PostgresRunStorage

    landing, root = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    home = tmp_path / "dagster_home"
    shutil.copy(DEPLOY / "postgres" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("SALES_PIPELINE_MAX_QUARANTINE", "0.5")
    with fresh_postgres_database() as db_name:
        for key, value in postgres_env(db_name).items():
            monkeypatch.setenv(key, value)
        defs = build_defs(settings=PipelineSettings(landing=str(landing), warehouse=str(root)))
        with dg.DagsterInstance.get() as instance:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            outcomes = run_days(defs, DAYS, set(), instance)
            assert [o.success for o in outcomes] == [True, True], [o.errors for o in outcomes]
            run_id = outcomes[0].run_id
            run = instance.get_run_by_id(run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
            materialized = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
            ).records
            assert {r.event_log_entry.dagster_event.asset_key for r in materialized} >= {
                dg.AssetKey("orders"),
                dg.AssetKey("ingest_audit"),
            }
        # The records are in the server's tables, not in a local SQLite file.
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=db_name)
        try:
            with conn.cursor() as cursor:
                cursor.execute("select status from runs where run_id = %s", (run_id,))
                assert cursor.fetchall() == [("SUCCESS",)]
                cursor.execute(
                    "select count(*) from event_logs where run_id = %s and dagster_event_type = %s",
                    (run_id, "ASSET_MATERIALIZATION"),
                )
                assert cursor.fetchone()[0] == len(materialized)
        finally:
            conn.close()
    assert not list(home.glob("**/*.db")), "an instance on Postgres writes no SQLite files"
    for day in DAYS:
        assert warehouse.has_partition(root, "ingest_audit", day)
    orders = warehouse.read_partition(root, "orders", DAYS[0])
    assert sorted(orders["order_id"]) == ["x1", "x3"]
