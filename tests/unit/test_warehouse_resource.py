"""One resource owns the warehouse root: the IO manager and the assets read and write through the
same instance, so overriding the root can never split reads from writes; a table that does not
exist is an error naming its path, unless the caller says it may be absent."""

import dagster as dg
import pandas as pd
import pytest

from sales_pipeline.core.io_manager import ParquetIOManager
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from sales_pipeline.definitions import build_defs


def _fx(day: str, rate: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rate_date": [pd.Timestamp(day)],
            "currency": ["EUR"],
            "rate": [rate],
            "updated_at": pd.Timestamp(day, tz="UTC"),
            "is_deleted": False,
            "_source_file": [f"{day}/fx_rates.csv"],
            "_source_row": [1],
        }
    )


def test_reads_and_writes_go_through_one_root(tmp_path):
    store = Warehouse.at(tmp_path / "w")
    path = store.write_partition("fx_rates", "2024-01-02", _fx("2024-01-02", 1.1))
    assert path == tmp_path / "w" / "fx_rates" / "date=2024-01-02" / "part-0.parquet"
    assert store.has_partition("fx_rates", "2024-01-02")
    assert store.list_partitions("fx_rates") == ["2024-01-02"]
    assert store.read_partition("fx_rates", "2024-01-02")["rate"].tolist() == [1.1]
    assert store.read_window("fx_rates", end="2024-01-02")["rate"].tolist() == [1.1]


def test_a_missing_table_fails_loudly_naming_the_path(tmp_path):
    store = Warehouse.at(tmp_path / "typo")
    with pytest.raises(FileNotFoundError, match=r"orders: .*typo/orders"):
        store.read_window("orders", end="2024-01-02")
    empty = store.read_window("orders", end="2024-01-02", day_column="_day", missing_ok=True)
    assert empty.empty and "_day" in empty.columns and "order_id" in empty.columns
    # An existing table with no partition in the window is legitimately empty.
    store.write_partition("fx_rates", "2024-01-05", _fx("2024-01-05", 1.2))
    assert store.read_window("fx_rates", end="2024-01-02").empty


def test_definitions_share_one_warehouse_even_when_settings_are_overridden(tmp_path):
    defs = build_defs(settings=PipelineSettings(warehouse=str(tmp_path / "a")))
    io_manager, store = defs.resources["io_manager"], defs.resources["warehouse"]
    assert io_manager.warehouse is store and store.root == tmp_path / "a"
    moved = build_defs(
        resource_overrides={"settings": PipelineSettings(warehouse=str(tmp_path / "b"))}
    )
    assert moved.resources["io_manager"].warehouse is moved.resources["warehouse"]
    assert moved.resources["warehouse"].root == tmp_path / "b"


def test_io_manager_writes_where_the_assets_read(tmp_path):
    """An asset reading a window and the IO manager writing its output use the same root."""
    settings = PipelineSettings(warehouse=str(tmp_path / "w"))
    store = Warehouse(settings=settings)
    store.write_partition("fx_rates", "2024-01-01", _fx("2024-01-01", 1.0))
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01")

    @dg.asset(name="fx_rates", partitions_def=partitions)
    def fx_rates(context: dg.AssetExecutionContext, warehouse: Warehouse) -> pd.DataFrame:
        earlier = warehouse.read_window("fx_rates", end="2024-01-01")
        return _fx(context.partition_key, float(earlier["rate"].iloc[-1]) + 1)

    result = dg.materialize(
        [fx_rates],
        partition_key="2024-01-02",
        resources={
            "settings": settings,
            "warehouse": store,
            "io_manager": ParquetIOManager(warehouse=store),
        },
    )
    assert result.success
    assert store.read_window("fx_rates")["rate"].tolist() == [1.0, 2.0]


def test_run_config_moves_reads_and_writes_together(tmp_path):
    """Launchpad or run config changing the warehouse setting changes every reader and writer."""
    defs = build_defs(settings=PipelineSettings(warehouse=str(tmp_path / "a")))
    seen = {}

    @dg.asset(name="fx_rates", partitions_def=dg.DailyPartitionsDefinition("2024-01-01"))
    def fx_rates(context: dg.AssetExecutionContext, warehouse: Warehouse) -> pd.DataFrame:
        seen["root"] = warehouse.root
        return _fx(context.partition_key, 1.5)

    result = dg.materialize(
        [fx_rates],
        partition_key="2024-01-02",
        resources=defs.resources,
        run_config={"resources": {"settings": {"config": {"warehouse": str(tmp_path / "b")}}}},
    )
    assert result.success and seen["root"] == tmp_path / "b"
    assert (tmp_path / "b" / "fx_rates" / "date=2024-01-02" / "part-0.parquet").is_file()
    assert not (tmp_path / "a").exists()
