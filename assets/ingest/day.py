"""One landing day: read every file, detect entity and preset, clean, and account for every row.

No Dagster here. Reference state from earlier days (fx rates, rep names) comes in through a
`PriorState` so this stays testable without a warehouse.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from assets.drift.profile import profile_file
from assets.ingest import presets, readers, values
from assets.ingest.cleaning import (
    CleanContext,
    clean_frame,
    local_midnight,
    missing_required_columns,
)
from assets.state_logic import latest_versions
from sales_pipeline.core.config import Settings
from schemas import ENTITIES, TABLES, conform
from schemas.drift import SCHEMA_DRIFT, SCHEMA_PROFILE
from schemas.ingest import FILE_REASONS, INGEST_AUDIT, PII_COLUMNS, QUARANTINE

log = logging.getLogger(__name__)

# fx rates convert money and reps resolve owner names, so both are cleaned before the rest.
ENTITY_ORDER = ("fx_rates", "reps", *[e for e in ENTITIES if e not in ("fx_rates", "reps")])


class LandingFolderMissing(FileNotFoundError):
    """A scheduled day without a landing folder: an error, never an empty output."""


@dataclass(frozen=True)
class PriorState:
    """Clean records of earlier days that today's cleaning needs."""

    fx_rates: pd.DataFrame
    reps: pd.DataFrame
    alive: dict[str, pd.DataFrame] = field(default_factory=dict)
    """State as of the previous day of each entity loaded as full snapshots (load_mode = snapshot)."""


@dataclass
class DayResult:
    day: date
    clean: dict[str, pd.DataFrame]
    """Clean rows per entity present today (blocked entities included; the asset withholds them)."""
    blocked: dict[str, list[str]] = field(default_factory=dict)
    """entity -> reasons (naming file and cause) why its partition must not be written."""
    quarantine: pd.DataFrame = field(default_factory=QUARANTINE.empty_frame)
    audit: pd.DataFrame = field(default_factory=INGEST_AUDIT.empty_frame)
    profiles: pd.DataFrame = field(default_factory=SCHEMA_PROFILE.empty_frame)
    """Column profile of every readable file (schema drift compares it with earlier days)."""
    drift: pd.DataFrame = field(default_factory=SCHEMA_DRIFT.empty_frame)

    def quarantine_counts(self, entity: str | None = None) -> dict[str, int]:
        q = (
            self.quarantine
            if entity is None
            else self.quarantine[self.quarantine["entity"] == entity]
        )
        return {str(k): int(v) for k, v in q["reason_code"].value_counts().sort_index().items()}


def _file_quarantine(entity: str, raw: readers.RawFile, code: str, message: str) -> pd.DataFrame:
    record = {"file": raw.source_file, "error": message}
    return pd.DataFrame(
        {
            "entity": [entity],
            "source_file": [raw.source_file],
            "source_row": [pd.NA],
            "reason_code": [code],
            "reason_detail": [message],
            "raw_record": [json.dumps(record, ensure_ascii=False)],
        }
    )


def _malformed_quarantine(entity: str, raw: readers.RawFile, pii_headers: set[str]) -> pd.DataFrame:
    bad = raw.malformed
    if bad.empty:
        return QUARANTINE.empty_frame()
    detail = bad["detail"].astype("str")
    detail = detail.where(detail.str.startswith("malformed_line"), "malformed_line: " + detail)
    if pii_headers:
        # A line that does not split into the header's fields cannot be masked column by column:
        # in a file with PII columns the whole line is masked (source_row locates it in the file).
        records = [{"line": "***", "masked": "the file has PII columns"}] * len(bad)
    else:
        records = [{"line": t} for t in bad["raw_text"].astype("str")]
    return pd.DataFrame(
        {
            "entity": entity,
            "source_file": raw.source_file,
            "source_row": bad["source_row"].to_numpy(),
            "reason_code": "malformed_line",
            "reason_detail": detail.to_numpy(),
            "raw_record": [json.dumps(r, ensure_ascii=False) for r in records],
        }
    )


def _audit_row(
    raw: readers.RawFile,
    entity: str,
    vendor: str | None,
    extra: list[str],
    counts: tuple[int, int, int, int],
    status: str,
    message: str | None,
) -> dict:
    read, clean, quarantined, duplicate = counts
    return {
        "entity": entity,
        "source_file": raw.source_file,
        "file_sha256": raw.sha256,
        "vendor_format": vendor,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
        "rows_read": read,
        "rows_clean": clean,
        "rows_quarantined": quarantined,
        "rows_duplicate": duplicate,
        "extra_columns": sorted(extra),
        "status": status,
        "message": message,
    }


def rep_name_index(reps: pd.DataFrame) -> dict[str, str]:
    """casefolded rep name -> rep_id, from the latest version of each rep."""
    if reps.empty:
        return {}
    latest = latest_versions(reps, ("rep_id",))
    names = latest["rep_name"].str.strip().str.casefold()
    return dict(zip(names, latest["rep_id"], strict=True))


