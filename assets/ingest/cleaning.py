"""Raw canonical text -> typed entity rows, quarantined rows and duplicates, for one file.

Pure and vectorised: every column is parsed once for the whole file, problems are collected as
boolean masks, and pandera validates the typed frame lazily; its failure cases are mapped back to
rows through the check names, which are the contract's reason codes (`schemas/ingest.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from assets.ingest import values
from assets.ingest.currency import lookup_rates, money_date
from assets.ingest.parallel import map_columns
from assets.ingest.pii import hash_pii, raw_records_json
from assets.ingest.presets import DEFAULT_PROBABILITY, map_stage
from schemas import RECORD_RULES, TABLES, conform
from schemas.ingest import MONEY_COLUMNS, PII_COLUMNS, QUARANTINE, REQUIRED_INPUT, ROW_REASONS

# A record whose cell holds a line break in a single-line column was not split as its file
# meant (two stray quotes swallow the lines between them): its other problems are symptoms, so
# `malformed_line` is its code whatever else it has.
REASON_RANK = {reason: rank for rank, reason in enumerate(ROW_REASONS)} | {"malformed_line": -1}
CLOSED_STAGES = ("closed_won", "closed_lost")
MULTILINE_COLUMNS = frozenset(c.name for t in TABLES.values() for c in t.columns if c.free_text)
"""Free-text columns where a line break is a value; in every other column it is a broken record."""
MAX_ID_BYTES = 255
CURRENCY_CODE = r"^[A-Z]{3}$"


@dataclass(frozen=True)
class CleanContext:
    """What cleaning needs besides the file: the day, the settings, and reference state."""

    landing_day: date
    timezone: str = "UTC"
    currency: str = "USD"
    pii_key: str | None = None
    salesforce_ids: bool = False
    excel_serial: bool = False
    stage_aliases: dict[str, str] = field(default_factory=dict)
    date_order: dict[str, str] = field(default_factory=dict)
    fx_rates: pd.DataFrame | None = None
    """rate_date (datetime64), currency, rate: every known rate up to the landing day."""
    rep_names: dict[str, str] = field(default_factory=dict)
    """casefolded rep name -> rep_id, to resolve owner references given as names."""

    @property
    def day_start(self) -> pd.Timestamp:
        return local_midnight(pd.Timestamp(self.landing_day), self.timezone)

    @property
    def day_end(self) -> pd.Timestamp:
        """Exclusive end of the landing day in the settings time zone, as UTC."""
        return local_midnight(pd.Timestamp(self.landing_day) + pd.Timedelta(days=1), self.timezone)


def local_midnight(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    """00:00 of a naive date in `tz`, as UTC. Same rule as the KPI calendar: a midnight lost to a
    DST jump is the first instant after the gap; an ambiguous one is the later (standard) instant."""
    return day.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC")


@dataclass
class CleanResult:
    clean: pd.DataFrame
    """Typed rows of the entity table (latest version per key in the file)."""
    quarantine: pd.DataFrame
    rows_read: int
    rows_duplicate: int

    @property
    def rows_clean(self) -> int:
        return len(self.clean)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


class _Problems:
    """Row problems as (reason, column, mask) triples; resolved to one code + detail per row."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.items: list[tuple[str, str, np.ndarray]] = []

    def add(self, reason: str, column: str, mask: pd.Series | np.ndarray) -> None:
        arr = np.array(mask, dtype=bool, copy=True)
        if arr.any():
            self.items.append((reason, column, arr))

    def any_mask(self) -> np.ndarray:
        out = np.zeros(len(self.index), dtype=bool)
        for _, _, arr in self.items:
            out |= arr
        return out

    def has(self, reason: str, column: str) -> np.ndarray:
        out = np.zeros(len(self.index), dtype=bool)
        for r, c, arr in self.items:
            if r == reason and c == column:
                out |= arr
        return out

    def resolve(self) -> pd.DataFrame:
        """position, reason_code (first in contract order), reason_detail (all of them)."""
        if not self.items:
            return pd.DataFrame({"position": [], "reason_code": [], "reason_detail": []})
        parts = []
        for reason, column, arr in self.items:
            pos = np.flatnonzero(arr)
            parts.append(
                pd.DataFrame(
                    {
                        "position": pos,
                        "rank": REASON_RANK[reason],
                        "reason": reason,
                        "column": column,
                    }
                )
            )
        long = pd.concat(parts, ignore_index=True).drop_duplicates(["position", "reason", "column"])
        long = long.sort_values(["position", "rank", "column"], kind="stable")
        long["item"] = long["reason"] + " (" + long["column"] + ")"
        grouped = long.groupby("position", sort=True)
        return pd.DataFrame(
            {
                "position": grouped["position"].first().to_numpy(),
                "reason_code": grouped["reason"].first().to_numpy(),
                "reason_detail": grouped["item"].agg("; ".join).to_numpy(),
            }
        )


