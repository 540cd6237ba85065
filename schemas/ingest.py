"""Ingestion tables: one typed table per CRM entity, plus `quarantine` and `ingest_audit`.

Check names on entity columns are the contract's row reason codes, so a pandera failure case maps
straight back to a quarantine reason. Partition = landing day; each holds that day's records.
"""

from __future__ import annotations

import pandera.pandas as pa

from schemas.columns import CANONICAL_COLUMNS, STAGES, required_columns
from schemas.columns import PII_COLUMNS as _PII
from schemas.spec import Col, Table

OPEN_STAGES = STAGES[:5]
ACTIVITY_TYPES = ("call", "email", "meeting", "task", "demo", "other")
ORDER_STATUSES = ("completed", "cancelled", "refunded")


def _non_negative() -> tuple[pa.Check, ...]:
    return (pa.Check.ge(0, name="negative_amount"),)


def _one_of(values: tuple[str, ...], reason: str = "invalid_value") -> tuple[pa.Check, ...]:
    return (pa.Check.isin(list(values), name=reason),)


def _id(name: str, nullable: bool = True, description: str = "") -> Col:
    return Col(name, "string", nullable, description or f"{name} (string ID, never numeric)")


_LINEAGE = (
    Col("_source_file", "string", False, "landing file, relative to the landing root"),
    Col("_source_row", "int64", False, "1-based record number in that file"),
)
_VERSION = (
    Col(
        "updated_at", "timestamp", False, "last change (falls back to created_at, then landing day)"
    ),
    Col("is_deleted", "bool", False, "tombstone: the record is deleted as of updated_at"),
)


def _money(name: str, required: bool = False) -> tuple[Col, ...]:
    return (
        Col(
            name,
            "float64",
            not required,
            f"{name} in reporting currency, rounded to cents",
            _non_negative(),
        ),
        Col(
            f"{name}_local",
            "float64",
            not required,
            f"{name} in its original currency",
            _non_negative(),
        ),
        Col("currency", "string", False, "ISO currency of the original value"),
    )


