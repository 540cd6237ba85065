"""`sales-pipeline explain`: load one as-of day from the warehouse, explain one kpi_summary cell,
and print its rows, its arithmetic and whether it reproduces the stored cell.

Orchestration only: the explanation itself is `assets.kpi_logic.explain` (pure).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from assets.kpi_logic.explain import ROW_COLUMNS, Cell, Explainer, Explanation
from assets.state import HISTORY, to_snapshot
from assets.state_logic import LANDING_DAY
from sales_pipeline.core import warehouse
from sales_pipeline.core.config import Settings
from sales_pipeline.core.resources import Warehouse
from schemas import ENTITIES, state_table_name

SHOWN = ["entity", "record_id", "version", "amount_local", "currency", "fx_rate", "fx_date"]
SHOWN += ["amount", "cents", "_source_file", "_source_row"]


class ExplainError(RuntimeError):
    """The day was not built (no state or kpi_summary partition), or the cell does not exist."""


def load_explainer(config: Settings, day: date) -> Explainer:
    """The state as of `day` (as the KPI asset saw it), segments and opportunity records."""
    root = config.warehouse
    names = [state_table_name(e) for e in ENTITIES] + [HISTORY]
    missing = [n for n in names if not warehouse.has_partition(root, n, day)]
    if missing:
        raise ExplainError(
            f"{day}: no state partitions ({', '.join(missing[:3])}...): build analytics for {day} first"
        )
    inputs = {name: warehouse.read_partition(root, name, day) for name in names}
    segments = (
        warehouse.read_partition(root, "customer_segments", day)
        if warehouse.has_partition(root, "customer_segments", day)
        else None
    )
    records = warehouse.read_window(root, "opportunities", end=day, day_column=LANDING_DAY)
    return Explainer(
        to_snapshot(day, inputs, config, Warehouse.at(root)),
        tz=config.timezone,
        segments=segments,
        currency=config.currency,
        opportunity_records=records,
    )


def stored_value(config: Settings, day: date, cell: Cell):
    """The cell as kpi_summary stored it for `day` (ExplainError when it has no such row)."""
    if not warehouse.has_partition(config.warehouse, "kpi_summary", day):
        raise ExplainError(f"{day}: no kpi_summary partition; build analytics for {day} first")
    summary = warehouse.read_partition(config.warehouse, "kpi_summary", day)
    row = summary[
        (summary["period_grain"] == cell.grain)
        & (summary["period_start"] == pd.Timestamp(cell.period_start))
        & (summary["dimension"] == cell.dimension)
        & (summary["dimension_value"] == cell.dimension_value)
    ]
    if row.empty:
        raise ExplainError(
            f"kpi_summary {day} has no row {cell.grain} {cell.period_start} "
            f"{cell.dimension}={cell.dimension_value}"
        )
    value = row[cell.metric].iloc[0]
    return None if pd.isna(value) else value


def render(console: Console, explanation: Explanation, stored, limit: int) -> bool:
    """Print the explanation; True when it reproduces the stored cell exactly."""
    c = explanation.cell
    console.print(
        f"[bold]{c.metric}[/bold] {c.grain} {c.period_start} {c.dimension}={c.dimension_value}: "
        f"stored {stored!r}, explained {explanation.value!r}"
    )
    rows = explanation.rows
    table = Table(title=f"{len(rows)} rows (showing {min(limit, len(rows))})")
    for column in SHOWN:
        table.add_column(column, overflow="fold")
    for record in rows[SHOWN].head(limit).itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else str(v) for v in record])
    console.print(table)
    console.print(explanation.arithmetic, soft_wrap=True, markup=False)
    same = (stored is None and explanation.value is None) or (
        stored is not None and explanation.value is not None and stored == explanation.value
    )
    console.print(
        "[green]reproduces the stored cell exactly[/green]"
        if same
        else "[red]does NOT reproduce the stored cell[/red]"
    )
    return same


def run_explain(
    config: Settings, day: date, cell: Cell, *, limit: int, csv: Path | None, console: Console
) -> int:
    """Exit code: 0 reproduced, 1 not reproduced or the day/cell is missing."""
    try:
        stored = stored_value(config, day, cell)
        explanation = load_explainer(config, day).explain(cell)
    except ExplainError as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    if csv is not None:
        explanation.rows[ROW_COLUMNS].to_csv(csv, index=False)
    return 0 if render(console, explanation, stored, limit) else 1
