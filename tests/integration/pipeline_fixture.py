"""Generated landing zone -> warehouse -> Snapshot, through the real ingest job and the state
layer's own functions.

Landing days are ingested by the ingest job of `build_defs` as the CLI runs them
(`runner.ingest_span`: one single-run backfill per span of days, a failing day split out and run
on its own so its blocked entity is withheld). The Snapshot for a day is assembled by the same
functions the state asset and the analytics assets call (`build_state_tables`, `to_snapshot`),
so tests get realistic state without one Dagster run per analytics day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.state import HISTORY, build_state_tables, to_snapshot
from assets.state_logic import Snapshot
from crm_generator import generate
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from sales_pipeline.definitions import build_defs
from sales_pipeline.runner import ingest_span
from schemas import ENTITIES, state_table_name


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
        store = Warehouse.at(self.settings.warehouse)
        tables = build_state_tables(self.settings.warehouse, day)
        inputs = {state_table_name(e): tables[e] for e in ENTITIES} | {HISTORY: tables[HISTORY]}
        return to_snapshot(day, inputs, self.settings, store)


def pipeline_settings(landing: Path, warehouse: Path) -> PipelineSettings:
    """Settings for a temp zone; the PII key comes from a settings file, as a secret should."""
    settings_file = warehouse.parent / "settings.toml"
    settings_file.write_text('pii_key = "k"\n', encoding="utf-8")
    return PipelineSettings(
        landing=str(landing), warehouse=str(warehouse), settings_file=str(settings_file)
    )


def ingest_days(settings: PipelineSettings, start: date, days: int) -> set[str]:
    """Run the ingest job over the landing days in order; returns the days whose run failed
    (a blocked file: its entity withheld, the rest of the day written)."""
    defs = build_defs(settings=settings)
    dates = [start + timedelta(days=offset) for offset in range(days)]
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = ingest_span(defs, dates, instance)
    return {o.day.isoformat() for o in outcomes if not o.success}


def build_generated_warehouse(
    base: Path,
    *,
    days: int,
    accounts: int = 300,
    fmt: str = "canonical",
    seed: int = 0,
    start: date = date(2024, 1, 1),
    key_accounts: int = 0,
) -> GeneratedWarehouse:
    landing, root = base / "landing", base / "warehouse"
    generate(
        landing,
        days=days,
        accounts=accounts,
        fmt=fmt,
        seed=seed,
        start=start,
        key_accounts=key_accounts,
    )
    settings = pipeline_settings(landing, root)
    blocked = ingest_days(settings, start, days)
    assert not blocked, f"a zone without file errors blocked on {sorted(blocked)}"
    truth = pd.read_csv(landing / "_generator" / "truth_accounts.csv", dtype={"account_id": "str"})
    return GeneratedWarehouse(settings=settings.resolve(), start=start, days=days, truth=truth)
