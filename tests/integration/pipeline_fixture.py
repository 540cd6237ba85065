"""Generated landing zone -> warehouse -> Snapshot, through the same functions the assets call.

Used by tests that need realistic state (planted-truth model tests, KPI cross-checks) without
paying Dagster's per-run cost for every landing day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from assets.ingest.assets import load_prior_state
from assets.ingest.day import ingest_day
from assets.state import HISTORY, build_state_tables, orders_ever_landed
from assets.state_logic import Snapshot, resolve_revenue_source
from crm_generator import generate
from sales_pipeline.core import warehouse
from sales_pipeline.core.config import Settings, load_settings
from schemas import ENTITIES


@dataclass
class GeneratedWarehouse:
    settings: Settings
    start: date
    days: int
    truth: pd.DataFrame

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def snapshot(self, day: date | None = None) -> Snapshot:
        day = day or self.last_day
        tables = build_state_tables(self.settings.warehouse, day)
        source = resolve_revenue_source(
            self.settings.revenue_source, orders_ever_landed(self.settings.warehouse, day)
        )
        return Snapshot(
            as_of=day,
            revenue_source=source,
            opportunity_history=tables[HISTORY],
            **{entity: tables[entity] for entity in ENTITIES},
        )


def ingest_days(settings: Settings, start: date, days: int) -> set[str]:
    """Ingest each landing day in order (blocked entities withheld); returns the blocked days."""
    blocked: set[str] = set()
    root = settings.warehouse
    for offset in range(days):
        day = start + timedelta(days=offset)
        result = ingest_day(day, settings, load_prior_state(settings, day))
        for entity, frame in result.clean.items():
            if entity not in result.blocked:
                warehouse.write_partition(root, entity, day, frame)
        warehouse.write_partition(root, "quarantine", day, result.quarantine)
        warehouse.write_partition(root, "ingest_audit", day, result.audit)
        if result.blocked:
            blocked.add(day.isoformat())
    return blocked


def build_generated_warehouse(
    base: Path,
    *,
    days: int,
    accounts: int = 300,
    fmt: str = "canonical",
    seed: int = 0,
    start: date = date(2024, 1, 1),
) -> GeneratedWarehouse:
    landing, root = base / "landing", base / "warehouse"
    generate(landing, days=days, accounts=accounts, fmt=fmt, seed=seed, start=start)
    settings = load_settings(
        {"landing": str(landing), "warehouse": str(root)}, environ={"SALES_PIPELINE_PII_KEY": "k"}
    )
    ingest_days(settings, start, days)
    truth = pd.read_csv(landing / "_generator" / "truth_accounts.csv", dtype={"account_id": "str"})
    return GeneratedWarehouse(settings=settings, start=start, days=days, truth=truth)
