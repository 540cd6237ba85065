"""Profile one landing file's columns as they arrived: header, inferred type, null share,
distinct count, date style and a keyed value sketch.

Pure (no Dagster, no I/O). The ingest calls `profile_file` once per file with the raw text frame;
values are classified with the ingest's own parsers (`values.py`), on a sample for the type and
over the whole column for the null share, distinct count and day/month order.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assets.ingest import pii, presets, values
from assets.ingest.parallel import map_columns
from assets.ingest.readers import RawFile
from sales_pipeline.core.config import Settings
from schemas import TABLES, conform
from schemas.columns import HUBSPOT_MULTI_ID_COLUMNS
from schemas.drift import SCHEMA_PROFILE

SAMPLE = 500
"""Non-null values per column used to infer the type (the null share and counts use all rows)."""
SKETCH_K = 32
"""Bottom-k hashes kept per column: enough to estimate the overlap of two value sets."""
SKETCH_MAX_DISTINCT = 1000
"""Columns with more distinct values (IDs, amounts) get no sketch: their values differ from file
to file anyway (other records), and hashing millions of values would slow large files down."""
MIN_SHARE = 0.95
"""Share of sampled values a parser must accept for the column to have that type."""

_EPOCH_MS = r"^\d{13}$"
_HAS_TIME = r"\d:\d\d"
_ISO = r"^\d{4}-\d{1,2}-\d{1,2}"
_YMD_SLASH = r"^\d{4}/\d{1,2}/\d{1,2}"
_DOTTED = r"^\d{1,2}\.\d{1,2}\.\d{4}"
_SLASH = r"^\d{1,2}/\d{1,2}/\d{4}"
_TIME_TYPES = ("date", "timestamp")
_LONGEST_BOOL = len("false")
_LONGEST_BOOL = len("false")
_NUMERIC_START = r"^[\d(+\-$€¥£₹.]|^[A-Za-z]{3}\s*[\d(+\-]"
"""Numbers and dates start with a digit, a sign, a bracket or a currency (symbol or ISO code)."""


def source_key(entity: str, vendor: str, file_name: str) -> str:
    """entity/vendor; Salesforce Task and Event files (both activities) have different headers."""
    stem = file_name.rsplit("/", 1)[-1].split(".", 1)[0].casefold()
    if entity == "activities" and vendor == "salesforce" and stem in ("task", "event"):
        return f"{entity}/{vendor}/{stem}"
    return f"{entity}/{vendor}"


def _sketch_key(pii_key: str | None) -> str:
    # pandas' hash takes a 16-character key; derived from the PII key when there is one, so a
    # sketch cannot be matched against hashes of guessed values without it.
    seed = f"schema-drift:{pii_key or ''}".encode()
    return hashlib.sha256(seed).hexdigest()[:16]


def value_sketch(distinct: pa.Array, key: str) -> list[str]:
    """The SKETCH_K smallest keyed 64-bit hashes of the distinct values (hex)."""
    if len(distinct) == 0:
        return []
    # The hash pandas gives a str Series (hash_pandas_object), without building the Series;
    # not categorised first (distinct values have nothing to share, and factorising them was
    # 90% of the call).
    texts = distinct.to_numpy(zero_copy_only=False).astype(object)
    hashed = pd.util.hash_array(texts, hash_key=key, categorize=False)
    return [f"{int(h):016x}" for h in np.sort(hashed)[:SKETCH_K]]


def _share(text: pa.Array, pattern: str) -> float:
    return float(pc.mean(pc.match_substring_regex(text, pattern)).as_py() or 0.0)


def _date_style(sample: pa.Array, present: pd.Series, excel: bool) -> str:
    """Style of a date column: its dominant written form, and for slash dates the day/month order."""
    forms = {
        "epoch_ms": _EPOCH_MS,
        "iso": _ISO,
        "ymd_slash": _YMD_SLASH,
        "dmy_dotted": _DOTTED,
        "slash": _SLASH,
    }
    shares = {k: _share(sample, pattern) for k, pattern in forms.items()}
    best = max(shares, key=shares.get)
    if shares[best] == 0:
        return "excel_serial" if excel else "other"
    if best != "slash":
        return best
    # The order needs every value: one day above 12 anywhere in the file proves it.
    day_first = values.detect_day_first(present.str.strip())
    return {True: "dmy", False: "mdy", None: "slash_ambiguous"}[day_first]


def _arrow(text: pd.Series) -> pa.Array:
    arr = pa.array(text)
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def infer_type(present: pd.Series, canonical_type: str | None, excel: bool) -> str:
    """empty | bool | number | date | datetime | text, from a sample of the non-null values
    (see `_infer_type`)."""
    if present.empty:
        return "empty"
    sample = values.trim_whitespace(_arrow(present.head(SAMPLE)))
    return _infer_type(sample, canonical_type, excel)


def _infer_type(text: pa.Array, canonical_type: str | None, excel: bool) -> str:
    """The type of a column from its trimmed sample of non-null values.

    A 13-digit integer is epoch milliseconds, a plain number in an .xlsx date column an Excel
    serial day: both are dates where the column is one, as ingest reads them. Parsers run
    cheapest first and only while the sample could still be of their type.
    """
    if len(text) == 0:
        return "empty"
    is_time_column = canonical_type in _TIME_TYPES
    if _share(text, _EPOCH_MS) >= MIN_SHARE:
        return "datetime" if is_time_column or canonical_type is None else "number"
    series = None
    if _share(text, _NUMERIC_START) >= MIN_SHARE:
        # Plain decimals and clean ISO dates are most columns: one regex (and one cast) knows
        # them, where the full parsers cost a few ms a column. The parsers agree: every plain
        # decimal is a number, no ISO date is one, and a column the cast reads is all dates.
        plain = _share(text, _PLAIN_DECIMAL) == 1.0
        iso = not plain and _all_iso(text)
        if not (plain or iso):
            series = pd.Series(text.to_pandas(), dtype="str")
        if plain or (
            not iso and 1.0 - float(values.parse_number(series).invalid.mean()) >= MIN_SHARE
        ):
            if excel and is_time_column:
                return "date" if canonical_type == "date" else "datetime"
            return "number"
        if iso or 1.0 - float(values.parse_datetime(series).invalid.mean()) >= MIN_SHARE:
            return "datetime" if _share(text, _HAS_TIME) > 0 else "date"
    if (pc.max(pc.utf8_length(text)).as_py() or 0) <= _LONGEST_BOOL:
        series = pd.Series(text.to_pandas(), dtype="str") if series is None else series
        if 1.0 - float(values.parse_bool(series).invalid.mean()) >= MIN_SHARE:
            return "bool"
    return "text"


_PLAIN_DECIMAL = r"^[+-]?\d+(?:\.\d+)?$"


def _all_iso(text: pa.Array) -> bool:
    """Every value a valid ISO 8601 date/time of one kind (naive or zoned), as the ingest's
    whole-column cast reads them (an invalid calendar date fails the cast)."""
    for pattern, absolute in values.ISO_FORMS:
        if _share(text, pattern) == 1.0:
            return values.cast_iso(text, absolute) is not None
    return False


def _column_profile(
    raw_values: pd.Series,
    canonical_type: str | None,
    excel: bool,
    sketch_key: str | None,
    is_id: bool = False,
) -> dict:
    """One column's profile, in Arrow: a pandas Series per step cost more than the step on a
    daily file's few dozen rows (the profile was a third of a demo's ingest)."""
    trimmed = values.trim_whitespace(_arrow(raw_values))
    null = values._null_mask_arrow(trimmed, True)
    present = trimmed.filter(pa.array(~null)) if null.any() else trimmed
    kind = _infer_type(present[:SAMPLE], canonical_type, excel)
    if is_id and kind == "number":
        kind = "text"  # IDs are strings: a file of numeric IDs (HubSpot) is not a type change
    null_share = float(null.mean()) if len(null) else 0.0
    distinct = pc.unique(present)
    if kind in ("bool", "empty") and canonical_type == "bool" or kind == "bool":
        tokens = pc.utf8_lower(distinct).to_pylist()
        if set(tokens) <= {"x"}:
            null_share = 0.0  # an x/empty column (even all empty): empty means False, not missing
    date_style = None
    if kind in ("date", "datetime"):
        date_style = _date_style(present[:SAMPLE], raw_values[~null], excel)
    return {
        "inferred_type": kind,
        "null_share": null_share,
        "distinct_count": len(distinct),
        "date_style": date_style,
        "value_sketch": []
        if sketch_key is None or len(distinct) > SKETCH_MAX_DISTINCT
        else value_sketch(distinct, sketch_key),
    }


_HEADER_MAPS: dict[tuple, tuple[str, dict[str, str]]] = {}
_HEADER_MAPS_MAX = 1024


def _header_map(raw: RawFile, entity: str, aliases: dict | None) -> tuple[str, dict[str, str]]:
    """(vendor format, canonical -> header) as ingest maps the header, memoised by header: a
    source sends the same header every day, and mapping it cost ~2 ms a file."""
    key = (entity, tuple(raw.columns), tuple(raw.header), repr(aliases))
    hit = _HEADER_MAPS.get(key)
    if hit is None:
        head = raw.frame.iloc[:0] if raw.frame is not None else None
        mapped = presets.to_canonical(replace(raw, frame=head), entity, aliases=aliases)
        if len(_HEADER_MAPS) >= _HEADER_MAPS_MAX:
            _HEADER_MAPS.clear()
        hit = _HEADER_MAPS[key] = (mapped.vendor_format, dict(mapped.source_columns))
    return hit


def profile_file(entity: str, raw: RawFile, settings: Settings) -> pd.DataFrame:
    """One `schema_profile` row per column of `raw` (none for a file that could not be read).

    The header is mapped with the settings' custom aliases, as ingest maps it; value sketches
    are keyed with (a hash of) the PII key.

    `file_status` is 'ok' here; the ingest sets it from the file's audit row. Personal-data
    columns, as the ingest classifies them by name for every entity (`pii.pii_headers`: PII
    columns, contact details, names, free text; in a contacts file every unmapped column), get
    no sketch, and a header that looks like a value (a headerless file's first record) is masked.
    """
    if raw.error is not None or raw.frame is None or not raw.header:
        return SCHEMA_PROFILE.empty_frame()
    aliases = settings.entity(entity).aliases
    vendor_format, source_columns = _header_map(
        raw, entity, {entity: dict(aliases)} if aliases else None
    )
    feeds = {header: col for col, header in source_columns.items()}
    table = TABLES[entity]
    types = {c.name: c.type for c in table.columns}
    labels = raw.columns or [f"c{i}" for i in range(len(raw.header))]
    excel = raw.name.casefold().endswith(".xlsx")
    key = _sketch_key(settings.pii_key)
    masked = pii.pii_headers(entity, list(raw.header), source_columns)
    columns = list(zip(labels, raw.header, strict=False))

    def profile(column: tuple[str, str]) -> dict:
        label, header = column
        canonical = feeds.get(header)
        values_in = raw.frame[label]
        if vendor_format == "hubspot" and canonical in HUBSPOT_MULTI_ID_COLUMNS:
            # 'id1;id2' association lists: ingest reads the first ID, so that is what is profiled.
            values_in = values_in.str.split(";").str[0]
        return _column_profile(
            values_in,
            types.get(canonical) if canonical else None,
            excel,
            None if header in masked else key,
            is_id=bool(canonical) and canonical.endswith("_id"),
        )

    rows = []
    profiles = map_columns(profile, columns, len(raw.frame))
    # The file's own fields go into every row: one frame build instead of one per field.
    of_file = {
        "entity": entity,
        "source": source_key(entity, vendor_format, raw.source_file),
        "source_file": raw.source_file,
        "vendor_format": vendor_format,
        "file_status": "ok",
        "rows": len(raw.frame),
    }
    for position, ((_, header), stats) in enumerate(zip(columns, profiles, strict=True), start=1):
        # A header that looks like a value (an e-mail: a headerless file's first record) is masked.
        (shown,) = pii.safe_names([str(header)])
        rows.append(
            {
                "position": position,
                "header": shown,
                "header_key": presets.normalise_header(shown),
                "canonical_column": feeds.get(header),
                **stats,
                **of_file,
            }
        )
    return conform(pd.DataFrame(rows), SCHEMA_PROFILE)