def ingest_day(
    day: date,
    settings: Settings,
    prior: PriorState,
) -> DayResult:
    """Ingest `<landing>/<day>/`; every file ends up in the audit, every row clean/quarantined/duplicate."""
    day_dir = settings.landing / day.isoformat()
    if not day_dir.is_dir():
        raise LandingFolderMissing(
            f"no landing folder for {day.isoformat()}: {day_dir} does not exist"
        )
    raws = readers.read_landing_day(day_dir, settings.landing)
    patterns = {
        e: list(settings.entity(e).file_patterns)
        for e in ENTITIES
        if settings.entity(e).file_patterns
    }

    audit_rows: list[dict] = []
    quarantines: list[pd.DataFrame] = []
    profiles: list[pd.DataFrame] = [SCHEMA_PROFILE.empty_frame()]
    by_entity: dict[str, list[tuple[readers.RawFile, presets.CanonicalFrame | None]]] = {
        e: [] for e in ENTITIES
    }
    for raw in raws:
        entity = presets.detect_entity(raw.name, patterns or None)
        if raw.error is not None and raw.error.code not in FILE_REASONS:
            log.warning("%s: %s; skipped", raw.source_file, raw.error.message)
            audit_rows.append(
                _audit_row(
                    raw,
                    entity or "unknown",
                    None,
                    [],
                    (0, 0, 0, 0),
                    "ok",
                    f"skipped: {raw.error.message}",
                )
            )
            continue
        if entity is None:
            log.warning("%s: no entity matches this file name; skipped", raw.source_file)
            audit_rows.append(
                _audit_row(
                    raw,
                    "unknown",
                    None,
                    [],
                    (0, 0, 0, 0),
                    "ok",
                    "skipped: no entity matches the file name",
                )
            )
            continue
        by_entity[entity].append((raw, None))

    clean: dict[str, list[pd.DataFrame]] = {}
    seen: dict[str, list[pd.DataFrame]] = {}
    blocked: dict[str, list[str]] = {}
    today_fx = prior.fx_rates
    rep_names = rep_name_index(prior.reps)
    for entity in ENTITY_ORDER:
        for raw, _ in by_entity[entity]:
            report = _ingest_file(entity, raw, settings, day, today_fx, rep_names)
            profiles.append(profile_file(entity, raw, settings))
            audit_rows.append(report.pop("audit"))
            quarantines.append(report["quarantine"])
            if report["blocked"]:
                blocked.setdefault(entity, []).append(report["blocked"])
            if report["clean"] is not None:
                clean.setdefault(entity, []).append(report["clean"])
            if report.get("seen") is not None:
                seen.setdefault(entity, []).append(report["seen"])
        if entity in prior.alive and clean.get(entity) and entity not in blocked:
            clean[entity].append(
                snapshot_tombstones(
                    entity,
                    prior.alive[entity],
                    clean[entity],
                    day,
                    settings.timezone,
                    seen=seen.get(entity),
                )
            )
        if entity == "fx_rates" and clean.get("fx_rates"):
            today_fx = pd.concat([prior.fx_rates, *clean["fx_rates"]], ignore_index=True)
        if entity == "reps" and clean.get("reps"):
            rep_names = rep_name_index(pd.concat([prior.reps, *clean["reps"]], ignore_index=True))

    return DayResult(
        day=day,
        clean={
            e: conform(pd.concat(frames, ignore_index=True), TABLES[e])
            for e, frames in clean.items()
        },
        blocked=blocked,
        quarantine=conform(
            pd.concat([QUARANTINE.empty_frame(), *quarantines], ignore_index=True), QUARANTINE
        ),
        audit=conform(pd.DataFrame(audit_rows, columns=INGEST_AUDIT.column_names), INGEST_AUDIT),
        profiles=conform(pd.concat(profiles, ignore_index=True), SCHEMA_PROFILE),
    )


