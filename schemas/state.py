"""State tables: each entity as of day D (the upsert rule applied), and `opportunity_history`."""

from __future__ import annotations

from dataclasses import replace

from schemas.ingest import ENTITY_TABLES
from schemas.spec import Col, Table


def state_table_name(entity: str) -> str:
    return f"{entity}_state"


STATE_TABLES: tuple[Table, ...] = tuple(
    replace(
        t,
        name=state_table_name(t.name),
        description=f"{t.name} as of the partition day: latest version per key, deletions removed.",
    )
    for t in ENTITY_TABLES
)

OPPORTUNITY_HISTORY = Table(
    "opportunity_history",
    "One row per opportunity version up to the partition day; valid on [valid_from, valid_to).",
    (
        Col("opportunity_id", "string", False),
        Col("valid_from", "timestamp", False, "= updated_at of the version"),
        Col("valid_to", "timestamp", description="next version's valid_from; null = current"),
        Col("stage", "string", False),
        Col("amount", "float64"),
        Col("probability", "float64"),
        Col("close_date", "date"),
        Col("owner_id", "string"),
        Col("is_deleted", "bool", False),
        Col("account_id", "string"),
        Col("product", "string"),
        Col("created_at", "timestamp"),
    ),
    primary_key=("opportunity_id", "valid_from"),
)
