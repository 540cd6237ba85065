"""`dg.materialize` of the ingest and state layers for real partitions into a temp warehouse."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from tests.integration.landing_fixture import write_landing


@pytest.fixture
def defs(tmp_path):
    landing = write_landing(tmp_path / "landing")
    settings = PipelineSettings(
        landing=str(landing), warehouse=str(tmp_path / "warehouse"), max_quarantine=0.5
    )
    return build_defs(settings=settings)


def _run(defs, job, day):
    return defs.resolve_job_def(job).execute_in_process(partition_key=day, raise_on_error=False)


def test_ingest_writes_every_table_and_accounts_for_every_row(defs, tmp_path):
    result = _run(defs, "ingest_job", "2024-01-01")
    assert result.success
    root = tmp_path / "warehouse"
    assert (root / "orders" / "date=2024-01-01" / "part-0.parquet").is_file()
    audit = warehouse.read_partition(root, "ingest_audit", "2024-01-01").set_index("entity")
    assert (
        audit["rows_read"]
        == audit["rows_clean"] + audit["rows_quarantined"] + audit["rows_duplicate"]
    ).all()
    assert audit.loc[
        "orders", ["rows_read", "rows_clean", "rows_quarantined", "rows_duplicate"]
    ].tolist() == [4, 2, 1, 1]
    assert audit.loc[
        "opportunities", ["rows_clean", "rows_quarantined", "rows_duplicate"]
    ].tolist() == [2, 1, 1]
    quarantine = warehouse.read_partition(root, "quarantine", "2024-01-01")
    assert sorted(quarantine["reason_code"]) == ["negative_amount", "unknown_stage"]
    orders = warehouse.read_partition(root, "orders", "2024-01-01").set_index("order_id")
    assert (
        orders.loc["x1", "amount"] == 110.0 and orders.loc["x1", "amount_local"] == 100.0
    )  # EUR at 1.10
    assert orders.loc["x3", "amount"] == 1250.5 and orders.loc["x3", "status"] == "completed"
    accounts = warehouse.read_partition(root, "accounts", "2024-01-01").set_index("account_id")
    assert accounts.loc["a2", "country"] == "NA"  # Namibia, not null
    # Entities without a file that day still get an (empty) partition with the full schema.
    assert warehouse.read_partition(root, "targets", "2024-01-01").empty


def test_state_applies_upsert_across_days(defs, tmp_path):
    for day in ("2024-01-01", "2024-01-02"):
        assert _run(defs, "ingest_job", day).success
    result = _run_state(defs)
    assert result.success
    root = tmp_path / "warehouse"
    state = warehouse.read_partition(root, "opportunities_state", "2024-01-02").set_index(
        "opportunity_id"
    )
    assert state.loc["o1", "stage"] == "proposal" and state.loc["o2", "stage"] == "closed_won"
    history = warehouse.read_partition(root, "opportunity_history", "2024-01-02")
    # o2 was sent twice in one file: the older version is a duplicate, not history.
    assert history.groupby("opportunity_id").size().to_dict() == {"o1": 2, "o2": 1}
    con = duckdb.connect()
    for table in (
        "opportunities",
        "orders",
        "quarantine",
        "ingest_audit",
        "opportunities_state",
        "opportunity_history",
    ):
        n = con.execute(
            f"select count(*) from read_parquet('{root}/{table}/*/*.parquet', hive_partitioning=true)"
        ).fetchone()[0]
        assert n > 0, table


def _run_state(defs):
    state_assets = [
        a for a in defs.assets if getattr(a, "node_def", None) and a.node_def.name == "state"
    ]
    return dg.materialize(
        state_assets, partition_key="2024-01-02", resources=defs.resources, raise_on_error=False
    )
