"""A day's ingest commits all its tables or none (issue 11): a full disk or a failing swap in
the middle of a day leaves every partition of the warehouse as it was, and names the path."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from assets.ingest.day import ingest_day
from assets.ingest.days import write_days
from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import Warehouse
from tests.unit.test_ingest_day import DAY, land, make_settings, prior

FILES_V1 = {
    "accounts.csv": "account_id,account_name\nA1,Acme\n",
    "orders.csv": "order_id,account_id,order_date,amount\n1,A1,2024-03-01,5\n",
}
FILES_V2 = {
    "accounts.csv": "account_id,account_name\nA1,Acme Corp\nA2,Beta\n",
    "orders.csv": "order_id,account_id,order_date,amount\n1,A1,2024-03-01,7\n",
}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ingested(tmp_path: Path):
    settings = make_settings(tmp_path)
    land(tmp_path, FILES_V1)
    write_days(Warehouse.at(settings.warehouse), [ingest_day(DAY, settings, prior())])
    land(tmp_path, FILES_V2)
    return settings, ingest_day(DAY, settings, prior())


def test_a_full_disk_mid_day_changes_nothing(ingested, monkeypatch) -> None:
    settings, result = ingested
    before = _snapshot(settings.warehouse)
    real = warehouse.pq.write_table
    calls = []

    def fill_up(table, where, **kwargs):
        calls.append(table)
        if len(calls) == 3:  # the third partition of the day: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(table, where, **kwargs)

    monkeypatch.setattr(warehouse.pq, "write_table", fill_up)
    with pytest.raises(warehouse.WarehouseWriteError) as err:
        write_days(Warehouse.at(settings.warehouse), [result])
    assert "No space left on device" in str(err.value)
    assert str(settings.warehouse) in str(err.value) and "part-0.parquet" in str(err.value)
    assert _snapshot(settings.warehouse) == before  # no partition changed, no temp file left


def test_a_failing_swap_puts_back_what_was_swapped(ingested, monkeypatch) -> None:
    settings, result = ingested
    before = _snapshot(settings.warehouse)
    real = os.replace
    swaps = []

    def fail_third(src, dst):
        if str(src).endswith(".tmp"):
            swaps.append(dst)
            if len(swaps) == 3:
                raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(warehouse.os, "replace", fail_third)
    with pytest.raises(warehouse.WarehouseWriteError, match="cannot swap in .*part-0.parquet"):
        write_days(Warehouse.at(settings.warehouse), [result])
    assert _snapshot(settings.warehouse) == before


def test_the_whole_day_is_swapped_in(ingested) -> None:
    settings, result = ingested
    write_days(Warehouse.at(settings.warehouse), [result])
    accounts = warehouse.read_partition(settings.warehouse, "accounts", DAY)
    audit = warehouse.read_partition(settings.warehouse, "ingest_audit", DAY)
    assert accounts["account_name"].tolist() == ["Acme Corp", "Beta"]
    assert audit["rows_clean"].sum() == 3
    leftovers = [p for p in settings.warehouse.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
