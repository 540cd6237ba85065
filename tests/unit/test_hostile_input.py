"""Issue 11 at the level of one landing day: hostile or broken files become per-file reasons,
values are validated, snapshots are guarded, and nothing a file carries is lost silently."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.day import snapshot_refusal
from assets.ingest.readers import ArchiveLimits, read_bytes
from schemas.ingest import READY_MARKER
from tests.unit.test_ingest_day import (
    FOLDER,
    SNAPSHOT,
    alive_accounts,
    audit_row,
    prior,
    run,
)

ACCOUNTS = "account_id,account_name\nA1,Acme\n"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _file_reason(result, source_file: str) -> str:
    rows = result.quarantine[result.quarantine["source_file"] == source_file]
    assert len(rows) == 1 and rows["source_row"].isna().all(), rows
    return rows["reason_code"].iloc[0]


# --------------------------------------------------------------------------------------------
# Canonical names in every preset; nothing dropped silently
# --------------------------------------------------------------------------------------------


def test_hubspot_deals_export_uses_a_canonical_updated_at(tmp_path: Path) -> None:
    text = (
        "Record ID,Deal Stage,Create Date,updated_at\n"
        "1,appointmentscheduled,2024-01-02 10:00,2024-02-03T04:05:06Z\n"
    )
    result = run(tmp_path, {"deals.csv": text})
    row = audit_row(result, f"{FOLDER}/deals.csv")
    assert row["vendor_format"] == "hubspot"
    assert "updated_at" not in row["extra_columns"]
    opp = result.clean["opportunities"]
    assert opp["updated_at"].tolist() == [pd.Timestamp("2024-02-03T04:05:06Z")]


def test_a_preset_name_wins_over_the_canonical_name(tmp_path: Path) -> None:
    text = (
        "Record ID,Deal Stage,Create Date,Last Modified Date,updated_at\n"
        "1,qualifiedtobuy,2024-01-02 10:00,2024-01-05 00:00,2024-02-03T04:05:06Z\n"
    )
    result = run(tmp_path, {"deals.csv": text})
    assert result.clean["opportunities"]["updated_at"].tolist() == [
        pd.Timestamp("2024-01-05T00:00:00Z")
    ]
    assert audit_row(result, f"{FOLDER}/deals.csv")["extra_columns"] == ["updated_at"]


def test_a_second_column_of_the_same_name_is_an_extra_column(tmp_path: Path) -> None:
    text = "order_id,account_id,order_date,amount,amount\n1,A,2024-03-01,5,7\n"
    result = run(tmp_path, {"orders.csv": text})
    assert audit_row(result, f"{FOLDER}/orders.csv")["extra_columns"] == ["amount"]
    assert result.clean["orders"]["amount"].tolist() == [5.0]


# --------------------------------------------------------------------------------------------
# Every file gets an audit row; file errors come before the entity match
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "entity", "code"),
    [
        ("Opportunity.xls", b"\xd0\xcf\x11\xe0 not read", "opportunities", "unsupported_format"),
        ("orders.csv.bz2", b"BZh91AY&SY", "orders", "unsupported_format"),
        ("orders.json", b'[{"order_id": "1"}]', "orders", "unsupported_format"),
        ("WE_00D5g000001abcd_1.zip", os.urandom(2048), "unknown", "corrupt_archive"),
        ("export.zip", _zip({"inner.zip": _zip({"accounts.csv": b"a\n1\n"})}), "unknown", None),
    ],
)
def test_a_file_that_cannot_be_read_blocks_with_a_file_reason(
    tmp_path: Path, name: str, data: bytes, entity: str, code: str | None
) -> None:
    result = run(tmp_path, {name: data, "accounts.csv": ACCOUNTS})
    source = f"{FOLDER}/{name}" if code else f"{FOLDER}/{name}/inner.zip"
    row = audit_row(result, source)
    assert (row["entity"], row["status"]) == (entity, "blocked")
    assert row["message"] and source in row["message"]
    assert _file_reason(result, source) == (code or "unsupported_format")
    assert entity in result.blocked
    # The day's other entities are ingested.
    assert result.clean["accounts"]["account_id"].tolist() == ["A1"]
    assert "accounts" not in result.blocked


def test_a_zip_bomb_with_an_unknown_name_is_blocked_not_skipped(tmp_path: Path) -> None:
    bomb = _zip({"data.csv": b"a\n" + b"0" * 5_000_000})
    result = run(tmp_path, {"export.zip": bomb})
    row = audit_row(result, f"{FOLDER}/export.zip")
    assert row["status"] == "blocked"
    assert _file_reason(result, f"{FOLDER}/export.zip") == "unsafe_archive"
    assert result.blocked["unknown"]


def test_files_starting_with_dot_or_underscore_are_audited(tmp_path: Path) -> None:
    result = run(tmp_path, {"_accounts.csv": ACCOUNTS, ".DS_Store": b"\x00\x01", "x.csv": "a\n"})
    sources = set(result.audit["source_file"])
    assert {f"{FOLDER}/_accounts.csv", f"{FOLDER}/.DS_Store", f"{FOLDER}/x.csv"} <= sources
    # An unknown name the contract skips, with the reason visible.
    row = audit_row(result, f"{FOLDER}/.DS_Store")
    assert (row["entity"], row["status"]) == ("unknown", "ok")
    assert "unsupported_format" in row["message"]


def test_the_readiness_marker_is_the_one_entry_not_audited(tmp_path: Path) -> None:
    """`_SUCCESS` at the top of a day folder is what the sensor waits for, not data; the same
    name deeper down (inside a sub-folder) is an ordinary landing entry."""
    (tmp_path / "landing" / FOLDER / "sub").mkdir(parents=True)
    result = run(tmp_path, {"accounts.csv": ACCOUNTS, READY_MARKER: "", f"sub/{READY_MARKER}": "x"})
    sources = set(result.audit["source_file"])
    assert f"{FOLDER}/{READY_MARKER}" not in sources
    assert {f"{FOLDER}/accounts.csv", f"{FOLDER}/sub/{READY_MARKER}"} <= sources
    assert not result.blocked


def test_a_gzip_bomb_is_an_unsafe_archive() -> None:
    bomb = gzip.compress(b"a\n" + b"0" * 2_000_000)
    limits = ArchiveLimits(max_ratio=10, ratio_floor_bytes=10_000)
    raw = read_bytes(bomb, "d/accounts.csv.gz", "accounts.csv.gz", limits=limits)
    assert raw.error.code == "unsafe_archive"
    raw = read_bytes(bomb, "d/accounts.csv.gz", "accounts.csv.gz", limits=ArchiveLimits())
    assert raw.error is None and raw.rows_read == 1
    total = ArchiveLimits(max_total_bytes=1_000, ratio_floor_bytes=10**9)
    assert read_bytes(bomb, "d/a.csv.gz", "a.csv.gz", limits=total).error.code == "unsafe_archive"


def test_multi_member_gzip_reads_every_member() -> None:
    data = gzip.compress(b"id\n1\n") + gzip.compress(b"2\n")
    assert read_bytes(data, "d/a.csv.gz", "a.csv.gz").rows_read == 2
    truncated = gzip.compress(b"id\n" + b"1\n" * 1000)[:-20]
    assert read_bytes(truncated, "d/a.csv.gz", "a.csv.gz").error.code == "corrupt_archive"


# --------------------------------------------------------------------------------------------
# Crashes that became per-file reasons
# --------------------------------------------------------------------------------------------


def test_symlink_leaving_the_landing_root_is_unsafe_path(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("account_id,account_name\nS1,Secret\n")
    day_dir = tmp_path / "landing" / FOLDER
    day_dir.mkdir(parents=True)
    (day_dir / "accounts.csv").symlink_to(outside)
    inside = tmp_path / "landing" / "shared" / "reps.csv"
    inside.parent.mkdir()
    inside.write_text("rep_id,rep_name\nR1,Ann\n")
    (day_dir / "reps.csv").symlink_to(inside)
    (day_dir / "loop").symlink_to(day_dir)
    result = run(
        tmp_path, {"orders.csv": "order_id,account_id,order_date,amount\n1,A,2024-03-01,5\n"}
    )
    row = audit_row(result, f"{FOLDER}/accounts.csv")
    assert row["status"] == "blocked" and "accounts" in result.blocked
    assert _file_reason(result, f"{FOLDER}/accounts.csv") == "unsafe_path"
    assert "Secret" not in result.quarantine.to_string()
    # A link inside the landing root is read as its target, audited under its own path.
    assert result.clean["reps"]["rep_id"].tolist() == ["R1"]
    assert result.clean["orders"]["order_id"].tolist() == ["1"]
    assert audit_row(result, f"{FOLDER}/loop")["status"] == "ok"  # a folder link: skipped


def test_jsonl_nested_10000_deep_is_a_malformed_line(tmp_path: Path) -> None:
    deep = '{"order_id": "2", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    good = '{"order_id": "1", "account_id": "A", "order_date": "2024-03-01", "amount": 5}'
    result = run(tmp_path, {"orders.jsonl": good + "\n" + deep + "\n"}, max_quarantine="1")
    q = result.quarantine
    assert q[["source_row", "reason_code"]].values.tolist() == [[2, "malformed_line"]]
    assert result.clean["orders"]["order_id"].tolist() == ["1"]


def test_header_field_over_the_csv_limit_is_a_file_reason(tmp_path: Path) -> None:
    text = "order_id," + "x" * 140_000 + "\n1,2\n"
    result = run(tmp_path, {"orders.csv": text, "accounts.csv": ACCOUNTS})
    assert _file_reason(result, f"{FOLDER}/orders.csv") == "missing_column"
    assert "orders" in result.blocked and "accounts" not in result.blocked


def test_nul_bytes_are_never_stored(tmp_path: Path) -> None:
    text = (
        "order_id,account_id,order_date,amount,product\n"
        "1\x00,A,2024-03-01,5,p\n"
        "2,A,2024-03-01,5,p\x00q\n"
        "3,A,2024-03-01,5,p\n"
    )
    result = run(tmp_path, {"orders.csv": text}, max_quarantine="1")
    q = result.quarantine.sort_values("source_row")
    assert q[["source_row", "reason_code"]].values.tolist() == [
        [1, "mangled_id"],
        [2, "invalid_value"],
    ]
    assert result.clean["orders"]["order_id"].tolist() == ["3"]


def test_jsonl_with_one_bad_utf8_line_is_decoded_per_line(tmp_path: Path) -> None:
    lines = [
        '{"account_id": "A1", "account_name": "Café"}'.encode(),
        b'{"account_id": "A2", "account_name": "Caf\xe9"}',
        '{"account_id": "A3", "account_name": "Zoë"}'.encode(),
    ]
    result = run(tmp_path, {"accounts.jsonl": b"\n".join(lines) + b"\n"}, max_quarantine="1")
    assert result.clean["accounts"]["account_name"].tolist() == ["Café", "Zoë"]
    q = result.quarantine
    assert q[["source_row", "reason_code"]].values.tolist() == [[2, "malformed_line"]]
    assert audit_row(result, f"{FOLDER}/accounts.jsonl")["encoding"] == "utf-8"


# --------------------------------------------------------------------------------------------
# Values, not only types
# --------------------------------------------------------------------------------------------


def test_two_stray_quotes_do_not_hide_rates_in_a_currency_cell(tmp_path: Path) -> None:
    lines = ["rate_date,currency,rate"]
    for i in range(300):
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=i)
        currency = "EUR"
        if i == 100:
            currency = '"EUR'  # a stray quote ...
        if i == 200:
            currency = 'EUR"'  # ... and another, 100 lines later
        lines.append(f"{day.date()},{currency},1.1")
    result = run(tmp_path, {"fx_rates.csv": "\n".join(lines) + "\n"}, max_quarantine="1")
    fx = result.clean["fx_rates"]
    assert fx["currency"].str.fullmatch("[A-Z]{3}").all()
    q = result.quarantine
    assert q["reason_code"].tolist() == ["malformed_line"]
    assert "currency" in q["reason_detail"].iloc[0]
    row = audit_row(result, f"{FOLDER}/fx_rates.csv")
    # The swallowed lines are one quarantined record (a record, not a line, is what counts).
    assert (row["rows_clean"], row["rows_quarantined"]) == (len(fx), 1)


def test_currency_codes_and_id_shapes_are_validated(tmp_path: Path) -> None:
    text = (
        "order_id,account_id,order_date,amount,currency\n"
        "1,A,2024-03-01,5,usd\n"
        "2,A,2024-03-01,5,US$\n"
        f"{'9' * 300},A,2024-03-01,5,USD\n"
    )
    result = run(tmp_path, {"orders.csv": text}, max_quarantine="1")
    q = result.quarantine.sort_values("source_row")
    assert q[["source_row", "reason_code"]].values.tolist() == [
        [2, "invalid_value"],
        [3, "mangled_id"],
    ]
    assert result.clean["orders"]["currency"].tolist() == ["USD"]


# --------------------------------------------------------------------------------------------
# Snapshots, with prior state
# --------------------------------------------------------------------------------------------


def test_an_empty_snapshot_is_blocked_not_applied(tmp_path: Path) -> None:
    state = prior(accounts=alive_accounts(["A1", "A2"]))
    result = run(tmp_path, {"accounts.csv": "account_id,account_name\n"}, state, SNAPSHOT)
    assert "accounts" in result.blocked
    assert _file_reason(result, f"{FOLDER}/accounts.csv") == "snapshot_drop"
    assert audit_row(result, f"{FOLDER}/accounts.csv")["status"] == "blocked"
    assert not result.clean.get("accounts", pd.DataFrame({"is_deleted": []}))["is_deleted"].any()


@pytest.mark.parametrize(("kept", "blocked"), [(4, False), (5, False), (4 - 1, True)])
def test_a_snapshot_dropping_too_many_live_records_is_blocked(
    tmp_path: Path, kept: int, blocked: bool
) -> None:
    ids = [f"A{i}" for i in range(8)]
    state = prior(accounts=alive_accounts(ids))
    text = "account_id,account_name\n" + "".join(f"{i},x\n" for i in ids[:kept])
    result = run(tmp_path, {"accounts.csv": text}, state, SNAPSHOT)
    assert ("accounts" in result.blocked) is blocked
    if not blocked:
        deleted = result.clean["accounts"]["is_deleted"]
        assert int(deleted.sum()) == len(ids) - kept
        row = audit_row(result, f"{FOLDER}/accounts.csv")
        assert (row["rows_read"], row["rows_clean"]) == (kept, kept)


def test_the_snapshot_drop_threshold_is_a_setting(tmp_path: Path) -> None:
    state = prior(accounts=alive_accounts(["A1", "A2", "A3", "A4"]))
    text = "account_id,account_name\nA1,x\n"
    loose = SNAPSHOT + "[thresholds]\nmax_snapshot_drop = 0.8\n"
    result = run(tmp_path, {"accounts.csv": text}, state, loose)
    assert "accounts" not in result.blocked
    assert snapshot_refusal(4, 4, 1.0) is not None  # empty is refused whatever the threshold
    assert snapshot_refusal(0, 0, 0.5) is None  # nothing live: nothing to protect


# --------------------------------------------------------------------------------------------
# Primary keys across the day's files
# --------------------------------------------------------------------------------------------


def test_the_same_record_in_two_files_of_a_day_is_one_row(tmp_path: Path) -> None:
    files = {
        "accounts.csv": "account_id,account_name,updated_at\nA1,Old,2024-03-01\nA2,B,2024-03-01\n",
        "companies.csv": "account_id,account_name,updated_at\nA1,New,2024-03-02\n",
    }
    result = run(tmp_path, files)
    a = result.clean["accounts"].sort_values("account_id")
    assert a[["account_id", "account_name"]].values.tolist() == [["A1", "New"], ["A2", "B"]]
    row = audit_row(result, f"{FOLDER}/accounts.csv")
    assert (row["rows_clean"], row["rows_duplicate"]) == (1, 1)


# --------------------------------------------------------------------------------------------
# PII outside contacts
# --------------------------------------------------------------------------------------------


def test_quarantined_salesforce_user_masks_email_and_mobile(tmp_path: Path) -> None:
    text = (
        "Id,Name,Email,MobilePhone,IsActive\n"
        "0053000000abcDE,Ann,ann.secret@example.com,+1 555 0100,maybe\n"
    )
    result = run(tmp_path, {"User.csv": text}, max_quarantine="1")
    record = json.loads(result.quarantine["raw_record"].iloc[0])
    assert record["Email"] == "***" and record["MobilePhone"] == "***"
    assert "ann.secret" not in result.quarantine.to_string()


def test_task_description_is_never_stored(tmp_path: Path) -> None:
    text = (
        "Id,Subject,Description,ActivityDate,CallDisposition\n"
        "00T3000000abcDE,Call,Talked to Jane Doe at home,2024-03-01,Connected\n"
    )
    result = run(tmp_path, {"Task.csv": text})
    activities = result.clean["activities"]
    assert activities["outcome"].tolist() == ["Connected"]
    assert "Jane Doe" not in activities.to_string()
    assert "Description" in audit_row(result, f"{FOLDER}/Task.csv")["extra_columns"]
