"""Shared plumbing for analytics assets: the as-of snapshot, output metadata and charts."""

from collections.abc import Callable
from datetime import date

import dagster as dg

from assets.model_logic import ModelOutput
from assets.state import snapshot_ins, to_snapshot
from assets.state_logic import Snapshot
from sales_pipeline.core.checks import schema_spec
from sales_pipeline.core.config import Settings
from sales_pipeline.core.metadata import png_markdown, table_metadata
from sales_pipeline.core.partitions import DAILY_FRESHNESS
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from schemas import TABLES

OWNERS = ["team:analytics"]

__all__ = [
    "OWNERS",
    "PipelineSettings",
    "Warehouse",
    "analytics_out",
    "emit_tables",
    "model_metadata",
    "snapshot_ins",
    "to_snapshot",
    "write_charts",
]


def analytics_out(name: str, group: str) -> dg.AssetOut:
    return dg.AssetOut(
        group_name=group,
        description=TABLES[name].description + " Partition = as-of day D, complete on its own.",
        kinds={"pandas", "parquet", "scikitlearn"}
        if group in ("segments", "churn")
        else {"pandas", "parquet"},
        owners=OWNERS,
        # KPI tables are what dashboards read every morning; model outputs may lag a day.
        freshness_policy=DAILY_FRESHNESS if group == "kpis" else None,
    )


def write_charts(
    warehouse: Warehouse, table: str, day: date, charts: dict[str, bytes]
) -> dict[str, dg.MetadataValue]:
    """Write each PNG under `_charts/` and return it as Markdown metadata the UI renders."""
    meta: dict[str, dg.MetadataValue] = {}
    for name, png in sorted(charts.items()):
        path = warehouse.write_chart(table, day, name, png)
        meta[f"chart_{name}"] = png_markdown(png, name)
        meta[f"chart_{name}_path"] = dg.MetadataValue.path(str(path))
    return meta


def emit_tables(tables: dict, extra: dict | None = None):
    """Yield one Output per table with standard metadata (+ extra on each) and its schema check."""
    from sales_pipeline.core.checks import pandera_check_result

    for name, frame in tables.items():
        yield dg.Output(
            frame,
            output_name=name,
            metadata={**table_metadata(frame, name), **(extra or {}).get(name, {})},
        )
        yield pandera_check_result(name, frame)


def model_metadata(values: dict) -> dict[str, dg.MetadataValue]:
    """Model metadata as typed values: numbers stay numbers (the UI plots them per partition),
    a missing figure (a ratio without denominator) is null, not the text "None" that would
    break its series, Markdown tables render as Markdown."""
    out: dict[str, dg.MetadataValue] = {}
    for key, value in values.items():
        if value is None:
            out[key] = dg.MetadataValue.null()
        elif isinstance(value, bool):
            out[key] = dg.MetadataValue.text(str(value))
        elif isinstance(value, int):
            out[key] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            out[key] = dg.MetadataValue.float(value)
        elif isinstance(value, str) and value.lstrip().startswith("|"):
            out[key] = dg.MetadataValue.md(value)
        elif isinstance(value, str):
            out[key] = dg.MetadataValue.text(value)
        else:
            out[key] = dg.MetadataValue.json(value)
    return out


def model_asset(
    partitions_def: dg.PartitionsDefinition,
    *,
    name: str,
    group: str,
    tables: tuple[str, ...],
    description: str,
    run: Callable[[Snapshot, Settings, Warehouse], ModelOutput],
) -> dg.AssetsDefinition:
    """A model as a multi-asset: the state as of D in, `run` builds its tables (the first one
    carries the model's metadata and charts), each table checked against its schema."""

    @dg.multi_asset(
        name=name,
        outs={table: analytics_out(table, group) for table in tables},
        ins=snapshot_ins(),
        partitions_def=partitions_def,
        check_specs=[schema_spec(table, partitions_def=partitions_def) for table in tables],
        description=description,
    )
    def _model(
        context: dg.AssetExecutionContext,
        settings: PipelineSettings,
        warehouse: Warehouse,
        **inputs,
    ):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        result = run(to_snapshot(day, inputs, config, warehouse), config, warehouse)
        meta = {
            **model_metadata(result.metadata),
            **write_charts(warehouse, tables[0], day, result.charts),
        }
        yield from emit_tables(result.tables, {tables[0]: meta})

    return _model
