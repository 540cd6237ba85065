"""The whole graph through the CLI on a generated zone, then DuckDB over every output table."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from crm_generator import generate
from sales_pipeline.cli import main
from schemas import TABLES

DAYS = 6


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("full")
    generate(base / "landing", days=DAYS, accounts=80, fmt="mixed", seed=3)
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(base / "dagster_home"))
    mp.setenv("SALES_PIPELINE_PII_KEY", "test-key")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--from",
            "2024-01-01",
            "--to",
            f"2024-01-{DAYS:02d}",
            "--landing",
            str(base / "landing"),
            "--warehouse",
            str(base / "warehouse"),
            "--analytics",
            "last",
        ],
        catch_exceptions=False,
    )
    mp.undo()
    return result, base / "warehouse"


def test_run_succeeds(built):
    result, _ = built
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("table", sorted(TABLES))
def test_duckdb_reads_every_table_with_hive_partitioning(built, table):
    _, root = built
    con = duckdb.connect()
    rows = con.execute(
        f"select count(*), count(distinct date) from read_parquet('{root}/{table}/*/*.parquet', hive_partitioning=true)"
    ).fetchall()[0]
    partitions = sorted(p.name for p in (root / table).iterdir())
    assert partitions and rows[1] <= len(partitions)  # empty partitions hold no rows to count
    expected = TABLES[table].arrow_schema()
    for part in partitions:  # one schema in every partition, empty ones included
        assert pq.read_schema(root / table / part / "part-0.parquet").equals(
            expected, check_metadata=False
        )
    if table not in ("quarantine", "schema_drift"):  # no drift planted in this zone
        assert rows[0] > 0, f"{table} is empty"