def _fraction_scaled(prob: pd.Series) -> pd.Series:
    """Probabilities given as fractions (every value of the column in 0..1) become 0..100.

    Literally the contract's rule: a column whose values are all 0 or 1 is read as fractions too.
    """
    present = prob.dropna()
    if len(present) and present.between(0, 1).all():
        return prob * 100.0
    return prob


def _day_first(ctx: CleanContext, column: str) -> bool | None:
    order = ctx.date_order.get(column)
    return {"day_first": True, "month_first": False}.get(order) if order else None


def _column_kind(entity: str, name: str, type_: str) -> str:
    if name in PII_COLUMNS:
        return "pii"
    if name == "stage":
        return "stage"
    if name in ("activity_type", "status"):
        return "enum"
    if name == "currency":
        return "currency"
    if name == "period":
        return "period"
    if name.endswith("_id"):
        return "id"
    return type_


def _input_columns(entity: str) -> list[tuple[str, str]]:
    """(canonical input column, parse kind) for every column a file of this entity may carry."""
    table = TABLES[entity]
    out: list[tuple[str, str]] = []
    for col in table.columns:
        if col.name.startswith("_") or col.name.endswith("_local") or col.name.endswith("_hash"):
            continue
        out.append((col.name, _column_kind(entity, col.name, col.type)))
    if entity == "contacts":
        out.extend((c, "pii") for c in PII_COLUMNS)
    return out


def _period(raw: pd.Series) -> values.Parsed:
    """Target periods: 'YYYY-MM' (also 'YYYY-M', 'YYYY/MM', or any date inside the month)."""
    text = values.parse_text(raw)
    match = text.str.extract(r"^(\d{4})[-/.](\d{1,2})$")
    month = pd.to_numeric(match[1], errors="coerce")
    out = match[0] + "-" + month.astype("Int64").astype("str").str.zfill(2)
    from_date = values.parse_date(text.where(match[0].isna()))
    out = out.where(match[0].notna(), from_date.values.dt.strftime("%Y-%m"))
    valid = out.str.match(r"^\d{4}-(0[1-9]|1[0-2])$").fillna(False).astype(bool)
    invalid = text.notna() & ~valid
    return values.Parsed(values=out.where(valid).astype("str"), invalid=invalid)


