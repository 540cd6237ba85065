"""End to end over a generated mixed-vendor landing zone: exact counts against the manifest.

Days are ingested by the real ingest job (`pipeline_fixture.ingest_days`: spans of days as one
single-run backfill, a blocked day run on its own with its blocked entity withheld).
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from crm_generator import generate
from sales_pipeline.core import warehouse
from tests.integration.pipeline_fixture import ingest_days, pipeline_settings

START = date(2024, 1, 1)
DAYS = 14
COUNTS = ["rows_read", "rows_clean", "rows_quarantined", "rows_duplicate"]


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    base = tmp_path_factory.mktemp("zone")
    landing, wh = base / "landing", base / "warehouse"
    generate(landing, days=DAYS, accounts=120, fmt="mixed", seed=7, start=START, file_errors=True)
    settings = pipeline_settings(landing, wh)
    blocked_days = ingest_days(settings, START, DAYS)
    manifest = json.loads((landing / "_generator" / "manifest.json").read_text())
    return wh, manifest, blocked_days


def test_audit_counts_match_the_manifest_exactly(zone):
    wh, manifest, _ = zone
    expected = pd.DataFrame(manifest["files"]).set_index("source_file").sort_index()
    audit = warehouse.read_window(wh, "ingest_audit").set_index("source_file").sort_index()
    assert sorted(audit.index) == sorted(expected.index)
    pd.testing.assert_frame_equal(audit[COUNTS].astype("int64"), expected[COUNTS].astype("int64"))
    assert audit["status"].tolist() == expected["status"].tolist()
    assert set(expected["status"]) == {"ok", "blocked"}
    readable = expected["file_error"].isna() & (expected["entity"] != "unknown")
    assert (
        audit.loc[readable, "vendor_format"].tolist()
        == expected.loc[readable, "vendor_format"].tolist()
    )


def test_every_planted_bad_row_is_found_with_its_reason(zone):
    wh, manifest, _ = zone
    planted = pd.DataFrame(manifest["planted"])
    quarantine = warehouse.read_window(wh, "quarantine")
    found = planted.merge(
        quarantine, on=["source_file", "source_row"], how="left", suffixes=("", "_got")
    )
    assert found["reason_code_got"].notna().all(), found[found["reason_code_got"].isna()]
    assert (found["reason_code"] == found["reason_code_got"]).all()
    per_file = quarantine.groupby(["source_file", "reason_code"]).size()
    for record in manifest["files"]:
        for reason, n in (record.get("quarantine_reasons") or {}).items():
            assert per_file.get((record["source_file"], reason), 0) == n, (
                record["source_file"],
                reason,
            )


def test_no_clean_row_lost_and_blocked_days_as_planted(zone):
    wh, manifest, blocked_days = zone
    audit = warehouse.read_window(wh, "ingest_audit", day_column="_day")
    written = 0
    for entity in audit["entity"].unique():
        if entity == "unknown":
            continue
        frame = warehouse.read_window(wh, entity)
        written += int((frame["_source_row"] > 0).sum())  # tombstones from snapshots have row 0
    ok = audit[audit["status"] == "ok"]
    blocked_entity_days = audit[audit["status"] == "blocked"][["entity", "_day"]]
    withheld = ok.merge(blocked_entity_days, on=["entity", "_day"])["rows_clean"].sum()
    assert written == ok["rows_clean"].sum() - withheld
    planted_blocked = {
        f["source_file"].split("/")[0] for f in manifest["files"] if f["status"] == "blocked"
    }
    assert blocked_days == planted_blocked
