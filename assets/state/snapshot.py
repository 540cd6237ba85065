"""Snapshot assembly: the state tables of day D as Dagster inputs, and the `Snapshot` that pure
analytics functions take (with the revenue source resolved)."""

from datetime import date

import dagster as dg
import pandas as pd

from assets.state.store import HISTORY, STATE_ASSETS
from assets.state_logic import Snapshot, resolve_revenue_source
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import Warehouse
from schemas import ENTITIES, state_table_name


def snapshot_ins() -> dict[str, dg.AssetIn]:
    """Inputs that give an analytics asset the whole state as of its partition day."""
    return {name: dg.AssetIn(key=name) for name in STATE_ASSETS}


def orders_ever_landed(warehouse: Warehouse, day: date) -> bool:
    audit = warehouse.read_window("ingest_audit", end=day, columns=["entity", "status"])
    return bool(((audit["entity"] == "orders") & (audit["status"] == "ok")).any())


def to_snapshot(
    day: date, inputs: dict[str, pd.DataFrame], config: Settings, warehouse: Warehouse
) -> Snapshot:
    """Assemble the Snapshot pure analytics functions take, resolving the revenue source."""
    source = resolve_revenue_source(config.revenue_source, orders_ever_landed(warehouse, day))
    return Snapshot(
        as_of=day,
        revenue_source=source,
        opportunity_history=inputs[HISTORY],
        **{entity: inputs[state_table_name(entity)] for entity in ENTITIES},
    )