def _parse_columns(
    entity: str, frame: pd.DataFrame, ctx: CleanContext, problems: _Problems
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Parse every present canonical column; returns (typed columns, raw-is-null masks).

    A cell is null in the input exactly when its parse is NA without being invalid, so the null
    masks come from the parses (trimming and matching null tokens again would double the cost).
    Each typed column's parse is pure and runs side by side with the others' for a large file
    (text columns parse one at a time: side by side they cost ~90 MB more at 2M rows); the
    problems are then recorded in column order, as a sequential parse records them.
    """
    typed: dict[str, pd.Series] = {}
    raw_null: dict[str, pd.Series] = {}
    columns = [(name, kind) for name, kind in _input_columns(entity) if name in frame.columns]
    typed_columns = [(name, kind) for name, kind in columns if kind not in _TEXT_KINDS]
    parses = map_columns(
        lambda c: _parse_column(c[0], c[1], frame[c[0]], ctx), typed_columns, len(frame)
    )
    parsed = dict(zip(typed_columns, parses, strict=True))
    for name, kind in _input_columns(entity):
        if name not in frame.columns:
            raw_null[name] = pd.Series(True, index=frame.index)
            continue
        column = parsed.pop((name, kind), None) or _parse_column(name, kind, frame[name], ctx)
        for reason, mask in column.problems:
            problems.add(reason, name, mask)
        if kind == "pii":
            typed[f"{name}_hash"] = hash_pii(frame[name], ctx.pii_key, column=name)
            continue
        raw_null[name] = column.null
        typed[name] = column.value
    return typed, raw_null


_TEXT_KINDS = ("pii", "stage", "enum", "currency", "string")


@dataclass(frozen=True)
class _ColumnParse:
    problems: list[tuple[str, pd.Series | np.ndarray]]
    """(reason, mask) in the order a sequential parse records them."""
    value: pd.Series | None = None
    null: pd.Series | None = None
    """Raw-is-null: the cell was absent or a null token (not invalid)."""


def _parse_column(name: str, kind: str, raw: pd.Series, ctx: CleanContext) -> _ColumnParse:
    """One column's shape problems and typed value (PII is hashed by the caller, in order)."""
    found = _shape_problems(name, kind, raw)
    if kind == "pii":
        return _ColumnParse(found)
    if kind in _TEXT_KINDS:
        text = values.parse_text(raw, na_is_null=name != "country")
        value, problem = _text_value(kind, text, ctx)
        return _ColumnParse([*found, *([problem] if problem else [])], value, text.isna())
    result = _parse_typed(kind, name, raw, ctx)
    found.append((_INVALID_REASON[kind], result.invalid))
    return _ColumnParse(found, result.values, result.values.isna() & ~result.invalid)


def _shape_problems(
    name: str, kind: str, raw: pd.Series
) -> list[tuple[str, pd.Series | np.ndarray]]:
    """Values, not only types: no control characters (NUL included), no line break outside a
    free-text column, IDs of bounded length. Masks only (a column's byte sizes are 8 bytes a
    cell, too many to keep for every column of a large file)."""
    breaks, control, sizes = values.cell_shape(raw)
    found = [] if name in MULTILINE_COLUMNS else [("malformed_line", breaks)]
    found.append(("mangled_id" if kind == "id" else "invalid_value", control))
    if kind == "id":
        found.append(("mangled_id", sizes > MAX_ID_BYTES))
    return found


_INVALID_REASON = {
    "id": "mangled_id",
    "float64": "invalid_number",
    "int64": "invalid_number",
    "bool": "invalid_value",
    "timestamp": "invalid_date",
    "date": "invalid_date",
    "period": "invalid_date",
}


def _parse_typed(kind: str, name: str, raw: pd.Series, ctx: CleanContext) -> values.Parsed:
    if kind == "id":
        return values.parse_id(raw, salesforce=ctx.salesforce_ids)
    if kind == "float64":
        return values.parse_number(raw)
    if kind == "int64":
        return values.parse_int(raw)
    if kind == "bool":
        return values.parse_bool(raw)
    if kind == "period":
        return _period(raw)
    parse = values.parse_datetime if kind == "timestamp" else values.parse_date
    return parse(
        raw, tz=ctx.timezone, day_first=_day_first(ctx, name), excel_serial=ctx.excel_serial
    )


def _text_value(
    kind: str, text: pd.Series, ctx: CleanContext
) -> tuple[pd.Series, tuple[str, pd.Series] | None]:
    """(value, (reason, mask) of the values it rejects, if any) of a trimmed text column."""
    if kind == "stage":
        mapped = map_stage(text, ctx.stage_aliases)
        return mapped, ("unknown_stage", text.notna() & mapped.isna())
    if kind == "enum":
        return text.str.strip().str.lower().str.replace(r"\s+", "_", regex=True), None
    if kind == "currency":
        code = text.str.upper()
        # A file has a handful of distinct codes: check those, not every cell.
        bad = [c for c in code.dropna().unique() if not re.fullmatch(CURRENCY_CODE, c)]
        return code, ("invalid_value", code.isin(bad)) if bad else None
    return text, None


def _apply_defaults(
    entity: str, typed: dict[str, pd.Series], index: pd.Index, ctx: CleanContext
) -> None:
    """Contract defaults: updated_at, created_at, currency, probability, status, is_deleted."""
    day_start = pd.Series(ctx.day_start, index=index).astype("datetime64[us, UTC]")
    if entity == "accounts":
        typed["created_at"] = typed.get("created_at", day_start).fillna(day_start)
    updated = typed.get("updated_at", pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]"))
    if "created_at" in typed:
        updated = updated.fillna(typed["created_at"])
    typed["updated_at"] = updated.fillna(day_start)
    deleted = typed.get("is_deleted", pd.Series(pd.NA, index=index, dtype="boolean"))
    typed["is_deleted"] = deleted.fillna(False).astype("boolean")
    if entity in MONEY_COLUMNS or entity == "fx_rates":
        currency = typed.get("currency", pd.Series(pd.NA, index=index, dtype="str"))
        if entity != "fx_rates":
            currency = currency.fillna(ctx.currency)
        typed["currency"] = currency.astype("str")
    if entity == "opportunities":
        prob = _fraction_scaled(typed.get("probability", pd.Series(np.nan, index=index)))
        default = _lookup_float(typed["stage"], DEFAULT_PROBABILITY)
        typed["probability"] = prob.fillna(default)
    if entity == "orders":
        status = typed.get("status", pd.Series(pd.NA, index=index, dtype="str"))
        typed["status"] = status.fillna("completed")


def _lookup_float(keys: pd.Series, table: Mapping[str, float]) -> pd.Series:
    """`keys.map(table)` for a low-cardinality text column, through one Arrow hash lookup
    (Series.map costs ~0.5 s per million rows; this ~0.03 s). Unknown or null keys give NaN."""
    positions = pc.index_in(_arrow_text(keys), value_set=pyarrow.array(list(table)))
    looked_up = pc.take(pyarrow.array(list(table.values()), pyarrow.float64()), positions)
    return pd.Series(looked_up.to_numpy(zero_copy_only=False), index=keys.index, dtype="float64")


def _arrow_text(column: pd.Series) -> pyarrow.Array:
    arr = pyarrow.array(column.astype("str"))
    return arr.combine_chunks() if isinstance(arr, pyarrow.ChunkedArray) else arr


def _convert_money(
    entity: str,
    typed: dict[str, pd.Series],
    index: pd.Index,
    ctx: CleanContext,
    problems: _Problems,
) -> None:
    money = MONEY_COLUMNS.get(entity)
    if money is None:
        return
    local = typed.get(money, pd.Series(np.nan, index=index, dtype="float64"))
    rate = lookup_rates(
        money_date(entity, typed, ctx.timezone, index),
        typed["currency"],
        ctx.fx_rates,
        ctx.currency,
    )
    problems.add("no_fx_rate", money, local.notna() & rate.isna())
    typed[f"{money}_local"] = local
    typed[money] = (local * rate).round(2)


def _entity_rules(
    entity: str,
    typed: dict[str, pd.Series],
    raw_null: dict[str, pd.Series],
    ctx: CleanContext,
    problems: _Problems,
) -> None:
    """Rules that span columns: closed deals need amount and close date; no creation after the day."""
    if "created_at" in typed:
        problems.add("future_date", "created_at", typed["created_at"] >= ctx.day_end)
    if entity == "opportunities":
        closed = typed["stage"].isin(CLOSED_STAGES).to_numpy()
        for column in ("amount", "close_date"):
            problems.add("missing_required", column, closed & raw_null[column].to_numpy())


def _validate(
    entity: str, frame: pd.DataFrame, raw_null: dict[str, pd.Series], problems: _Problems
) -> None:
    """pandera, lazily: map failure cases back to row positions through the check names."""
    schema = RECORD_RULES[entity]
    try:
        schema.validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna()].copy()
    cases["reason"] = _reason_names(entity, cases)
    unexpected = cases[cases["reason"].isna()]
    if not unexpected.empty:
        raise TypeError(
            f"{entity}: schema mismatch (a bug, not bad input): {unexpected.head(5).to_dict('records')}"
        )
    for (reason, column), group in cases.groupby(["reason", "column"], sort=True):
        mask = np.zeros(len(frame), dtype=bool)
        mask[group["index"].astype(int).to_numpy()] = True
        if reason == "missing_required":
            # Only a contract-required input that is really absent is missing; a null left by a
            # value that failed to parse, convert or default has its own reason already.
            source = column.removesuffix("_local")
            if source not in REQUIRED_INPUT[entity]:
                continue
            mask &= raw_null.get(source, pd.Series(False, index=frame.index)).to_numpy()
        problems.add(reason, column, mask)