ACCOUNTS = Table(
    "accounts",
    "Accounts (companies) as exported on the landing day. One row per account version.",
    (
        _id("account_id", False),
        Col("account_name", "string", False, "account name"),
        Col("industry", "string"),
        Col("region", "string"),
        Col("country", "string", description="country; 'NA' is Namibia, not null"),
        Col("employees", "int64", checks=(pa.Check.ge(0, name="invalid_number"),)),
        Col("annual_revenue", "float64", checks=_non_negative()),
        _id("owner_id"),
        Col("created_at", "timestamp", False, "creation time (missing: the landing day)"),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("account_id",),
)

CONTACTS = Table(
    "contacts",
    "Contacts; PII is stored only as HMAC-SHA256 hashes (`*_hash`), null without a key.",
    (
        _id("contact_id", False),
        _id("account_id"),
        Col("email_hash", "string", pii=True),
        Col("phone_hash", "string", pii=True),
        Col("first_name_hash", "string", pii=True),
        Col("last_name_hash", "string", pii=True),
        Col("title", "string"),
        Col("created_at", "timestamp", False),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("contact_id",),
)

OPPORTUNITIES = Table(
    "opportunities",
    "Opportunities (deals), one row per version sent on the landing day.",
    (
        _id("opportunity_id", False),
        _id("account_id"),
        _id("owner_id"),
        Col("stage", "string", False, "canonical stage", _one_of(STAGES, "unknown_stage")),
        *_money("amount"),
        Col(
            "probability",
            "float64",
            False,
            "win probability 0..100 (from the stage when missing)",
            (pa.Check.in_range(0, 100, name="probability_out_of_range"),),
        ),
        Col("lead_source", "string"),
        _id("campaign_id"),
        Col("product", "string"),
        Col("created_at", "timestamp", False),
        Col("close_date", "date", description="expected or actual close date"),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("opportunity_id",),
)

ORDERS = Table(
    "orders",
    "Orders from billing/ERP. Revenue = completed orders.",
    (
        _id("order_id", False),
        _id("account_id", False),
        Col("order_date", "date", False),
        *_money("amount", required=True),
        Col("product", "string"),
        Col("quantity", "int64", checks=(pa.Check.ge(0, name="invalid_number"),)),
        Col("status", "string", False, "completed | cancelled | refunded", _one_of(ORDER_STATUSES)),
        _id("opportunity_id"),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("order_id",),
)

ACTIVITIES = Table(
    "activities",
    "Sales activities (calls, emails, meetings, tasks, demos).",
    (
        _id("activity_id", False),
        _id("account_id"),
        _id("contact_id"),
        _id("opportunity_id"),
        _id("owner_id"),
        Col(
            "activity_type",
            "string",
            False,
            "call|email|meeting|task|demo|other",
            _one_of(ACTIVITY_TYPES),
        ),
        Col("occurred_at", "timestamp", False),
        Col("duration_minutes", "float64", checks=(pa.Check.ge(0, name="invalid_number"),)),
        Col("outcome", "string", free_text=True),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("activity_id",),
)

REPS = Table(
    "reps",
    "Sales reps (CRM users / owners).",
    (
        _id("rep_id", False),
        Col("rep_name", "string", False),
        Col("team", "string"),
        Col("region", "string"),
        _id("manager_id"),
        Col("is_active", "bool"),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("rep_id",),
)

CAMPAIGNS = Table(
    "campaigns",
    "Marketing campaigns and their cost.",
    (
        _id("campaign_id", False),
        Col("campaign_name", "string", False),
        Col("channel", "string"),
        Col("start_date", "date"),
        Col("end_date", "date"),
        *_money("cost", required=True),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("campaign_id",),
)

TARGETS = Table(
    "targets",
    "Monthly sales targets: rep rows, region rows, and company rows (neither rep nor region).",
    (
        Col(
            "period",
            "string",
            False,
            "YYYY-MM",
            (pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$", name="invalid_date"),),
        ),
        _id("rep_id"),
        Col("region", "string"),
        *_money("target_amount", required=True),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("period", "rep_id", "region"),
)

FX_RATES = Table(
    "fx_rates",
    "FX rates: units of reporting currency for one unit of `currency` on `rate_date`.",
    (
        Col("rate_date", "date", False),
        Col("currency", "string", False),
        Col("rate", "float64", False, checks=(pa.Check.gt(0, name="invalid_number"),)),
        *_VERSION,
        *_LINEAGE,
    ),
    primary_key=("rate_date", "currency"),
)

ENTITY_TABLES: tuple[Table, ...] = (
    ACCOUNTS,
    CONTACTS,
    OPPORTUNITIES,
    ORDERS,
    ACTIVITIES,
    REPS,
    CAMPAIGNS,
    TARGETS,
    FX_RATES,
)
ENTITIES: tuple[str, ...] = tuple(t.name for t in ENTITY_TABLES)

ROW_REASONS = (
    "missing_required",
    "invalid_number",
    "negative_amount",
    "invalid_date",
    "future_date",
    "invalid_value",
    "unknown_stage",
    "probability_out_of_range",
    "mangled_id",
    "no_fx_rate",
    "malformed_line",
)
READY_MARKER = "_SUCCESS"
"""The exporter's "folder complete" marker at the top of a landing day (the sensor waits for it):
the one landing entry that is not data, so the only one without an `ingest_audit` row."""

FILE_REASONS = (
    "empty_file",
    "missing_column",
    "undecodable",
    "corrupt_archive",
    "unsafe_archive",
    # Beyond the contract's list (README "Decisions"):
    "unsupported_format",  # a format that is not read: .xls, .json, .csv.bz2, a zip in a zip
    "unsafe_path",  # a symbolic link leaving the landing root
    "snapshot_drop",  # a full snapshot that is empty or deletes too many live records
)

QUARANTINE = Table(
    "quarantine",
    "Every rejected row (or unreadable file) with its reason and the raw record, PII masked.",
    (
        Col("entity", "string", False, "entity, or 'unknown'"),
        Col("source_file", "string", False),
        Col(
            "source_row", "int64", description="1-based record number; null for a file-level reason"
        ),
        Col(
            "reason_code",
            "string",
            False,
            "first reason in contract order",
            _one_of(ROW_REASONS + FILE_REASONS),
        ),
        Col("reason_detail", "string", False, "every problem found, with column names"),
        Col("raw_record", "string", False, "the raw record as JSON (PII masked)"),
    ),
)

INGEST_AUDIT = Table(
    "ingest_audit",
    "One row per landing file: what was read and where every row went.",
    (
        Col("entity", "string", False),
        Col("source_file", "string", False),
        Col("file_sha256", "string", False),
        Col("vendor_format", "string", description="canonical | salesforce | hubspot"),
        Col("encoding", "string"),
        Col("delimiter", "string"),
        Col("rows_read", "int64", False),
        Col("rows_clean", "int64", False),
        Col("rows_quarantined", "int64", False),
        Col("rows_duplicate", "int64", False),
        Col("extra_columns", "list<string>", False, "vendor columns not stored"),
        Col(
            "status",
            "string",
            False,
            "ok | blocked | skipped",
            _one_of(("ok", "blocked", "skipped")),
        ),
        Col("message", "string", description="why the file was blocked or skipped"),
    ),
)

INGEST_TABLES: tuple[Table, ...] = (*ENTITY_TABLES, QUARANTINE, INGEST_AUDIT)

REQUIRED_INPUT: dict[str, tuple[str, ...]] = {
    entity: tuple(required_columns(entity)) for entity in CANONICAL_COLUMNS
}
"""Columns an input file must carry (contract `*`); a file without one is unreadable (`missing_column`)."""

PII_COLUMNS: tuple[str, ...] = tuple(sorted(_PII))
"""Canonical input columns holding personal data: stored only as `<name>_hash`, masked in quarantine."""

MONEY_COLUMNS: dict[str, str] = {
    "opportunities": "amount",
    "orders": "amount",
    "campaigns": "cost",
    "targets": "target_amount",
}
"""The money column of each entity that is converted to the reporting currency."""
