"""DuckDB views over the Parquet warehouse for BI tools (`sales-pipeline sql`).

The database holds views only (no copy of the data), over absolute paths, so a `.duckdb` file
written once keeps showing the warehouse as it is now:
- `<table>`: every partition of a table, with its partition day as column `date`;
- `<entity>_current`: the contract's upsert rule over all landed records (latest `updated_at`
  per key, ties: the later landing day, then the later row; deleted records removed);
- `<table>_latest`: the latest as-of partition of each state and analytics table (each such
  partition is complete on its own, so this is what a dashboard reads).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas import ENTITIES, TABLES

# Tables partitioned by landing day; every other table is partitioned by as-of day.
LANDING_TABLES = (*ENTITIES, "quarantine", "ingest_audit")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("date=*/*.parquet"))


def view_statements(root: Path) -> list[str]:
    """The CREATE VIEW statements for every table present under `root`."""
    root = Path(root).resolve()
    statements = []
    for name, table in TABLES.items():
        if not _has_parquet(root / name):
            continue
        pattern = _literal(str(root / name / "date=*" / "*.parquet"))
        statements.append(
            f"create or replace view {_ident(name)} as select * from read_parquet("
            f"{pattern}, hive_partitioning = true, union_by_name = true)"
        )
        if name in ENTITIES:
            key = ", ".join(_ident(c) for c in table.primary_key)
            statements.append(
                f"create or replace view {_ident(name + '_current')} as "
                f"select * exclude (_version) from (select *, row_number() over ("
                f"partition by {key} order by updated_at desc nulls first, date desc, "
                f"_source_row desc) as _version from {_ident(name)}) "
                "where _version = 1 and not coalesce(is_deleted, false)"
            )
        elif name not in LANDING_TABLES:
            statements.append(
                f"create or replace view {_ident(name + '_latest')} as select * from "
                f"{_ident(name)} where date = (select max(date) from {_ident(name)})"
            )
    return statements


def connect(root: Path, database: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or the file `database`) with the warehouse's views."""
    con = duckdb.connect(str(database))
    for statement in view_statements(root):
        con.execute(statement)
    return con


def view_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select view_name from duckdb_views() where not internal order by view_name"
    ).fetchall()
    return [r[0] for r in rows]