def _reason_names(entity: str, cases: pd.DataFrame) -> pd.Series:
    """Failure case -> reason code: 'not_nullable' is missing_required, other checks carry the
    reason as their name (looked up by column and check number, as failure cases show the check's
    description, not its name). Anything else (a dtype mismatch) maps to NA: a bug."""
    table = TABLES[entity]
    names: list[str | None] = []
    for column, check, number in zip(
        cases["column"], cases["check"], cases["check_number"], strict=True
    ):
        if check == "not_nullable":
            names.append("missing_required")
            continue
        try:
            name = table.column(str(column)).checks[int(number)].name
        except (KeyError, IndexError, TypeError, ValueError):
            name = None
        names.append(name if name in REASON_RANK else None)
    return pd.Series(names, index=cases.index, dtype="object")


def _resolve_owners(typed: dict[str, pd.Series], rep_names: dict[str, str]) -> None:
    """Owner references may be rep names (HubSpot): resolve them to rep IDs, case-insensitively."""
    if "owner_id" not in typed or not rep_names:
        return
    owner = typed["owner_id"]
    resolved = owner.str.strip().str.casefold().map(rep_names)
    typed["owner_id"] = resolved.fillna(owner).astype("str")


def clean_frame(
    entity: str,
    frame: pd.DataFrame,
    source_row: pd.Series,
    *,
    source_file: str,
    ctx: CleanContext,
    raw_frame: pd.DataFrame | None = None,
    pii_headers: set[str] | None = None,
) -> CleanResult:
    """Clean one file's records of `entity` (canonical column names, raw text values).

    `raw_frame` (original headers, same rows) is what quarantine keeps as the raw record; it
    defaults to `frame`. Returns typed clean rows, quarantine rows and the duplicate count.
    """
    frame = frame.reset_index(drop=True)
    source_row = pd.Series(np.asarray(source_row, dtype="int64"))
    raw_frame = frame if raw_frame is None else raw_frame.reset_index(drop=True)
    pii_headers = set(PII_COLUMNS) if pii_headers is None else pii_headers
    n = len(frame)

    key = list(TABLES[entity].primary_key)

    problems = _Problems(frame.index)
    typed, raw_null = _parse_columns(entity, frame, ctx, problems)
    _apply_defaults(entity, typed, frame.index, ctx)
    _resolve_owners(typed, ctx.rep_names)
    _convert_money(entity, typed, frame.index, ctx, problems)
    _entity_rules(entity, typed, raw_null, ctx, problems)
    typed["_source_file"] = pd.Series(source_file, index=frame.index, dtype="str")
    typed["_source_row"] = source_row
    candidate = conform(pd.DataFrame(typed, index=frame.index), TABLES[entity])
    del typed  # the frame holds its own copy: a large file must not keep both
    _validate(entity, candidate, raw_null, problems)
    repeated = _repeated_keys(candidate, key)
    exact_dup = _exact_duplicates(raw_frame, repeated)

    # Duplicates are decided before quarantine on exact copies, after it on versions.
    for _reason, _column, arr in problems.items:
        arr &= ~exact_dup
    bad = problems.any_mask() & ~exact_dup
    resolved = problems.resolve()
    resolved = (
        resolved[~exact_dup[resolved["position"].astype(int).to_numpy()]]
        if len(resolved)
        else resolved
    )
    positions = resolved["position"].astype(int).to_numpy()
    quarantine = pd.DataFrame(
        {
            "entity": entity,
            "source_file": source_file,
            "source_row": source_row.to_numpy()[positions],
            "reason_code": resolved["reason_code"].to_numpy(),
            "reason_detail": resolved["reason_detail"].to_numpy(),
            "raw_record": raw_records_json(raw_frame, positions, pii_headers),
        }
    )
    kept = ~bad & ~exact_dup
    # Boolean indexing copies every column even when it keeps every row.
    good = candidate if kept.all() else candidate[kept]
    del candidate
    clean = _latest_per_key(good, key, repeated[kept])
    duplicates = int(exact_dup.sum()) + (len(good) - len(clean))
    return CleanResult(
        clean=clean,
        quarantine=conform(quarantine, QUARANTINE),
        rows_read=n,
        rows_duplicate=duplicates,
    )


