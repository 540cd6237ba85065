"""Schema-drift tables: a profile of every landing file's columns, and the drift found in them.

Partition = landing day (group ingest). `schema_profile` holds one row per file x column as the
file arrived (raw header, before any renaming); `schema_drift` one row per change found by
comparing a file with the last good profiles of its source (entity + vendor preset).
"""

from __future__ import annotations

import pandera.pandas as pa

from schemas.spec import Col, Table

INFERRED_TYPES = ("empty", "bool", "number", "date", "datetime", "text")
DATE_STYLES = (
    "iso",
    "ymd_slash",
    "dmy_dotted",
    "mdy",
    "dmy",
    "slash_ambiguous",
    "epoch_ms",
    "excel_serial",
    "other",
)
DRIFT_KINDS = (
    "new_column",
    "missing_column",
    "renamed_column",
    "type_change",
    "format_change",
    "population_drop",
)

_SOURCE = (
    Col("entity", "string", False),
    Col("source", "string", False, "entity/vendor preset (Salesforce activities: /task, /event)"),
    Col("source_file", "string", False, "landing file, relative to the landing root"),
)

SCHEMA_PROFILE = Table(
    "schema_profile",
    "Per landing file and column: header, inferred type, null share, distinct count, date style.",
    (
        *_SOURCE,
        Col("vendor_format", "string", False, "canonical | salesforce | hubspot"),
        Col(
            "file_status",
            "string",
            False,
            "the file's ingest status (ok | blocked): only ok files are baselines",
            (pa.Check.isin(["ok", "blocked"]),),
        ),
        Col("rows", "int64", False, "records profiled (the file's rows, header not counted)"),
        Col("position", "int64", False, "1-based column position in the header"),
        Col("header", "string", False, "the header as written in the file"),
        Col("header_key", "string", False, "the header as ingest matches it (case, _/space)"),
        Col("canonical_column", "string", description="canonical column it feeds; null = extra"),
        Col(
            "inferred_type",
            "string",
            False,
            "|".join(INFERRED_TYPES),
            (pa.Check.isin(list(INFERRED_TYPES)),),
        ),
        Col("null_share", "float64", False, "share of null tokens (x/empty booleans: 0)"),
        Col("distinct_count", "int64", False, "distinct non-null values"),
        Col(
            "date_style",
            "string",
            description="date/datetime columns: " + "|".join(DATE_STYLES),
            checks=(pa.Check.isin(list(DATE_STYLES)),),
        ),
        Col(
            "value_sketch",
            "list<string>",
            False,
            "bottom-k keyed hashes of distinct values (empty for personal-data columns)",
        ),
    ),
    primary_key=("source_file", "position"),
)

SCHEMA_DRIFT = Table(
    "schema_drift",
    "Schema drift of a landing file against the last good files of its source.",
    (
        *_SOURCE,
        Col(
            "drift_kind",
            "string",
            False,
            "|".join(DRIFT_KINDS),
            (pa.Check.isin(list(DRIFT_KINDS)),),
        ),
        Col("column", "string", False, "header in today's file (missing_column: the lost header)"),
        Col("previous_column", "string", description="renamed_column: the header it replaces"),
        Col("canonical_column", "string", description="canonical column concerned, if any"),
        Col("baseline_file", "string", description="the good file compared with"),
        Col("baseline_day", "date", description="landing day of that file"),
        Col("previous", "string", description="baseline value (type, style, populated share)"),
        Col("current", "string", description="today's value"),
        Col("blocking", "bool", False, "this kind blocks the entity's partition (settings)"),
        Col("detail", "string", False, "what changed and why it matters"),
    ),
)

DRIFT_TABLES: tuple[Table, ...] = (SCHEMA_PROFILE, SCHEMA_DRIFT)
