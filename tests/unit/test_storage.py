"""The storage layer on both backends: a local folder and S3 (moto's server on loopback).

Every test runs on each root: partitions round-trip with their schema, a rewrite changes the
signature the incremental state and the resume ledger rely on, windowed reads filter by day,
small files (manifests, charts, memos) are written whole, and a failed write leaves the previous
partition in place.
"""

from __future__ import annotations

import pathlib

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
from upath import UPath

from sales_pipeline.core import warehouse
from sales_pipeline.core.config import load_settings
from sales_pipeline.core.resources import Warehouse
from sales_pipeline.core.storage import fs
from schemas import TABLES, conform
from tests.s3_server import arrow_s3


def _fx(day: str, rates: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rate_date": pd.Timestamp(day),
            "currency": [f"C{i}" for i in range(len(rates))],
            "rate": rates,
            "updated_at": pd.Timestamp(day, tz="UTC"),
            "is_deleted": False,
            "_source_file": "x",
            "_source_row": range(1, len(rates) + 1),
        }
    )


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    if request.param == "local":
        return tmp_path / "warehouse"
    bucket = request.getfixturevalue("s3_bucket")
    return warehouse.as_root(f"s3://{bucket}/warehouse")


def test_the_setting_picks_the_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("SALES_PIPELINE_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    local = warehouse.as_root(tmp_path / "w")
    assert type(local) is pathlib.PosixPath  # exactly the local behaviour, no fsspec in between
    assert warehouse.as_root(f"file://{tmp_path}/w") == local
    remote = warehouse.as_root("s3://bucket/prefix/")
    assert isinstance(remote, UPath) and warehouse.is_remote(remote)
    assert str(remote / "orders") == "s3://bucket/prefix/orders"
    assert remote.storage_options["endpoint_url"] == "http://127.0.0.1:9"
    settings = load_settings({"warehouse": "s3://bucket/prefix"})
    assert str(settings.warehouse) == "s3://bucket/prefix" and warehouse.is_remote(
        settings.warehouse
    )
    assert settings.dagster_home == settings.landing.resolve().parent / "dagster_home"
    assert isinstance(load_settings({}).warehouse, pathlib.Path)


def test_a_partition_round_trips_with_its_schema(root):
    frame = _fx("2024-01-02", [1.1, 1.27])
    path = warehouse.write_partition(root, "fx_rates", "2024-01-02", frame)
    assert str(path) == f"{root}/fx_rates/date=2024-01-02/part-0.parquet"
    back = warehouse.read_partition(root, "fx_rates", "2024-01-02")
    pd.testing.assert_frame_equal(back, conform(frame, TABLES["fx_rates"]))
    assert warehouse.has_partition(root, "fx_rates", "2024-01-02")
    assert not warehouse.has_partition(root, "fx_rates", "2024-01-03")
    with pytest.raises(FileNotFoundError, match="fx_rates: partition 2024-01-03"):
        warehouse.read_partition(root, "fx_rates", "2024-01-03")


def test_a_rewrite_replaces_the_partition_and_changes_its_signature(root):
    warehouse.write_partition(root, "fx_rates", "2024-01-02", _fx("2024-01-02", [1.0]))
    first = warehouse.partition_signature(root, "fx_rates", "2024-01-02")
    warehouse.write_partition(root, "fx_rates", "2024-01-02", _fx("2024-01-02", [2.0, 3.0]))
    second = warehouse.partition_signature(root, "fx_rates", "2024-01-02")
    assert first and second and first != second
    assert warehouse.read_partition(root, "fx_rates", "2024-01-02")["rate"].tolist() == [2.0, 3.0]
    assert warehouse.partition_signatures(root, "fx_rates", end="2024-01-31") == {
        "2024-01-02": second
    }
    assert warehouse.partition_signature(root, "fx_rates", "2024-01-09") is None


def test_windows_filter_by_day_and_see_a_replaced_partition(root):
    for day, rate in (("2024-01-01", 1.0), ("2024-01-02", 2.0), ("2024-01-03", 3.0)):
        warehouse.write_partition(root, "fx_rates", day, _fx(day, [rate]))
    assert warehouse.list_partitions(root, "fx_rates") == ["2024-01-01", "2024-01-02", "2024-01-03"]
    window = warehouse.read_window(
        root, "fx_rates", start="2024-01-02", end="2024-01-03", day_column="day"
    )
    assert window["rate"].tolist() == [2.0, 3.0]
    assert window["day"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-01-03"]
    # The read cache is keyed by the file's signature: a replaced partition is read again.
    warehouse.write_partition(root, "fx_rates", "2024-01-02", _fx("2024-01-02", [20.0]))
    again = warehouse.read_window(root, "fx_rates", start="2024-01-02", end="2024-01-02")
    assert again["rate"].tolist() == [20.0]
    assert warehouse.read_window(root, "fx_rates", start="2024-02-01").empty


def test_a_table_never_written_is_an_error_unless_allowed(root):
    with pytest.raises(FileNotFoundError, match="fx_rates: no such table"):
        warehouse.read_window(root, "fx_rates")
    empty = warehouse.read_window(root, "fx_rates", missing_ok=True, day_column="day")
    assert empty.empty and "day" in empty
    assert warehouse.list_partitions(root, "fx_rates") == []


def test_a_failed_write_leaves_the_previous_partition(root, monkeypatch):
    warehouse.write_partition(root, "fx_rates", "2024-01-02", _fx("2024-01-02", [1.1]))
    before = warehouse.partition_signature(root, "fx_rates", "2024-01-02")

    def explode(*args, **kwargs):
        raise OSError("disk full halfway")

    monkeypatch.setattr(warehouse.pq, "write_table", explode)
    with pytest.raises(OSError, match="disk full"):
        warehouse.write_partition(root, "fx_rates", "2024-01-02", _fx("2024-01-02", [9.9]))
    monkeypatch.undo()
    assert warehouse.partition_signature(root, "fx_rates", "2024-01-02") == before
    assert warehouse.read_partition(root, "fx_rates", "2024-01-02")["rate"].tolist() == [1.1]
    # Nothing half-written next to it: no temporary file on disk, no stray object on S3.
    folder = warehouse.partition_dir(root, "fx_rates", "2024-01-02")
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]


def test_small_files_charts_and_memos(root):
    target = warehouse.as_root(root) / "_state" / "manifest" / "date=2024-01-02" / "manifest.json"
    warehouse.write_bytes(target, b'{"a": 1}')
    assert warehouse.read_bytes(target) == b'{"a": 1}' and warehouse.signature(target)
    png = warehouse.write_chart(root, "sales_forecast", "2024-01-02", "total", b"\x89PNG")
    assert str(png) == f"{root}/_charts/sales_forecast/date=2024-01-02/total.png"
    assert warehouse.read_bytes(png) == b"\x89PNG"
    memo = warehouse.JsonCache(root, "orders")
    assert memo == {}
    memo["k"] = [1, 2]
    memo.save()
    assert warehouse.JsonCache(root, "orders") == {"k": [1, 2]}
    # `_` folders are not tables.
    assert warehouse.list_partitions(root, "_charts") == []


def test_the_resource_writes_and_reads_files_beside_the_tables(root):
    store = Warehouse.at(root)
    assert str(store.root) == str(root)
    assert store.read_file("_models/churn/date=2024-01-02/model.npz") is None
    path = store.write_file("_models/churn/date=2024-01-02/model.npz", b"npz")
    assert str(path) == f"{root}/_models/churn/date=2024-01-02/model.npz"
    assert store.read_file("_models/churn/date=2024-01-02/model.npz") == b"npz"
    store.write_partition("fx_rates", "2024-01-02", _fx("2024-01-02", [1.5]))
    assert store.read_window("fx_rates")["rate"].tolist() == [1.5]


def test_s3_objects_are_plain_parquet_for_other_readers(s3_bucket, s3_endpoint):
    s3fs = pytest.importorskip("s3fs")
    root = warehouse.as_root(f"s3://{s3_bucket}/wh")
    for day in ("2024-01-01", "2024-01-02"):
        warehouse.write_partition(root, "fx_rates", day, _fx(day, [1.0, 2.0]))
    # pyarrow's own S3 client, no fsspec: what a BI tool or a notebook reads with.
    dataset = ds.dataset(
        f"{s3_bucket}/wh/fx_rates", filesystem=arrow_s3(s3_endpoint), partitioning="hive"
    )
    table = dataset.to_table()
    assert table.num_rows == 4 and sorted(set(table.column("date").to_pylist())) == [
        "2024-01-01",
        "2024-01-02",
    ]
    # DuckDB with the contract's glob, through an fsspec filesystem (no httpfs extension needed).
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem(endpoint_url=s3_endpoint))
    rows = con.execute(
        f"select date, count(*) from read_parquet('s3://{s3_bucket}/wh/fx_rates/*/*.parquet',"
        " hive_partitioning=true) group by 1 order by 1"
    ).fetchall()
    assert [(str(d), n) for d, n in rows] == [("2024-01-01", 2), ("2024-01-02", 2)]
    # One object per partition, no temporary objects: a PUT is the atomic swap.
    assert sorted(fs.remote_files(root / "fx_rates")) == [
        "date=2024-01-01/part-0.parquet",
        "date=2024-01-02/part-0.parquet",
    ]