def _repeated_keys(candidate: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows whose typed key occurs more than once in the file (null keys compare equal).

    Computed once per file and shared by both duplicate rules: hashing a million-row key column
    is the expensive part, the rules then only look at the (usually few) rows it flags.
    """
    if candidate.empty:
        return np.zeros(0, dtype=bool)
    if len(key) > 1:
        return candidate[key].duplicated(keep=False).to_numpy()
    return repeated_values(_arrow_text(candidate[key[0]]))


BUCKET_MIN_KEYS = 100_000
"""Below this many keys one hash table is small (~15 MB) and faster than a loop over buckets
(2-5 ms per daily file otherwise); the two take the same time at about this size."""


def repeated_values(keys: pyarrow.Array, bucket_min: int = BUCKET_MIN_KEYS) -> np.ndarray:
    """Flags of the values that occur more than once (nulls compare equal).

    From `bucket_min` keys on, hashed bucket by bucket, the buckets being the values' last two
    characters (equal values share them): one hash table over two million distinct keys took
    ~290 MB and 0.8 s, the buckets' tables together ~65 MB and 0.5 s. Keys that all end alike
    make one bucket, as one table would.
    """
    if len(keys) < bucket_min:
        return _repeated_in(keys)
    out = np.zeros(len(keys), dtype=bool)
    buckets = pc.dictionary_encode(pc.utf8_slice_codeunits(keys, -2), null_encoding="encode")
    bucket = buckets.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(len(buckets.dictionary) + 1))
    groups = [order[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]

    def repeated_in_bucket(rows: np.ndarray) -> np.ndarray:
        return _repeated_in(keys if len(rows) == len(keys) else pc.take(keys, pyarrow.array(rows)))

    for rows, flags in zip(groups, map_columns(repeated_in_bucket, groups, len(keys)), strict=True):
        out[rows] = flags
    return out


def _repeated_in(keys: pyarrow.Array) -> np.ndarray:
    codes = pc.dictionary_encode(keys, null_encoding="encode").indices
    codes = codes.to_numpy(zero_copy_only=False)
    return np.bincount(codes)[codes] > 1


def _exact_duplicates(raw_frame: pd.DataFrame, repeated: np.ndarray) -> np.ndarray:
    """Earlier copies of records repeated verbatim (raw text identical in every column).

    Verbatim copies have the same typed key, so only rows whose key repeats are compared in full:
    hashing every column of a million-row file would cost more than parsing it.
    """
    out = np.zeros(len(raw_frame), dtype=bool)
    if repeated.any():
        rows = np.flatnonzero(repeated)
        out[rows] = raw_frame.iloc[rows].duplicated(keep="last").to_numpy()
    return out


def _latest_per_key(good: pd.DataFrame, key: list[str], maybe_repeated: np.ndarray) -> pd.DataFrame:
    """Latest version per key in file order (latest updated_at; equal timestamps: the later row).

    `maybe_repeated` flags the rows whose key repeated in the whole file; only those are
    re-counted among the good rows and sorted, so a file without repeats is never reordered.
    """
    repeated = np.zeros(len(good), dtype=bool)
    if maybe_repeated.any():
        rows = np.flatnonzero(maybe_repeated)
        repeated[rows] = good.iloc[rows].duplicated(key, keep=False).to_numpy()
    if not repeated.any():
        return good.reset_index(drop=True)
    contested = good[repeated].sort_values(["updated_at", "_source_row"], kind="stable")
    winners = contested.drop_duplicates(key, keep="last").index
    keep = ~repeated
    keep[good.index.get_indexer(winners)] = True
    return good[keep].reset_index(drop=True)


def missing_required_columns(entity: str, columns: list[str]) -> list[str]:
    return [c for c in REQUIRED_INPUT[entity] if c not in columns]
