"""Table declarations (pandera + Arrow), column maps. No Dagster imports here.

`TABLES` maps every warehouse table name (= asset key = folder) to its declaration;
`SCHEMAS` maps the same names to their pandera schemas.
"""

from __future__ import annotations

from schemas.drift import DRIFT_TABLES
from schemas.ingest import ENTITIES, ENTITY_TABLES, INGEST_TABLES
from schemas.kpis import KPI_TABLES
from schemas.models import MODEL_TABLES
from schemas.spec import Col, Table, conform, from_arrow, registry, to_arrow
from schemas.state import OPPORTUNITY_HISTORY, STATE_TABLES, state_table_name

TABLES = registry(
    [*INGEST_TABLES, *DRIFT_TABLES, *STATE_TABLES, OPPORTUNITY_HISTORY, *KPI_TABLES, *MODEL_TABLES]
)
SCHEMAS = {name: table.pandera_schema() for name, table in TABLES.items()}
ROW_SCHEMAS = {name: table.pandera_schema(keys=False) for name, table in TABLES.items()}
"""The same without the primary-key uniqueness: row checks for records before deduplication."""
RECORD_RULES = {
    name: table.pandera_schema(keys=False, dtypes=False) for name, table in TABLES.items()
}
"""The row checks alone, which the cleaning runs on every file to quarantine bad rows. Its frames
are conformed (cast to the declared dtypes) first, and the ingest's `schema_valid` asset check
validates the dtypes of everything a run wrote with `ROW_SCHEMAS`: checking them again per file
cost ~40% of the per-file validation (0.6 ms per column) on a demo's small daily files."""

__all__ = [
    "ENTITIES",
    "ENTITY_TABLES",
    "RECORD_RULES",
    "ROW_SCHEMAS",
    "SCHEMAS",
    "TABLES",
    "Col",
    "Table",
    "conform",
    "from_arrow",
    "state_table_name",
    "to_arrow",
]
