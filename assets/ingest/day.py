"""One landing day: read every file, detect entity and preset, clean, and account for every row.

No Dagster here. Reference state from earlier days (fx rates, rep names) comes in through a
`PriorState` so this stays testable without a warehouse.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from assets.drift.profile import profile_file
from assets.ingest import pii, presets, readers, values
from assets.ingest.cleaning import (
    CleanContext,
    clean_frame,
    local_midnight,
    missing_required_columns,
)
from assets.ingest.memory import release_arrow_memory, return_large_frees_to_os
from assets.state_logic import latest_versions
from sales_pipeline.core.config import Settings
from schemas import ENTITIES, TABLES, conform
from schemas.drift import SCHEMA_DRIFT, SCHEMA_PROFILE
from schemas.ingest import INGEST_AUDIT, QUARANTINE

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


@dataclass
class AuditRow:
    """One `ingest_audit` row (the table's columns, in order)."""

    entity: str
    source_file: str
    file_sha256: str
    vendor_format: str | None
    encoding: str | None
    delimiter: str | None
    rows_read: int
    rows_clean: int
    rows_quarantined: int
    rows_duplicate: int
    extra_columns: list[str]
    status: str
    message: str | None

    @classmethod
    def of(cls, raw: readers.RawFile, entity: str, **counts) -> AuditRow:
        fields = {"vendor_format": None, "extra_columns": [], "message": None, **counts}
        fields["extra_columns"] = pii.safe_names(sorted(fields["extra_columns"]))
        zero = {"rows_read": 0, "rows_clean": 0, "rows_quarantined": 0, "rows_duplicate": 0}
        return cls(
            entity=entity,
            source_file=raw.source_file,
            file_sha256=raw.sha256,
            encoding=raw.encoding,
            delimiter=raw.delimiter,
            **{**zero, "status": "ok", **fields},
        )


@dataclass
class FileOutcome:
    """What one landing file contributes to the day."""

    audit: AuditRow
    quarantine: pd.DataFrame = field(default_factory=QUARANTINE.empty_frame)
    clean: pd.DataFrame | None = None
    """Typed rows (None for a file that cannot be read)."""
    seen: pd.DataFrame | None = None
    """Keys of every record of the file, quarantined ones too (snapshots delete the others)."""
    blocked: str | None = None
    """Why the file blocks its entity's partition, naming file, reason code and cause."""


# A container that cannot be opened may hold any entity: its error blocks the day even when its
# name matches none (a Salesforce weekly export `WE_00D...zip`, a bomb named `export.zip`).
_BLOCKS_ANY_ENTITY = ("corrupt_archive", "unsafe_archive", "unsafe_path")
_ARCHIVE_NAME = re.compile(r"\.(zip|gz|gzip|bz2|xz|zst|7z|rar|tar|tgz)$", re.IGNORECASE)


def _refused(
    entity: str, raw: readers.RawFile, code: str, message: str, *, rows: int | None = None, **audit
) -> FileOutcome:
    """A file that cannot be read or applied: all its rows quarantined under one file-level
    reason (one quarantine row, null source_row), its entity blocked."""
    rows = raw.rows_read if rows is None else rows
    record = {"file": raw.source_file, "error": message}
    quarantine = pd.DataFrame(
        {
            "entity": [entity],
            "source_file": [raw.source_file],
            "source_row": [pd.NA],
            "reason_code": [code],
            "reason_detail": [message],
            "raw_record": [json.dumps(record, ensure_ascii=False)],
        }
    )
    counts = {"rows_read": rows, "rows_quarantined": rows}
    return FileOutcome(
        audit=AuditRow.of(raw, entity, **counts, status="blocked", message=message, **audit),
        quarantine=conform(quarantine, QUARANTINE),
        blocked=f"{raw.source_file}: {code}: {message.removeprefix(raw.source_file + ': ')}",
    )


def _skipped(raw: readers.RawFile, why: str) -> FileOutcome:
    log.warning("%s: %s; skipped", raw.source_file, why)
    return FileOutcome(audit=AuditRow.of(raw, "unknown", message=f"skipped: {why}"))


def route_file(
    raw: readers.RawFile, patterns: dict[str, list[str]] | None
) -> tuple[str | None, FileOutcome | None]:
    """(entity, outcome) of a landing file before cleaning: a file error is decided first, so an
    unreadable archive is never skipped as an unknown name. An outcome means: nothing to clean."""
    entity = presets.detect_entity(raw.name, patterns)
    error = raw.error
    if error is not None:
        if entity is not None:
            return entity, _refused(entity, raw, error.code, error.message)
        if error.code in _BLOCKS_ANY_ENTITY or _ARCHIVE_NAME.search(raw.name):
            return "unknown", _refused("unknown", raw, error.code, error.message)
        return None, _skipped(raw, f"no entity matches the file name ({error.code})")
    if entity is None:
        return None, _skipped(raw, "no entity matches the file name")
    return entity, None


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


def rep_name_index(reps: pd.DataFrame) -> dict[str, str]:
    """casefolded rep name -> rep_id, from the latest version of each rep."""
    if reps.empty:
        return {}
    latest = latest_versions(reps, ("rep_id",))
    names = latest["rep_name"].str.strip().str.casefold()
    return dict(zip(names, latest["rep_id"], strict=True))


@dataclass
class _DayState:
    """What cleaning the day's files in entity order accumulates."""

    fx: pd.DataFrame
    rep_names: dict[str, str]
    outcomes: list[FileOutcome] = field(default_factory=list)
    tombstones: dict[str, pd.DataFrame] = field(default_factory=dict)
    blocked: dict[str, list[str]] = field(default_factory=dict)
    profiles: list[pd.DataFrame] = field(default_factory=lambda: [SCHEMA_PROFILE.empty_frame()])

    def add(self, entity: str, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.blocked:
            self.blocked.setdefault(entity, []).append(outcome.blocked)


def ingest_day(day: date, settings: Settings, prior: PriorState) -> DayResult:
    """Ingest `<landing>/<day>/`; every file ends up in the audit, every row clean/quarantined/duplicate."""
    day_dir = settings.landing / day.isoformat()
    if not day_dir.is_dir():
        raise LandingFolderMissing(
            f"no landing folder for {day.isoformat()}: {day_dir} does not exist"
        )
    patterns = {
        e: list(settings.entity(e).file_patterns)
        for e in ENTITIES
        if settings.entity(e).file_patterns
    }
    return_large_frees_to_os()
    state = _DayState(fx=prior.fx_rates, rep_names=rep_name_index(prior.reps))
    by_entity: dict[str, list[readers.RawFile]] = {e: [] for e in ENTITIES}
    for raw in readers.read_landing_day(day_dir, settings.landing):
        entity, outcome = route_file(raw, patterns or None)
        if outcome is not None:
            state.add(entity or "unknown", outcome)
        else:
            by_entity[entity].append(raw)
    for entity in ENTITY_ORDER:
        raws = by_entity.pop(entity)
        # Profiled before cleaning, so a large file's profiling peak does not stack on its
        # cleaned rows; both only read the raw frame.
        for raw in raws:
            state.profiles.append(profile_file(entity, raw, settings))
            release_arrow_memory()
        files = []
        for raw in raws:
            files.append((raw, ingest_file(entity, raw, settings, day, state.fx, state.rep_names)))
            release_arrow_memory()
        for outcome in _finish_entity(entity, files, settings, day, prior, state):
            state.add(entity, outcome)
        clean = [o.clean for _, o in files if o.clean is not None]
        if entity == "fx_rates" and clean:
            state.fx = pd.concat([prior.fx_rates, *clean], ignore_index=True)
        if entity == "reps" and clean:
            state.rep_names = rep_name_index(pd.concat([prior.reps, *clean], ignore_index=True))
        del raws, files  # the raw text of an entity is done with: free it before the next one
    return _day_result(day, state)


def _day_result(day: date, state: _DayState) -> DayResult:
    clean: dict[str, list[pd.DataFrame]] = {}
    for outcome in state.outcomes:
        if outcome.clean is not None:
            clean.setdefault(outcome.audit.entity, []).append(outcome.clean)
    for entity, tombstones in state.tombstones.items():
        clean[entity].append(tombstones)
    audit = pd.DataFrame(
        [asdict(o.audit) for o in state.outcomes], columns=INGEST_AUDIT.column_names
    )
    quarantine = [QUARANTINE.empty_frame(), *(o.quarantine for o in state.outcomes)]
    return DayResult(
        day=day,
        clean={
            e: conform(pd.concat(frames, ignore_index=True), TABLES[e])
            for e, frames in clean.items()
        },
        blocked=state.blocked,
        quarantine=conform(pd.concat(quarantine, ignore_index=True), QUARANTINE),
        audit=conform(audit, INGEST_AUDIT),
        profiles=conform(pd.concat(state.profiles, ignore_index=True), SCHEMA_PROFILE),
    )


def _finish_entity(
    entity: str,
    files: list[tuple[readers.RawFile, FileOutcome]],
    settings: Settings,
    day: date,
    prior: PriorState,
    state: _DayState,
) -> list[FileOutcome]:
    """Rules over all of an entity's files of the day: one version per key, snapshot deletes."""
    outcomes = [o for _, o in files]
    if not outcomes or any(o.blocked for o in outcomes):
        return outcomes
    dedupe_across_files(outcomes, TABLES[entity].primary_key)
    if entity not in prior.alive:
        return outcomes
    alive = prior.alive[entity]
    tombstones = snapshot_tombstones(
        entity,
        alive,
        [o.clean for o in outcomes],
        day,
        settings.timezone,
        seen=[o.seen for o in outcomes if o.seen is not None],
    )
    reason = snapshot_refusal(len(alive), len(tombstones), settings.thresholds.max_snapshot_drop)
    if reason is None:
        if len(tombstones):
            state.tombstones[entity] = tombstones
        return outcomes
    return [
        _refused(
            entity,
            raw,
            "snapshot_drop",
            f"{raw.source_file}: {reason}",
            rows=o.audit.rows_read,
            vendor_format=o.audit.vendor_format,
            extra_columns=o.audit.extra_columns,
        )
        for raw, o in files
    ]


def snapshot_refusal(live: int, deleted: int, max_drop: float) -> str | None:
    """Why a full snapshot must not be applied: it is empty, or it deletes more than `max_drop`
    of the live records (an export cut short or filtered, not a mass deletion); else None."""
    if not live or not deleted:
        return None
    if deleted == live:
        return f"the snapshot is empty: applying it would delete all {live} live records"
    share = deleted / live
    if share > max_drop:
        return (
            f"the snapshot would delete {deleted} of {live} live records "
            f"({share:.0%} > max_snapshot_drop {max_drop:.0%})"
        )
    return None


def dedupe_across_files(outcomes: list[FileOutcome], key: tuple[str, ...]) -> None:
    """One version per key in the day's partition, as the table's primary key requires.

    Two files of a day may carry the same record (Salesforce `Task` and a re-sent export): the
    latest `updated_at` wins, equal timestamps the later file; the others count as duplicates of
    the file that carried them, so every file's rows still balance.
    """
    live = [o for o in outcomes if o.clean is not None and len(o.clean)]
    if len(live) < 2:
        return
    both = pd.concat(
        [o.clean[[*key, "updated_at"]].assign(_file=i) for i, o in enumerate(live)],
        ignore_index=True,
    )
    repeated = both.duplicated(list(key), keep=False)
    if not repeated.any():
        return
    contested = both[repeated].sort_values(["updated_at", "_file"], kind="stable")
    losers = contested.index.difference(contested.drop_duplicates(list(key), keep="last").index)
    lose = np.zeros(len(both), dtype=bool)
    lose[losers] = True
    start = 0
    for outcome in live:
        mine = lose[start : start + len(outcome.clean)]
        start += len(outcome.clean)
        if mine.any():
            outcome.clean = outcome.clean[~mine].reset_index(drop=True)
            outcome.audit.rows_clean -= int(mine.sum())
            outcome.audit.rows_duplicate += int(mine.sum())


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


def _clean_context(
    settings: Settings,
    entity: str,
    day: date,
    vendor: str,
    raw: readers.RawFile,
    fx: pd.DataFrame,
    rep_names: dict[str, str],
) -> CleanContext:
    return CleanContext(
        landing_day=day,
        timezone=settings.timezone,
        currency=settings.currency,
        pii_key=settings.pii_key,
        salesforce_ids=vendor == "salesforce",
        excel_serial=raw.name.lower().endswith(".xlsx"),
        stage_aliases=dict(settings.stages),
        date_order=dict(settings.entity(entity).date_order),
        fx_rates=fx,
        rep_names=rep_names,
    )


def _seen_keys(entity: str, frame: pd.DataFrame, salesforce: bool) -> pd.DataFrame | None:
    """Keys of every record in the file (quarantined ones too), typed as the cleaner types IDs."""
    key = TABLES[entity].primary_key
    if len(key) != 1 or not key[0].endswith("_id"):
        return None
    ids = values.parse_id(frame[key[0]], salesforce=salesforce).values
    return pd.DataFrame({key[0]: ids.dropna().unique()}).astype("str")


def ingest_file(
    entity: str,
    raw: readers.RawFile,
    settings: Settings,
    day: date,
    fx: pd.DataFrame,
    rep_names: dict[str, str],
) -> FileOutcome:
    """Clean one readable file of `entity`: its audit row, quarantine, clean rows, and whether
    its quarantine share blocks the entity."""
    options = settings.entity(entity)
    canonical = presets.to_canonical(
        raw, entity, aliases={entity: dict(options.aliases)} if options.aliases else None
    )
    described = {"vendor_format": canonical.vendor_format, "extra_columns": canonical.extra_columns}
    missing = missing_required_columns(entity, list(canonical.frame.columns))
    if missing:
        message = (
            f"{raw.source_file}: required column(s) {', '.join(missing)} missing from the header"
        )
        return _refused(entity, raw, "missing_column", message, **described)
    ctx = _clean_context(settings, entity, day, canonical.vendor_format, raw, fx, rep_names)
    masked = pii.pii_headers(entity, raw.header, canonical.source_columns)
    result = clean_frame(
        entity,
        canonical.frame,
        raw.source_row,
        source_file=raw.source_file,
        ctx=ctx,
        raw_frame=_with_headers(raw),
        pii_headers=masked,
    )
    malformed = _malformed_quarantine(entity, raw, masked)
    quarantine = (
        pd.concat([result.quarantine, malformed], ignore_index=True)
        if len(malformed)
        else result.quarantine
    )
    rows_read = result.rows_read + len(malformed)
    denominator = rows_read - result.rows_duplicate
    share = len(quarantine) / denominator if denominator else 0.0
    message = None
    if share > settings.max_quarantine:
        message = (
            f"{raw.source_file}: {len(quarantine)} of {denominator} rows quarantined "
            f"({share:.1%} > {settings.max_quarantine:.1%})"
        )
    audit = AuditRow.of(
        raw,
        entity,
        **described,
        rows_read=rows_read,
        rows_clean=result.rows_clean,
        rows_quarantined=len(quarantine),
        rows_duplicate=result.rows_duplicate,
        status="blocked" if message else "ok",
        message=message,
    )
    return FileOutcome(
        audit=audit,
        quarantine=quarantine,
        clean=result.clean,
        # Only a snapshot needs the keys of every record (a delta deletes nothing).
        seen=_seen_keys(entity, canonical.frame, ctx.salesforce_ids)
        if options.load_mode == "snapshot"
        else None,
        blocked=f"{raw.source_file}: quarantine_share: {message.split(': ', 1)[1]}"
        if message
        else None,
    )
