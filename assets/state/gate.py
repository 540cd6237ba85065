"""The per-day gate of the state layer: a day with a blocked file (or never ingested) gets no
state, hence no analytics (contract section 2, 'Blocked')."""

from datetime import date

import dagster as dg

from sales_pipeline.core.resources import Warehouse


class DayBlocked(dg.Failure):
    """The day has a blocked file (or was never ingested): no state and no analytics for it."""


def day_gate(warehouse: Warehouse, day: date) -> None:
    """Raise unless day D was ingested and none of its files is blocked."""
    if not warehouse.has_partition("ingest_audit", day):
        raise DayBlocked(
            description=f"{day}: not ingested yet (no ingest_audit partition); run the ingest for {day} first"
        )
    audit = warehouse.read_partition("ingest_audit", day)
    blocked = audit[audit["status"] == "blocked"]
    if len(blocked):
        reasons = "; ".join(blocked["message"].fillna(blocked["source_file"]).tolist())
        raise DayBlocked(description=f"{day} is blocked, no analytics for it: {reasons}")
