"""What the UI shows: column descriptions, check results per partition, numbers as numbers."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.analytics_common import model_metadata
from sales_pipeline.core.checks import pandera_check_result, schema_spec
from sales_pipeline.core.metadata import column_schema, table_metadata
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from schemas import TABLES
from schemas.kpis import KPI_TABLES

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@pytest.mark.parametrize("table", [t.name for t in KPI_TABLES])
def test_every_kpi_column_has_a_description_in_the_column_schema(table):
    schema = table_metadata(TABLES[table].empty_frame(), table)["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert [c.name for c in schema.columns] == [c.name for c in TABLES[table].columns]
    assert all(c.description for c in schema.columns), [
        c.name for c in schema.columns if not c.description
    ]


def test_every_declared_description_reaches_the_column_schema():
    for name, table in TABLES.items():
        described = {c.name: c.description for c in table.columns if c.description}
        shown = {c.name: c.description for c in column_schema(name).columns if c.description}
        assert shown == described, name


def test_analytics_and_state_checks_are_partitioned_like_their_assets():
    defs = build_defs(settings=PipelineSettings(start_date="2024-01-01"))
    checked = 0
    for assets_def in defs.assets:
        if assets_def.node_def.name == "ingest":
            continue  # a single-run backfill over a range: one result per run, not per day
        for spec in assets_def.check_specs:
            assert spec.partitions_def == assets_def.partitions_def, spec.key
            checked += 1
    assert checked >= 20


def test_a_check_result_is_recorded_against_the_runs_partition():
    @dg.asset(
        name="kpi_alerts",
        partitions_def=PARTITIONS,
        check_specs=[schema_spec("kpi_alerts", partitions_def=PARTITIONS)],
    )
    def alerts():
        frame = TABLES["kpi_alerts"].empty_frame()
        yield dg.Output(frame, metadata=table_metadata(frame, "kpi_alerts"))
        yield pandera_check_result("kpi_alerts", frame)

    result = dg.materialize(
        [alerts], partition_key="2024-01-03", resources={"io_manager": dg.mem_io_manager}
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.partition == "2024-01-03"


def test_model_and_kpi_figures_are_typed_numbers_the_ui_can_plot():
    meta = model_metadata(
        {"auc": 0.81, "n_train": 120, "selected": True, "model": "gbm", "attainment_change": None}
    )
    assert isinstance(meta["attainment_change"], dg.NullMetadataValue)  # a gap, not "None"
    assert isinstance(meta["auc"], dg.FloatMetadataValue) and meta["auc"].value == 0.81
    assert isinstance(meta["n_train"], dg.IntMetadataValue) and meta["n_train"].value == 120
    assert isinstance(meta["selected"], dg.TextMetadataValue)  # a flag is not a series
    assert isinstance(meta["model"], dg.TextMetadataValue)
    rows = table_metadata(TABLES["kpi_summary"].empty_frame(), "kpi_summary")
    assert isinstance(rows["dagster/row_count"], dg.IntMetadataValue)
