"""The warehouse layout: atomic partition writes, one schema everywhere, windowed reads."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sales_pipeline.core import warehouse
from schemas import TABLES, conform


def _fx(rows):
    return pd.DataFrame(
        {
            "rate_date": pd.to_datetime([r[0] for r in rows]),
            "currency": [r[1] for r in rows],
            "rate": [r[2] for r in rows],
            "updated_at": pd.Timestamp("2024-01-01", tz="UTC"),
            "is_deleted": False,
            "_source_file": "x",
            "_source_row": range(1, len(rows) + 1),
        }
    )


def test_partition_path_is_hive_layout(warehouse_root):
    path = warehouse.write_partition(
        warehouse_root, "fx_rates", "2024-01-02", _fx([("2024-01-02", "EUR", 1.1)])
    )
    assert path == warehouse_root / "fx_rates" / "date=2024-01-02" / "part-0.parquet"
    assert pq.read_schema(path).equals(TABLES["fx_rates"].arrow_schema(), check_metadata=False)


def test_round_trip_keeps_dtypes(warehouse_root):
    frame = _fx([("2024-01-02", "EUR", 1.1), ("2024-01-02", "GBP", 1.27)])
    warehouse.write_partition(warehouse_root, "fx_rates", "2024-01-02", frame)
    back = warehouse.read_partition(warehouse_root, "fx_rates", "2024-01-02")
    pd.testing.assert_frame_equal(back, conform(frame, TABLES["fx_rates"]))
    assert list(back.dtypes.astype(str)) == [c.pandas_dtype for c in TABLES["fx_rates"].columns]
    assert back["rate"].tolist() == [1.1, 1.27]


def test_empty_partition_has_the_same_schema(warehouse_root):
    path = warehouse.write_partition(
        warehouse_root, "orders", "2024-01-02", TABLES["orders"].empty_frame()
    )
    assert pq.read_schema(path).equals(TABLES["orders"].arrow_schema(), check_metadata=False)
    assert pq.read_table(path).num_rows == 0


def test_failed_write_leaves_previous_partition(warehouse_root, monkeypatch):
    warehouse.write_partition(
        warehouse_root, "fx_rates", "2024-01-02", _fx([("2024-01-02", "EUR", 1.1)])
    )

    def explode(*args, **kwargs):
        raise OSError("disk full halfway")

    monkeypatch.setattr(warehouse.pq, "write_table", explode)
    with pytest.raises(OSError, match="disk full"):
        warehouse.write_partition(
            warehouse_root, "fx_rates", "2024-01-02", _fx([("2024-01-02", "EUR", 9.9)])
        )
    monkeypatch.undo()
    back = warehouse.read_partition(warehouse_root, "fx_rates", "2024-01-02")
    assert back["rate"].tolist() == [1.1]
    leftovers = [p.name for p in (warehouse_root / "fx_rates" / "date=2024-01-02").iterdir()]
    assert leftovers == ["part-0.parquet"]


def test_rewrite_replaces_partition(warehouse_root):
    warehouse.write_partition(
        warehouse_root, "fx_rates", "2024-01-02", _fx([("2024-01-02", "EUR", 1.1)])
    )
    warehouse.write_partition(
        warehouse_root, "fx_rates", "2024-01-02", _fx([("2024-01-02", "EUR", 1.2)])
    )
    assert warehouse.read_partition(warehouse_root, "fx_rates", "2024-01-02")["rate"].tolist() == [
        1.2
    ]


def test_missing_partition_names_table_and_day(warehouse_root):
    with pytest.raises(FileNotFoundError, match="fx_rates: partition 2024-05-05"):
        warehouse.read_partition(warehouse_root, "fx_rates", "2024-05-05")


def test_read_window_filters_partitions_and_adds_day(warehouse_root):
    for day, rate in (("2024-01-01", 1.0), ("2024-01-02", 2.0), ("2024-01-03", 3.0)):
        warehouse.write_partition(warehouse_root, "fx_rates", day, _fx([(day, "EUR", rate)]))
    window = warehouse.read_window(warehouse_root, "fx_rates", end="2024-01-02", day_column="_day")
    assert window["rate"].tolist() == [1.0, 2.0]
    assert window["_day"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-02"]
    assert warehouse.read_window(warehouse_root, "fx_rates", start="2024-01-03")[
        "rate"
    ].tolist() == [3.0]
    assert warehouse.list_partitions(warehouse_root, "fx_rates") == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]


def test_read_window_of_missing_table_fails_unless_absence_is_allowed(warehouse_root):
    with pytest.raises(FileNotFoundError, match="orders"):
        warehouse.read_window(warehouse_root, "orders", end="2024-01-02")
    window = warehouse.read_window(
        warehouse_root, "orders", end="2024-01-02", day_column="_day", missing_ok=True
    )
    assert window.empty and "order_id" in window.columns and "_day" in window.columns
