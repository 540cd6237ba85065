"""The Parquet IO manager through Dagster's own contexts (`build_output_context` /
`build_input_context`) on a tmp_path warehouse: the exact on-disk layout, round trips of one
partition and of a single-run backfill's {partition key: frame}, overwrite, and the failure modes.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from sales_pipeline.core.io_manager import ParquetIOManager
from sales_pipeline.core.resources import Warehouse
from schemas import TABLES, conform

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")
FX = dg.AssetKey("fx_rates")


def _fx(day: str, rates: list[float]) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "rate_date": pd.to_datetime([day] * len(rates)),
                "currency": ["EUR", "GBP", "CNY"][: len(rates)],
                "rate": rates,
                "updated_at": pd.Timestamp(f"{day}T08:00:00Z"),
                "is_deleted": False,
                "_source_file": f"{day}/fx_rates.csv",
                "_source_row": range(1, len(rates) + 1),
            }
        ),
        TABLES["fx_rates"],
    )


def _write(manager: ParquetIOManager, obj: object, **partitions) -> dict:
    context = dg.build_output_context(asset_key=FX, asset_partitions_def=DAILY, **partitions)
    manager.handle_output(context, obj)
    return context.get_logged_metadata()


def _read(manager: ParquetIOManager, **partitions) -> pd.DataFrame:
    context = dg.build_input_context(asset_key=FX, asset_partitions_def=DAILY, **partitions)
    return manager.load_input(context)


@pytest.fixture
def manager(tmp_path: Path) -> ParquetIOManager:
    return ParquetIOManager(warehouse=Warehouse.at(tmp_path / "wh"))


def test_one_partition_round_trips_to_the_exact_path(manager: ParquetIOManager, tmp_path: Path):
    frame = _fx("2024-01-02", [1.1, 1.27])
    metadata = _write(manager, frame, partition_key="2024-01-02")
    path = tmp_path / "wh" / "fx_rates" / "date=2024-01-02" / "part-0.parquet"
    assert path.is_file()
    assert sorted(p.name for p in path.parent.iterdir()) == ["part-0.parquet"]  # no temp file left
    assert metadata["path"] == dg.MetadataValue.path(str(path))
    assert metadata["dagster/row_count"].value == 2
    back = _read(manager, partition_key="2024-01-02")
    pd.testing.assert_frame_equal(back, frame)
    assert back.dtypes.astype(str).tolist() == [c.pandas_dtype for c in TABLES["fx_rates"].columns]


def test_a_backfill_dict_writes_every_partition_and_reads_back_as_a_window(
    manager: ParquetIOManager, tmp_path: Path
):
    frames = {"2024-01-02": _fx("2024-01-02", [1.1]), "2024-01-03": _fx("2024-01-03", [1.2, 1.3])}
    keys = dg.PartitionKeyRange("2024-01-02", "2024-01-03")
    metadata = _write(manager, frames, asset_partition_key_range=keys)
    assert metadata["dagster/row_count"].value == 3 and metadata["partitions"].value == 2
    for day in frames:
        assert (tmp_path / "wh" / "fx_rates" / f"date={day}" / "part-0.parquet").is_file()
        pd.testing.assert_frame_equal(_read(manager, partition_key=day), frames[day])
    window = _read(manager, asset_partition_key_range=keys)
    assert sorted(window["rate"]) == [1.1, 1.2, 1.3]
    assert window.dtypes.astype(str).tolist()[: len(TABLES["fx_rates"].columns)] == [
        c.pandas_dtype for c in TABLES["fx_rates"].columns
    ]


def test_rewriting_a_partition_replaces_it(manager: ParquetIOManager):
    _write(manager, _fx("2024-01-02", [1.1, 1.27, 7.8]), partition_key="2024-01-02")
    _write(manager, _fx("2024-01-02", [1.05]), partition_key="2024-01-02")
    assert _read(manager, partition_key="2024-01-02")["rate"].tolist() == [1.05]


@pytest.mark.parametrize("obj", [None, [1, 2], {"rate": [1.0]}, pd.Series([1.0])])
def test_anything_but_a_dataframe_is_a_type_error(manager: ParquetIOManager, tmp_path: Path, obj):
    with pytest.raises(TypeError, match="fx_rates"):
        _write(manager, obj, partition_key="2024-01-02")
    assert not (tmp_path / "wh").exists()


def test_a_backfill_dict_must_cover_exactly_its_partitions(manager: ParquetIOManager):
    keys = dg.PartitionKeyRange("2024-01-02", "2024-01-03")
    with pytest.raises(TypeError, match="2 partitions"):
        _write(manager, {"2024-01-02": _fx("2024-01-02", [1.1])}, asset_partition_key_range=keys)
    with pytest.raises(TypeError, match="2024-01-03"):
        _write(
            manager,
            {"2024-01-02": _fx("2024-01-02", [1.1]), "2024-01-03": "not a frame"},
            asset_partition_key_range=keys,
        )
    with pytest.raises(TypeError):
        _write(manager, _fx("2024-01-02", [1.1]), asset_partition_key_range=keys)


def test_reading_a_partition_never_written_names_it(manager: ParquetIOManager):
    _write(manager, _fx("2024-01-02", [1.1]), partition_key="2024-01-02")
    with pytest.raises(FileNotFoundError, match="fx_rates: partition 2024-01-05"):
        _read(manager, partition_key="2024-01-05")


def test_unpartitioned_output_is_refused(manager: ParquetIOManager):
    with pytest.raises(ValueError, match="partitioned by day"):
        manager.handle_output(dg.build_output_context(asset_key=FX), _fx("2024-01-02", [1.1]))
