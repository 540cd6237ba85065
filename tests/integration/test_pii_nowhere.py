"""PII planted in every entity and every vendor format never appears in clear (issue 11).

One landing day carries distinctive personal data in every column a CRM export would hold it
in (e-mail, phone, mobile, first/last name, and free text: description, notes, body,
comments), on good rows, on rows that are quarantined, and on malformed lines. The ingest runs
through Dagster, with and without a PII key; then the warehouse (every string of every Parquet
file, decoded), the Dagster home (event log, run storage) and the captured output are searched:
zero hits.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs

DAY = "2024-03-04"
# Distinctive fragments: each planted value contains exactly one of them.
EMAIL, PHONE, NAME, TEXT = "zq.leak", "5550199", "Zorblaxia", "Wibblewobble"


def _pii(i: int) -> dict[str, str]:
    return {
        "email": f"{EMAIL}{i}@pii.example",
        "phone": f"+1 {PHONE}{i:02d}",
        "first": f"{NAME}{i}",
        "last": f"{NAME}son{i}",
        "text": f"{TEXT} {i}: met at home",
    }


def _csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def _files() -> dict[str, str]:
    """name -> text; each with a good row, a quarantined row, and a malformed line."""
    p = [_pii(i) for i in range(40)]
    files = {
        # canonical, PII under canonical and free-text names
        "contacts.csv": _csv(
            ["contact_id", "email", "phone", "first_name", "last_name", "created_at", "notes"],
            [
                [
                    "c1",
                    p[0]["email"],
                    p[0]["phone"],
                    p[0]["first"],
                    p[0]["last"],
                    "2024-01-01",
                    p[0]["text"],
                ],
                [
                    "c2",
                    p[1]["email"],
                    p[1]["phone"],
                    p[1]["first"],
                    p[1]["last"],
                    "someday",
                    p[1]["text"],
                ],
                ["c3", p[2]["email"], "extra", "fields", "here", "2024-01-01", p[2]["text"], "x"],
            ],
        ),
        "accounts.csv": _csv(
            ["account_id", "account_name", "contact_email", "phone", "description"],
            [
                ["a1", "Acme", p[3]["email"], p[3]["phone"], p[3]["text"]],
                ["a2", "", p[4]["email"], p[4]["phone"], p[4]["text"]],
                ["a3", "Beta", p[5]["email"], p[5]["phone"], p[5]["text"], "surplus"],
            ],
        ),
        "orders.csv": _csv(
            ["order_id", "account_id", "order_date", "amount", "buyer_email", "comments"],
            [
                ["x1", "a1", "2024-03-01", "5", p[6]["email"], p[6]["text"]],
                ["x2", "a1", "2024-03-01", "-5", p[7]["email"], p[7]["text"]],
                ["x3", "a1", "2024-03-01", "5", p[8]["email"], p[8]["text"], "surplus"],
            ],
        ),
        "activities.csv": _csv(
            ["activity_id", "activity_type", "occurred_at", "outcome", "body", "first_name"],
            [
                ["t1", "call", "2024-03-01", "connected", p[9]["text"], p[9]["first"]],
                ["t2", "fax", "2024-03-01", "connected", p[10]["text"], p[10]["first"]],
                ["t3", "call", "2024-03-01", "connected", p[11]["text"], p[11]["first"], "x"],
            ],
        ),
        "targets.csv": _csv(
            ["period", "target_amount", "owner_email"],
            [["2024-03", "100", p[12]["email"]], ["2024-13", "100", p[13]["email"]]],
        ),
        "fx_rates.csv": _csv(
            ["rate_date", "currency", "rate", "notes"],
            [
                ["2024-03-01", "EUR", "1.1", p[14]["text"]],
                ["2024-03-01", "GBP", "x", p[15]["text"]],
            ],
        ),
        "campaigns.csv": _csv(
            ["campaign_id", "campaign_name", "cost", "manager_phone"],
            [["k1", "Spring", "10", p[16]["phone"]], ["k2", "Fall", "-1", p[17]["phone"]]],
        ),
        # Salesforce
        "User.csv": _csv(
            ["Id", "Name", "Email", "MobilePhone", "Username", "IsActive"],
            [
                [
                    "0053000000abcDE",
                    "Ann Lee",
                    p[18]["email"],
                    p[18]["phone"],
                    p[18]["email"],
                    "true",
                ],
                [
                    "0053000000abcDF",
                    "Bob Ray",
                    p[19]["email"],
                    p[19]["phone"],
                    p[19]["email"],
                    "maybe",
                ],
            ],
        ),
        "Contact.csv": _csv(
            ["Id", "Email", "MobilePhone", "FirstName", "LastName", "MailingStreet", "CreatedDate"],
            [
                [
                    "0033000000abcDE",
                    p[20]["email"],
                    p[20]["phone"],
                    p[20]["first"],
                    p[20]["last"],
                    p[20]["text"],
                    "2024-01-01",
                ],
                [
                    "0033000000abcDF",
                    p[21]["email"],
                    p[21]["phone"],
                    p[21]["first"],
                    p[21]["last"],
                    p[21]["text"],
                    "never",
                ],
            ],
        ),
        "Task.csv": _csv(
            ["Id", "Subject", "Description", "ActivityDate", "CallDisposition"],
            [
                ["00T3000000abcDE", p[22]["first"], p[22]["text"], "2024-03-01", "Connected"],
                ["00T3000000abcDF", p[23]["first"], p[23]["text"], "soon", "Connected"],
            ],
        ),
        "Opportunity.csv": _csv(
            ["Id", "StageName", "CreatedDate", "Description", "NextStep"],
            [
                ["0063000000abcDE", "Prospecting", "2024-01-01", p[24]["text"], "call"],
                ["0063000000abcDF", "Dreaming", "2024-01-01", p[25]["text"], "call"],
            ],
        ),
        # HubSpot
        "companies.csv": _csv(
            ["Record ID", "Company name", "Phone Number", "Create Date", "Description"],
            [
                ["101", "Gamma", p[26]["phone"], "2024-01-01 10:00", p[26]["text"]],
                ["102", "", p[27]["phone"], "2024-01-01 10:00", p[27]["text"]],
            ],
        ),
        "hubspot-crm-exports-all-contacts.csv": _csv(
            ["Record ID", "Email", "Phone Number", "First Name", "Last Name", "Create Date"],
            [
                [
                    "201",
                    p[28]["email"],
                    p[28]["phone"],
                    p[28]["first"],
                    p[28]["last"],
                    "2024-01-01 10:00",
                ],
                ["202", p[29]["email"], p[29]["phone"], p[29]["first"], p[29]["last"], "yesterday"],
            ],
        ),
        "deals.csv": _csv(
            ["Record ID", "Deal Stage", "Create Date", "Deal Description", "Contact email"],
            [
                ["301", "qualifiedtobuy", "2024-01-01 10:00", p[30]["text"], p[30]["email"]],
                ["302", "nowhere", "2024-01-01 10:00", p[31]["text"], p[31]["email"]],
            ],
        ),
        "owners.csv": _csv(
            ["Owner ID", "Owner name", "Email", "Mobile phone", "Active"],
            [
                ["401", "Cy Dee", p[32]["email"], p[32]["phone"], "true"],
                ["402", "Di Eve", p[33]["email"], p[33]["phone"], "perhaps"],
            ],
        ),
        "engagements.csv": _csv(
            ["Record ID", "Activity type", "Activity date", "Notes", "Body"],
            [
                ["501", "call", "2024-03-01 10:00", p[34]["text"], p[34]["text"]],
                ["502", "smoke signal", "2024-03-01 10:00", p[35]["text"], p[35]["text"]],
            ],
        ),
    }
    return files


def _warehouse_strings(root: Path) -> str:
    """Every string value of every Parquet file, decoded (compression hides nothing)."""
    out = []
    for path in sorted(root.rglob("*.parquet")):
        table = pq.read_table(path)
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_list(column.type):
                out.extend(str(v) for v in column.to_pylist())
    return "\n".join(out)


def _files_text(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file()
    )


@pytest.mark.parametrize("key", [None, "a-secret-key"])
def test_planted_pii_is_nowhere_in_clear(tmp_path: Path, monkeypatch, capfd, key) -> None:
    landing = tmp_path / "landing" / DAY
    landing.mkdir(parents=True)
    for name, text in _files().items():
        (landing / name).write_text(text, encoding="utf-8")
    if key:
        monkeypatch.setenv("SALES_PIPELINE_PII_KEY", key)
    else:
        monkeypatch.delenv("SALES_PIPELINE_PII_KEY", raising=False)
    settings = PipelineSettings(
        landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "warehouse"), max_quarantine=1.0
    )
    home = tmp_path / "instance"
    home.mkdir()
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        job = build_defs(settings=settings).resolve_job_def("ingest_job")
        result = job.execute_in_process(partition_key=DAY, instance=instance, raise_on_error=False)
        events = "\n".join(str(e) for e in result.all_events)
    captured = capfd.readouterr()

    stored = _warehouse_strings(tmp_path / "warehouse")
    # The run did ingest (quarantined every bad row), so the search below is not vacuous.
    assert "Acme" in stored and "Spring" in stored and "unknown_stage" in stored
    assert stored.count('"***"') >= 10
    haystacks = {
        "warehouse": stored,
        "dagster home": _files_text(home),
        "events": events,
        "output": captured.out + captured.err,
    }
    for where, text in haystacks.items():
        for fragment in (EMAIL, PHONE, NAME, TEXT):
            assert fragment not in text, f"{fragment!r} found in the {where}"
