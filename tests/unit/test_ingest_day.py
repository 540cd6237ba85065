"""`ingest_day` over small landing folders written in tmp_path (contract section 2)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.day import (
    DayResult,
    LandingFolderMissing,
    PriorState,
    ingest_day,
    snapshot_tombstones,
)
from sales_pipeline.core import warehouse
from sales_pipeline.core.config import Settings, load_settings
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from schemas import TABLES, conform

DAY = date(2024, 3, 4)
FOLDER = DAY.isoformat()


def prior(**alive: pd.DataFrame) -> PriorState:
    return PriorState(TABLES["fx_rates"].empty_frame(), TABLES["reps"].empty_frame(), alive=alive)


def make_settings(tmp_path: Path, settings_file: str | None = None, **overrides) -> Settings:
    values = {"landing": str(tmp_path / "landing"), "warehouse": str(tmp_path / "wh"), **overrides}
    if settings_file is not None:
        path = tmp_path / "settings.toml"
        path.write_text(settings_file)
        values["settings_file"] = str(path)
    return load_settings(values, environ={})


def land(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    day_dir = tmp_path / "landing" / FOLDER
    day_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (day_dir / name).write_bytes(data)
    return day_dir


def run(
    tmp_path: Path,
    files: dict[str, str | bytes],
    state: PriorState | None = None,
    settings_file: str | None = None,
    **overrides,
) -> DayResult:
    land(tmp_path, files)
    settings = make_settings(tmp_path, settings_file, **overrides)
    result = ingest_day(DAY, settings, state or prior())
    check_accounting(result)
    return result


def check_accounting(result: DayResult) -> None:
    """Rows in = rows out for every file, and the quarantine matches the audit: one row per
    quarantined record, or one file-level row (null source_row) for an unreadable file."""
    audit = result.audit
    assert (
        audit["rows_read"]
        == audit["rows_clean"] + audit["rows_quarantined"] + audit["rows_duplicate"]
    ).all()
    q = result.quarantine
    for row in audit.itertuples():
        mine = q[q["source_file"] == row.source_file]
        if mine["source_row"].isna().any():
            assert len(mine) == 1 and row.status == "blocked" and row.rows_clean == 0
            assert row.rows_quarantined == row.rows_read
        else:
            assert len(mine) == row.rows_quarantined, row.source_file
    assert set(q["source_file"]) <= set(audit["source_file"])


def audit_row(result: DayResult, source_file: str) -> dict:
    rows = result.audit[result.audit["source_file"] == source_file]
    assert len(rows) == 1, result.audit["source_file"].tolist()
    return rows.iloc[0].to_dict()


SF_OPPORTUNITY = (
    "Id,AccountId,StageName,Amount,CloseDate,CreatedDate,LastModifiedDate,OwnerId,"
    "Probability,Next_Step__c,IsPrivate\n"
    "0063000000abcDE,0013000000abcDE,Closed Won,100,2024-03-01,2024-02-01T10:00:00.000+0000,"
    "2024-03-01T10:00:00.000+0000,0053000000abcDE,100,call,false\n"
    "006300000000002AAA,0013000000abcDE,Negotiation/Review,,,2024-02-01T10:00:00.000+0000,"
    ",,,,false\n"
)
SF_ACCOUNT = (
    "ID,NAME,BILLINGCOUNTRY,CREATEDDATE,ISDELETED,Rating\n"
    "0013000000abcDE,Acme,NA,2024-01-01T00:00:00.000+0000,false,Hot\n"
)


def test_salesforce_opportunity_and_account(tmp_path: Path) -> None:
    result = run(tmp_path, {"Opportunity.csv": SF_OPPORTUNITY, "Account.csv": SF_ACCOUNT})
    opp = audit_row(result, f"{FOLDER}/Opportunity.csv")
    assert (opp["entity"], opp["vendor_format"], opp["status"]) == (
        "opportunities",
        "salesforce",
        "ok",
    )
    assert list(opp["extra_columns"]) == ["IsPrivate", "Next_Step__c"]
    assert (opp["rows_read"], opp["rows_clean"]) == (2, 2)
    assert opp["encoding"] and opp["delimiter"] == "," and len(opp["file_sha256"]) == 64
    acc = audit_row(result, f"{FOLDER}/Account.csv")
    assert (acc["entity"], acc["vendor_format"]) == ("accounts", "salesforce")
    assert list(acc["extra_columns"]) == ["Rating"]

    o = result.clean["opportunities"].set_index("opportunity_id")
    assert o["stage"].to_dict() == {
        "0063000000abcDEAAY": "closed_won",
        "006300000000002AAA": "negotiation",
    }
    assert o.loc["006300000000002AAA", "probability"] == 80.0
    a = result.clean["accounts"]
    # 15-character IDs become 18 characters, so the two files join.
    assert set(o["account_id"]) == set(a["account_id"]) == {"0013000000abcDEAAY"}
    assert a["country"].tolist() == ["NA"]
    assert o["_source_file"].unique().tolist() == [f"{FOLDER}/Opportunity.csv"]
    assert o["_source_row"].tolist() == [1, 2]
    assert result.blocked == {} and result.quarantine.empty


HUBSPOT_DEALS = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,"
    "Associated Company IDs\n"
    "9,Big deal,closedwon,100,2024-03-01,2024-02-01 10:00,JANE DOE,11;12\n"
    "10,Small,contractsent,,,2024-02-01 10:00,Unknown Person,13\n"
    "11,Other,qualifiedtobuy,,,2024-02-01 10:00,R2,\n"
)


def test_hubspot_deal_owner_names_resolve_through_reps_of_the_same_day(tmp_path: Path) -> None:
    files = {
        "hubspot-crm-exports-all-deals-2024-03-04.csv": HUBSPOT_DEALS,
        "reps.csv": "rep_id,rep_name\nR1,Jane Doe\nR2,Bob Stone\n",
    }
    result = run(tmp_path, files, timezone="Europe/Berlin")
    deals = audit_row(result, f"{FOLDER}/hubspot-crm-exports-all-deals-2024-03-04.csv")
    assert (deals["entity"], deals["vendor_format"], deals["status"]) == (
        "opportunities",
        "hubspot",
        "ok",
    )
    assert "Deal Name" in deals["extra_columns"]
    o = result.clean["opportunities"].set_index("opportunity_id")
    assert o["owner_id"].to_dict() == {"9": "R1", "10": "Unknown Person", "11": "R2"}
    assert o.loc["9", "account_id"] == "11" and o.loc["9", "stage"] == "closed_won"
    # HubSpot datetimes are in the settings time zone (Berlin, UTC+1 in February).
    assert o.loc["9", "created_at"] == pd.Timestamp("2024-02-01T09:00:00Z")


def test_owner_names_resolve_through_prior_reps(tmp_path: Path) -> None:
    reps = conform(
        pd.DataFrame(
            {
                "rep_id": ["R1"],
                "rep_name": ["Jane Doe"],
                "updated_at": [pd.Timestamp("2024-01-01", tz="UTC")],
                "is_deleted": [False],
                "_source_file": ["2024-01-01/reps.csv"],
                "_source_row": [1],
            }
        ),
        TABLES["reps"],
    )
    state = PriorState(TABLES["fx_rates"].empty_frame(), reps)
    result = run(tmp_path, {"deals.csv": HUBSPOT_DEALS}, state)
    assert result.clean["opportunities"]["owner_id"].tolist()[0] == "R1"


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_zip_members_are_files(tmp_path: Path) -> None:
    archive = zip_bytes(
        {
            "accounts.csv": "account_id,account_name\nA1,Acme\nA2,Beta\n",
            "export/orders.csv": "order_id,account_id,order_date,amount\n1,A1,2024-03-01,5\n",
        }
    )
    result = run(tmp_path, {"x.zip": archive})
    assert sorted(result.audit["source_file"]) == [
        f"{FOLDER}/x.zip/accounts.csv",
        f"{FOLDER}/x.zip/export/orders.csv",
    ]
    assert audit_row(result, f"{FOLDER}/x.zip/accounts.csv")["rows_clean"] == 2
    assert result.clean["orders"]["_source_file"].tolist() == [f"{FOLDER}/x.zip/export/orders.csv"]
    assert result.clean["accounts"]["_source_file"].unique().tolist() == [
        f"{FOLDER}/x.zip/accounts.csv"
    ]


def test_zero_byte_file_is_empty_file_and_blocks(tmp_path: Path) -> None:
    result = run(
        tmp_path, {"orders.csv": b"", "accounts.csv": "account_id,account_name\nA1,Acme\n"}
    )
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["entity"], row["status"], row["rows_read"], row["rows_quarantined"]) == (
        "orders",
        "blocked",
        0,
        0,
    )
    q = result.quarantine[result.quarantine["source_file"] == f"{FOLDER}/orders.csv"]
    assert q["reason_code"].tolist() == ["empty_file"] and q["source_row"].isna().all()
    assert list(result.blocked) == ["orders"] and "empty_file" in result.blocked["orders"][0]
    # The day's other entities are ingested.
    assert audit_row(result, f"{FOLDER}/accounts.csv")["status"] == "ok"
    assert len(result.clean["accounts"]) == 1


def test_missing_required_column_quarantines_the_whole_file(tmp_path: Path) -> None:
    text = "order_id,account_id,order_date\n1,A,2024-03-01\n2,A,2024-03-01\n3,B,2024-03-02\n"
    result = run(tmp_path, {"orders.csv": text})
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["status"], row["rows_read"], row["rows_quarantined"], row["rows_clean"]) == (
        "blocked",
        3,
        3,
        0,
    )
    q = result.quarantine
    assert len(q) == 1 and q["reason_code"].iloc[0] == "missing_column"
    assert pd.isna(q["source_row"].iloc[0]) and "amount" in q["reason_detail"].iloc[0]
    assert "orders" in result.blocked and "orders" not in result.clean


@pytest.mark.parametrize(
    ("bad", "total", "max_quarantine", "status"),
    [(1, 20, "0.05", "ok"), (2, 20, "0.05", "blocked"), (1, 2, "0.5", "ok"), (0, 1, "0", "ok")],
)
def test_quarantine_threshold(
    tmp_path: Path, bad: int, total: int, max_quarantine: str, status: str
) -> None:
    lines = [f"{i},A,2024-03-01,{'-1' if i < bad else '5'}" for i in range(total)]
    text = "order_id,account_id,order_date,amount\n" + "\n".join(lines) + "\n"
    result = run(tmp_path, {"orders.csv": text}, max_quarantine=max_quarantine)
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["status"], row["rows_quarantined"]) == (status, bad)
    assert ("orders" in result.blocked) == (status == "blocked")
    # Blocked or not, the clean rows are there for the asset to withhold.
    assert len(result.clean["orders"]) == total - bad


def test_duplicates_do_not_count_in_the_quarantine_share(tmp_path: Path) -> None:
    lines = ["1,A,2024-03-01,5"] * 10 + ["2,A,2024-03-01,-1", "3,A,2024-03-01,5"]
    text = "order_id,account_id,order_date,amount\n" + "\n".join(lines) + "\n"
    result = run(tmp_path, {"orders.csv": text}, max_quarantine="0.34")
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["rows_read"], row["rows_duplicate"], row["rows_quarantined"]) == (12, 9, 1)
    assert row["status"] == "ok"  # 1 / 3, not 1 / 12 and not blocked either way


def test_header_only_file_is_ok_with_zero_rows(tmp_path: Path) -> None:
    result = run(tmp_path, {"orders.csv": "order_id,account_id,order_date,amount\n"})
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["status"], row["rows_read"], row["rows_clean"]) == ("ok", 0, 0)
    assert result.blocked == {} and result.quarantine.empty
    assert result.clean["orders"].empty


def test_unknown_file_name_is_skipped_and_audited(tmp_path: Path) -> None:
    result = run(
        tmp_path, {"notes.csv": "a,b\n1,2\n", "accounts.csv": "account_id,account_name\nA,B\n"}
    )
    row = audit_row(result, f"{FOLDER}/notes.csv")
    assert (row["entity"], row["status"]) == ("unknown", "ok")
    assert row["message"].startswith("skipped")
    assert result.blocked == {} and set(result.clean) == {"accounts"}


def test_malformed_line_is_quarantined_with_its_record_number(tmp_path: Path) -> None:
    text = (
        "order_id,account_id,order_date,amount\n"
        "1,A,2024-03-01,5\n"
        # One record over two lines: record 2; a line break in a single-line column is a
        # malformed record (issue 11), whatever else is wrong with it.
        '2,A,"multi\nline note",5\n'
        "3,A,2024-03-01,5,surplus\n"  # record 3: one field too many
        "4,A,2024-03-01,5\n"
    )
    result = run(tmp_path, {"orders.csv": text}, max_quarantine="1")
    q = result.quarantine.sort_values("source_row")
    assert q[["source_row", "reason_code"]].values.tolist() == [
        [2, "malformed_line"],
        [3, "malformed_line"],
    ]
    detail = q["reason_detail"].iloc[1]
    assert detail.startswith("malformed_line") and "malformed_line: malformed_line" not in detail
    assert json.loads(q["raw_record"].iloc[1]) == {"line": "3,A,2024-03-01,5,surplus"}
    row = audit_row(result, f"{FOLDER}/orders.csv")
    assert (row["rows_read"], row["rows_clean"], row["rows_quarantined"]) == (4, 2, 2)
    assert result.clean["orders"]["_source_row"].tolist() == [1, 4]


def test_malformed_line_never_keeps_clear_pii(tmp_path: Path) -> None:
    text = "contact_id,email,created_at\nK1,a@b.example,2024-03-01\nK2,jane@secret.example,2024-03-01,x\n"
    result = run(tmp_path, {"contacts.csv": text}, max_quarantine="1", pii_key="k")
    q = result.quarantine
    assert q["reason_code"].tolist() == ["malformed_line"] and q["source_row"].tolist() == [2]
    assert "jane" not in q["raw_record"].iloc[0] and "secret" not in q["raw_record"].iloc[0]


def test_pii_masked_in_vendor_quarantine_rows(tmp_path: Path) -> None:
    text = "Id,Email,FirstName,CreatedDate\n0033000000abcDE,jane@secret.example,Jane,not a date\n"
    result = run(tmp_path, {"Contact.csv": text}, max_quarantine="1")
    record = json.loads(result.quarantine["raw_record"].iloc[0])
    assert record["Email"] == "***" and record["FirstName"] == "***"
    assert record["CreatedDate"] == "not a date"


def test_custom_tuple_alias_from_the_settings_file(tmp_path: Path) -> None:
    settings_file = (
        '[entities.accounts]\nfile_patterns = ["maven_accounts*"]\n'
        'aliases = { account = ["account_id", "account_name"], sector = "industry" }\n'
    )
    text = "account,sector,revenue\nAcme Corporation,technolgy,1100.04\n"
    result = run(tmp_path, {"maven_accounts.csv": text}, settings_file=settings_file)
    a = result.clean["accounts"]
    assert a[["account_id", "account_name", "industry"]].values.tolist() == [
        ["Acme Corporation", "Acme Corporation", "technolgy"]
    ]
    assert list(audit_row(result, f"{FOLDER}/maven_accounts.csv")["extra_columns"]) == ["revenue"]


def test_missing_landing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LandingFolderMissing):
        ingest_day(DAY, make_settings(tmp_path), prior())


# --------------------------------------------------------------------------------------------
# Full snapshots (load_mode = "snapshot")
# --------------------------------------------------------------------------------------------

SNAPSHOT = '[entities.accounts]\nload_mode = "snapshot"\n'


def alive_accounts(ids: list[str], updated: str = "2024-03-01T00:00:00Z") -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "account_id": ids,
                "account_name": [f"name {i}" for i in ids],
                "created_at": pd.Timestamp("2024-01-01", tz="UTC"),
                "updated_at": pd.Timestamp(updated),
                "is_deleted": False,
                "_source_file": "2024-03-01/accounts.csv",
                "_source_row": range(1, len(ids) + 1),
            }
        ),
        TABLES["accounts"],
    )


def test_snapshot_deletes_records_absent_from_the_days_file(tmp_path: Path) -> None:
    state = prior(accounts=alive_accounts(["A1", "A2", "A3"]))
    text = "account_id,account_name\nA1,Acme\nA4,New\n"
    # Two of three live records go: allowed only above the default max_snapshot_drop of 50%.
    allow = SNAPSHOT + "[thresholds]\nmax_snapshot_drop = 0.7\n"
    result = run(tmp_path, {"accounts.csv": text}, state, allow, timezone="America/New_York")
    a = result.clean["accounts"]
    tombstones = a[a["is_deleted"]].sort_values("account_id")
    assert tombstones["account_id"].tolist() == ["A2", "A3"]
    assert (tombstones["updated_at"] == pd.Timestamp("2024-03-04T05:00:00Z")).all()
    assert (tombstones["_source_row"] == 0).all()
    assert tombstones["account_name"].tolist() == ["name A2", "name A3"]
    assert sorted(a.loc[~a["is_deleted"], "account_id"]) == ["A1", "A4"]
    # Tombstones are not rows of the file.
    assert audit_row(result, f"{FOLDER}/accounts.csv")["rows_read"] == 2


@pytest.mark.parametrize("mode", ["delta", "snapshot"])
def test_load_mode_decides_whether_records_absent_today_are_deleted(
    tmp_path: Path, mode: str
) -> None:
    """Through the ingest job, with yesterday's live records in the warehouse: only an entity in
    snapshot mode gets its prior state, so only there is an absent record tombstoned."""
    root = tmp_path / "wh"
    yesterday = date.fromordinal(DAY.toordinal() - 1)
    warehouse.write_partition(
        root, "accounts", yesterday, alive_accounts(["A1", "A2", "A3", "A4", "A5"])
    )
    text = "account_id,account_name\nA1,Acme\nA2,Beta\nA3,Gamma\nA4,Delta\nA6,New\n"
    land(tmp_path, {"accounts.csv": text})
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(SNAPSHOT if mode == "snapshot" else "", encoding="utf-8")
    settings = PipelineSettings(
        landing=str(tmp_path / "landing"), warehouse=str(root), settings_file=str(settings_file)
    )
    assert settings.resolve().entity("accounts").load_mode == mode
    job = build_defs(settings=settings).resolve_job_def("ingest_job")
    assert job.execute_in_process(partition_key=FOLDER, raise_on_error=False).success
    a = warehouse.read_partition(root, "accounts", DAY)
    assert a.loc[a["is_deleted"], "account_id"].tolist() == (["A5"] if mode == "snapshot" else [])
    assert sorted(a.loc[~a["is_deleted"], "account_id"]) == ["A1", "A2", "A3", "A4", "A6"]


def test_snapshot_keeps_records_sent_with_a_bad_value(tmp_path: Path) -> None:
    """A quarantined record is not absent from the snapshot: it must not be deleted."""
    state = prior(accounts=alive_accounts(["A1", "A2", "A3"]))
    text = "account_id,account_name,employees\nA1,Acme,5\nA2,Beta,lots\n"
    result = run(tmp_path, {"accounts.csv": text}, state, SNAPSHOT, max_quarantine="1")
    a = result.clean["accounts"]
    assert a.loc[a["is_deleted"], "account_id"].tolist() == ["A3"]


def test_snapshot_with_15_character_ids_matches_18_character_state(tmp_path: Path) -> None:
    state = prior(accounts=alive_accounts(["0013000000abcDEAAY", "0013000000abcDFAAY"]))
    text = "Id,Name\n0013000000abcDE,Acme\n"
    result = run(tmp_path, {"Account.csv": text}, state, SNAPSHOT)
    a = result.clean["accounts"]
    assert a.loc[a["is_deleted"], "account_id"].tolist() == ["0013000000abcDFAAY"]


def test_blocked_snapshot_deletes_nothing(tmp_path: Path) -> None:
    state = prior(accounts=alive_accounts(["A1", "A2"]))
    text = "account_id,account_name,employees\nA1,Acme,lots\n"
    result = run(tmp_path, {"accounts.csv": text}, state, SNAPSHOT)
    assert "accounts" in result.blocked
    assert not result.clean["accounts"]["is_deleted"].any()


def test_snapshot_tombstone_comes_after_the_last_version() -> None:
    alive = alive_accounts(["A1", "A2"], updated="2024-03-04T12:00:00Z")
    today = [alive.iloc[:1].assign(_source_file="2024-03-04/accounts.csv")]
    out = snapshot_tombstones("accounts", alive, today, DAY, "UTC")
    assert out["account_id"].tolist() == ["A2"] and out["is_deleted"].tolist() == [True]
    assert out["updated_at"].iloc[0] == pd.Timestamp("2024-03-04T12:00:00.000001Z")
    assert out["_source_file"].tolist() == ["2024-03-04/accounts.csv"]
    nothing = snapshot_tombstones("accounts", alive, [alive], DAY, "UTC")
    assert nothing.empty and list(nothing.columns) == TABLES["accounts"].column_names