def snapshot_tombstones(
    entity: str,
    alive: pd.DataFrame,
    today: list[pd.DataFrame],
    day: date,
    tz: str,
    *,
    seen: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Records alive yesterday but absent from today's full snapshot are deleted as of today.

    A tombstone copies the record's last version with is_deleted = True, updated_at = the start of
    the landing day (or just after the last version, if that is later), `_source_row` 0 because no
    file row produced it (so it is not part of any file's rows_read). `seen` holds the keys of
    every record the snapshot carried, quarantined ones included: a record sent with a bad value
    is not absent from the snapshot, so it is not deleted.
    """
    key = list(TABLES[entity].primary_key)
    frames = [f[key] for f in today] + [f[key] for f in seen or []]
    present = pd.concat(frames, ignore_index=True).dropna(how="all").drop_duplicates()
    gone = alive.merge(present, on=key, how="left", indicator=True)
    gone = gone[gone["_merge"] == "left_only"].drop(columns="_merge")
    if gone.empty:
        return TABLES[entity].empty_frame()
    start = local_midnight(pd.Timestamp(day), tz)
    after_last = gone["updated_at"] + pd.Timedelta(microseconds=1)
    return conform(
        gone.assign(
            is_deleted=True,
            updated_at=after_last.where(after_last > start, start),
            _source_file=today[0]["_source_file"].iloc[0] if len(today[0]) else "snapshot",
            _source_row=0,
        ),
        TABLES[entity],
    )


def _with_headers(raw: readers.RawFile) -> pd.DataFrame:
    """The raw frame with the file's own header names (what quarantine keeps as the raw record)."""
    names: list[str] = []
    for header in raw.header:
        name, n = header, 1
        while name in names:  # a repeated header stays distinct: 'Name', 'Name (2)'
            n += 1
            name = f"{header} ({n})"
        names.append(name)
    return raw.frame.set_axis(names, axis=1)


def _detail(raw: readers.RawFile) -> str:
    """The reader's error message without the file name the blocking reason already leads with."""
    message = raw.error.message
    prefix = f"{raw.source_file}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _ingest_file(
    entity: str,
    raw: readers.RawFile,
    settings: Settings,
    day: date,
    fx: pd.DataFrame,
    rep_names: dict[str, str],
) -> dict:
    """Clean one file; returns its audit row, quarantine, clean rows and blocking reason (if any)."""
    if raw.error is not None:
        message = f"{raw.source_file}: {raw.error.message}"
        return {
            "audit": _audit_row(
                raw, entity, None, [], (raw.rows_read, 0, raw.rows_read, 0), "blocked", message
            ),
            "quarantine": _file_quarantine(entity, raw, raw.error.code, message),
            "clean": None,
            "blocked": f"{raw.source_file}: {raw.error.code}: {_detail(raw)}",
        }
    options = settings.entity(entity)
    canonical = presets.to_canonical(
        raw, entity, aliases={entity: dict(options.aliases)} if options.aliases else None
    )
    missing = missing_required_columns(entity, list(canonical.frame.columns))
    if missing:
        message = (
            f"{raw.source_file}: required column(s) {', '.join(missing)} missing from the header"
        )
        return {
            "audit": _audit_row(
                raw,
                entity,
                canonical.vendor_format,
                canonical.extra_columns,
                (raw.rows_read, 0, raw.rows_read, 0),
                "blocked",
                message,
            ),
            "quarantine": _file_quarantine(entity, raw, "missing_column", message),
            "clean": None,
            "blocked": f"{raw.source_file}: missing_column: {', '.join(missing)}",
        }
    ctx = CleanContext(
        landing_day=day,
        timezone=settings.timezone,
        currency=settings.currency,
        pii_key=settings.pii_key,
        salesforce_ids=canonical.vendor_format == "salesforce",
        excel_serial=raw.name.lower().endswith(".xlsx"),
        stage_aliases=dict(settings.stages),
        date_order=dict(options.date_order),
        fx_rates=fx,
        rep_names=rep_names,
    )
    pii_headers = {
        canonical.source_columns[c] for c in PII_COLUMNS if c in canonical.source_columns
    }
    if entity == "contacts":
        # A contact export carries personal data beyond the canonical PII columns (full name,
        # mobile, mailing address): in quarantine keep only the non-personal mapped columns.
        kept = {h for c, h in canonical.source_columns.items() if c not in PII_COLUMNS}
        pii_headers |= {h for h in raw.header if h not in kept}
    key = TABLES[entity].primary_key
    seen = None
    if len(key) == 1 and key[0].endswith("_id"):
        # Keys of every record in the file (quarantined ones too), typed as the cleaner types IDs.
        ids = values.parse_id(canonical.frame[key[0]], salesforce=ctx.salesforce_ids).values
        seen = pd.DataFrame({key[0]: ids.dropna().unique()}).astype("str")
    result = clean_frame(
        entity,
        canonical.frame,
        raw.source_row,
        source_file=raw.source_file,
        ctx=ctx,
        raw_frame=_with_headers(raw),
        pii_headers=pii_headers,
    )
    malformed = _malformed_quarantine(entity, raw, pii_headers)
    quarantine = (
        pd.concat([result.quarantine, malformed], ignore_index=True)
        if len(malformed)
        else result.quarantine
    )
    rows_read = result.rows_read + len(malformed)
    quarantined = len(quarantine)
    denominator = rows_read - result.rows_duplicate
    share = quarantined / denominator if denominator else 0.0
    status, message, blocked = "ok", None, None
    if share > settings.max_quarantine:
        status = "blocked"
        message = f"{raw.source_file}: {quarantined} of {denominator} rows quarantined ({share:.1%} > {settings.max_quarantine:.1%})"
        blocked = f"{raw.source_file}: quarantine_share: {message.split(': ', 1)[1]}"
    return {
        "audit": _audit_row(
            raw,
            entity,
            canonical.vendor_format,
            canonical.extra_columns,
            (rows_read, result.rows_clean, quarantined, result.rows_duplicate),
            status,
            message,
        ),
        "quarantine": quarantine,
        "clean": result.clean,
        "blocked": blocked,
        "seen": seen,
    }
