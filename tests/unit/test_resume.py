"""Resume ledger: a day is skipped only when its inputs and its written partitions are unchanged."""

from __future__ import annotations

from datetime import date

from sales_pipeline.core import warehouse
from sales_pipeline.core.config import load_settings
from sales_pipeline.resume import Ledger
from schemas import TABLES

D1, D2 = date(2024, 1, 1), date(2024, 1, 2)


def _setup(tmp_path, currency="USD"):
    landing, root = tmp_path / "landing", tmp_path / "warehouse"
    for day in (D1, D2):
        folder = landing / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "accounts.csv").write_text(f"account_id,account_name\na-{day},A\n")
        warehouse.write_partition(root, "ingest_audit", day, TABLES["ingest_audit"].empty_frame())
    return load_settings(
        {"landing": str(landing), "warehouse": str(root), "currency": currency}, environ={}
    )


def test_recorded_day_is_done_until_an_input_or_output_changes(tmp_path):
    config = _setup(tmp_path)
    ledger = Ledger(config)
    assert not ledger.done("ingest", D1)
    ledger.record("ingest", D1)
    ledger.record("ingest", D2)
    assert Ledger(config).done("ingest", D1) and Ledger(config).done("ingest", D2)
    assert not Ledger(config, force=True).done("ingest", D1)
    # The day's partition replaced (another run wrote it): not the file the ledger knows.
    warehouse.write_partition(
        config.warehouse, "ingest_audit", D2, TABLES["ingest_audit"].empty_frame()
    )
    assert not Ledger(config).done("ingest", D2)


def test_a_changed_landing_file_changes_its_day_and_every_later_day(tmp_path):
    config = _setup(tmp_path)
    ledger = Ledger(config)
    ledger.record("ingest", D1)
    ledger.record("ingest", D2)
    ledger.record("analytics", D2)
    (config.landing / D1.isoformat() / "accounts.csv").write_text("account_id,account_name\nx,X\n")
    fresh = Ledger(config)
    assert not fresh.done("ingest", D1)
    assert not fresh.done("ingest", D2)
    assert not fresh.done("analytics", D2)


def test_other_settings_are_other_inputs(tmp_path):
    config = _setup(tmp_path)
    Ledger(config).record("ingest", D1)
    assert Ledger(config).done("ingest", D1)
    other = load_settings(
        {"landing": str(config.landing), "warehouse": str(config.warehouse), "currency": "EUR"},
        environ={},
    )
    assert not Ledger(other).done("ingest", D1)


def test_the_ledger_holds_no_pii_key(tmp_path):
    config = _setup(tmp_path)
    keyed = load_settings(
        {"landing": str(config.landing), "warehouse": str(config.warehouse)},
        environ={"SALES_PIPELINE_PII_KEY": "very-secret-key"},
    )
    Ledger(keyed).record("ingest", D1)
    for path in (config.warehouse / "_runs").rglob("*.json"):
        assert "very-secret-key" not in path.read_text()
    assert not Ledger(config).done("ingest", D1)  # another key hashes PII otherwise
