"""The whole pipeline with the warehouse on S3 (moto's server on loopback, see tests/s3_server.py).

A small generated zone (local landing, as the CRM drops it) runs through the CLI's runner with
`warehouse = s3://<bucket>/warehouse`: every table is written as Hive-partitioned objects, reads
come back through the same resource, the incremental state of the second analytics day advances
from the first (its manifest's signatures, ETag/size/last-modified, still match), the resume
ledger skips a rerun, and pyarrow's own S3 client (no fsspec) and the warehouse agree.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pyarrow.dataset as ds
import pytest

from assets.state.store import STORE, find_base, input_signatures
from crm_generator import generate
from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from sales_pipeline.resume import RUNS, Ledger
from sales_pipeline.runner import run_days
from schemas import TABLES
from tests.s3_server import arrow_s3

START = date(2024, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(10)]
ANALYTICS = {DAYS[4], DAYS[-1]}


@pytest.mark.slow
def test_the_pipeline_runs_on_s3(tmp_path, s3_bucket, s3_endpoint):
    landing = tmp_path / "landing"
    generate(landing, days=len(DAYS), accounts=40, seed=3, start=START, history_days=120)
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text('pii_key = "k"\n', encoding="utf-8")
    url = f"s3://{s3_bucket}/warehouse"
    settings = PipelineSettings(
        landing=str(landing), warehouse=url, settings_file=str(settings_file)
    )
    config = settings.resolve()
    root = config.warehouse
    assert warehouse.is_remote(root) and str(root) == url
    defs = build_defs(settings=settings)
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = run_days(defs, DAYS, ANALYTICS, instance, ledger=Ledger(config))
        assert all(o.success for o in outcomes), [o.errors for o in outcomes if not o.success]
        base = instance.get_latest_materialization_event(
            dg.AssetKey("opportunity_history")
        ).asset_materialization.metadata["state_base"]
        assert base.value == f"advanced from {DAYS[4]}"
        rerun = run_days(defs, DAYS, ANALYTICS, instance, ledger=Ledger(config))
        assert all(o.skipped for o in rerun)

    # Every table the pipeline declares has its partitions as objects, none missing.
    analytics = sorted(d.isoformat() for d in ANALYTICS)
    for table in TABLES:
        days = warehouse.list_partitions(root, table)
        assert days, f"{table}: nothing written to {url}"
        assert set(analytics) <= set(days) or len(days) == len(DAYS), table
    assert warehouse.list_partitions(root / STORE, "manifest", file="manifest.json") == analytics
    assert warehouse.list_partitions(root / RUNS, "ingest", file="ledger.json") == [
        d.isoformat() for d in DAYS
    ]
    # The last state still matches the warehouse: the next day would advance from it too.
    last = DAYS[-1]
    assert find_base(root, last + timedelta(days=1), input_signatures(root, last))[0] == last

    # A reader with its own S3 client sees the same rows as the warehouse's own reads.
    s3 = arrow_s3(s3_endpoint)
    for table in ("orders", "opportunities_state", "kpi_summary", "ingest_audit"):
        theirs = ds.dataset(
            f"{s3_bucket}/warehouse/{table}", filesystem=s3, partitioning="hive"
        ).to_table()
        ours = warehouse.read_window(root, table)
        assert theirs.num_rows == len(ours) > 0, table
    charts = warehouse.as_root(root) / "_charts"
    assert any(p.name.endswith(".png") for p in charts.rglob("*.png"))
