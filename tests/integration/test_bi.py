"""`sales-pipeline sql`: DuckDB views a BI tool queries (tables, *_current, *_latest)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from assets.state_logic import LANDING_DAY, apply_upsert
from sales_pipeline import bi
from sales_pipeline.cli import main
from sales_pipeline.core import warehouse
from tests.integration.landing_fixture import write_landing


def _ingested(tmp_path):
    landing, wh = write_landing(tmp_path / "landing"), tmp_path / "warehouse"
    result = CliRunner().invoke(
        main,
        ["run", "--landing", str(landing), "--warehouse", str(wh)]
        + ["--from", "2024-01-01", "--to", "2024-01-02", "--analytics", "none"],
        env={"SALES_PIPELINE_MAX_QUARANTINE": "0.5"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    # Two as-of partitions of an analytics table: *_latest must pick the later one only.
    for day, revenue in (("2024-01-01", 10.0), ("2024-01-02", 25.0)):
        folder = wh / "kpi_summary" / f"date={day}"
        folder.mkdir(parents=True)
        frame = {"period_grain": ["month"], "dimension": ["overall"], "revenue": [revenue]}
        pq.write_table(pa.table(frame), folder / "part-0.parquet")
    return wh


def test_current_views_apply_the_upsert_rule(tmp_path):
    wh = _ingested(tmp_path)
    con = bi.connect(wh)
    for entity in ("opportunities", "orders", "accounts"):
        records = pd.concat(
            [
                warehouse.read_partition(wh, entity, day).assign(**{LANDING_DAY: pd.Timestamp(day)})
                for day in warehouse.list_partitions(wh, entity)
            ],
            ignore_index=True,
        )
        key = list(bi.TABLES[entity].primary_key)
        expected = apply_upsert(records, entity)[[*key, "updated_at"]].sort_values(key)
        got = con.sql(f"select {', '.join(key)}, updated_at from {entity}_current order by 1").df()
        assert got[key].astype(str).values.tolist() == expected[key].astype(str).values.tolist()
    # o1 moved to proposal on day 2: the current view shows the later version only.
    stage = con.sql(
        "select stage from opportunities_current where opportunity_id = 'o1'"
    ).fetchall()
    assert stage == [("proposal",)]
    assert (
        con.execute("select count(*) from opportunities where opportunity_id = 'o1'").fetchone()[0]
        == 2
    )


def test_bi_style_queries_through_a_written_database(tmp_path):
    wh = _ingested(tmp_path)
    target = tmp_path / "sales.duckdb"
    result = CliRunner().invoke(
        main, ["sql", "--warehouse", str(wh), "--write", str(target)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(target), read_only=True)  # what Power BI / Tableau via ODBC open
    views = set(bi.view_names(con))
    assert {"orders", "orders_current", "kpi_summary", "kpi_summary_latest"} <= views
    assert "ingest_audit_latest" not in views  # landing-day tables have no as-of partitions
    latest = con.sql(
        "select revenue from kpi_summary_latest where period_grain = 'month' and dimension = 'overall'"
    ).fetchall()
    assert latest == [(25.0,)]
    # A dashboard tile: completed revenue per account from the current state.
    revenue = con.sql(
        """
        select a.account_name, round(sum(o.amount), 2) as revenue
        from orders_current o join accounts_current a using (account_id)
        where o.status = 'completed' group by 1 order by 1
        """
    ).fetchall()
    assert revenue and all(r[1] > 0 for r in revenue)
    files = con.sql(
        "select date, count(*) files, sum(rows_quarantined) q from ingest_audit group by 1 order by 1"
    ).fetchall()
    assert [str(r[0]) for r in files] == ["2024-01-01", "2024-01-02"]


def test_sql_one_statement_and_missing_warehouse(tmp_path):
    wh = _ingested(tmp_path)
    ok = CliRunner().invoke(
        main, ["sql", "--warehouse", str(wh), "-c", "select count(*) as n from reps_current"]
    )
    assert ok.exit_code == 0 and "2" in ok.output, ok.output
    missing = CliRunner().invoke(main, ["sql", "--warehouse", str(tmp_path / "nope")])
    assert missing.exit_code == 2
