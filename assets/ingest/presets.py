"""Entity detection by file name and vendor presets: raw headers -> canonical columns.

Values stay raw text here; only structural vendor quirks are resolved (which column feeds which
canonical column, Salesforce Task/Event derivations, HubSpot association lists). Typing and
validation belong to the cleaner.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assets.ingest.readers import RawFile
from schemas import columns as C
from schemas.columns import DEFAULT_PROBABILITY, STAGE_MAP

__all__ = [
    "DEFAULT_PROBABILITY",
    "CanonicalFrame",
    "detect_entity",
    "map_stage",
    "normalise_header",
    "to_canonical",
]

# Every suffix that names a data format, read or not: `orders.csv.bz2` and `Opportunity.xls` are
# files of their entity in a format that is not read (`unsupported_format`), not unknown files.
_STEM_SUFFIXES = re.compile(
    r"(\.(csv|tsv|txt|xlsx|xlsm|xls|ods|jsonl|ndjson|json|xml|parquet|avro"
    r"|zip|gz|gzip|bz2|xz|zst|7z|rar|tar|tgz))+$",
    re.IGNORECASE,
)


def normalise_header(name: str) -> str:
    """Header key for matching: casefolded, BOM/outer spaces dropped, '_' and spaces alike."""
    text = str(name).replace("\ufeff", "").strip().casefold()
    return re.sub(r"[\s_]+", " ", text)


def _stem(file_name: str) -> str:
    return _STEM_SUFFIXES.sub("", PurePosixPath(file_name).name).casefold()


def detect_entity(file_name: str, patterns: dict[str, list[str]] | None = None) -> str | None:
    """Entity of a landing file from its (case-insensitive) stem, or None when nothing matches.

    ``patterns`` (from the settings file) are tried first, as fnmatch patterns against both the
    stem and the full file name, so exports named otherwise can be claimed explicitly.
    """
    stem, name = _stem(file_name), PurePosixPath(file_name).name.casefold()
    for entity, extra in (patterns or {}).items():
        for pattern in extra:
            if fnmatch.fnmatchcase(stem, pattern.casefold()) or fnmatch.fnmatchcase(
                name, pattern.casefold()
            ):
                return entity
    for entity, builtin in C.FILE_PATTERNS.items():
        if any(fnmatch.fnmatchcase(stem, pattern) for pattern in builtin):
            return entity
    return None


@dataclass
class CanonicalFrame:
    """A raw file renamed to canonical columns (values still raw text)."""

    entity: str
    vendor_format: str  # 'canonical' | 'salesforce' | 'hubspot'
    frame: pd.DataFrame
    extra_columns: list[str]
    missing_required: list[str]
    owner_refs_are_names: bool
    source_columns: dict[str, str] = field(default_factory=dict)  # canonical -> header used


AliasTarget = str | tuple[str, ...] | list[str]
"""A custom alias target: one canonical column, or several fed by the same header."""


def _targets(target: AliasTarget) -> tuple[str, ...]:
    return (target,) if isinstance(target, str) else tuple(target)


def _preset_maps(
    entity: str, aliases: dict[str, AliasTarget]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """{format: {normalised header: canonical columns}}; custom aliases apply to every format.

    Map order is priority order, and custom aliases come first: a header the settings file names
    wins over a preset header feeding the same canonical column.
    """
    canonical = {name: name for name in C.CANONICAL_COLUMNS[entity]}
    canonical.update(C.CANONICAL_ALIASES.get(entity, {}))
    maps = {"canonical": canonical}
    for vendor, tables in C.VENDOR_COLUMNS.items():
        maps[vendor] = dict(tables.get(entity, {}))
    if entity == "activities":
        sf_specials = [
            *C.TASK_TYPE_COLUMNS,
            *C.TASK_OCCURRED_COLUMNS,
            *C.EVENT_OCCURRED_COLUMNS,
            C.TASK_DURATION_SECONDS,
            C.EVENT_DURATION_MINUTES,
            C.WHAT_ID,
        ]
        maps["salesforce"].update(dict.fromkeys(sf_specials, ""))  # derived below
    custom = {normalise_header(k): _targets(v) for k, v in aliases.items()}
    out = {}
    for fmt, mapping in maps.items():
        merged = dict(custom)
        # Canonical names come after the preset's own (contract: understood in every preset).
        for k, v in [*mapping.items(), *canonical.items()]:
            merged.setdefault(normalise_header(k), _targets(v) if v else ())
        out[fmt] = merged
    return out


def _choose_format(keys: list[str], entity: str) -> str:
    """The preset whose own names match most headers; ties go to canonical (then Salesforce)."""
    own = {"canonical": {*C.CANONICAL_COLUMNS[entity], *C.CANONICAL_ALIASES.get(entity, {})}}
    for vendor, tables in C.VENDOR_COLUMNS.items():
        own[vendor] = set(tables.get(entity, {}))
    if entity == "activities":
        own["salesforce"] |= {*C.TASK_TYPE_COLUMNS, *C.TASK_OCCURRED_COLUMNS}
        own["salesforce"] |= {*C.EVENT_OCCURRED_COLUMNS, C.TASK_DURATION_SECONDS, C.WHAT_ID}
        own["salesforce"] |= {C.EVENT_DURATION_MINUTES}
    unique = set(keys)
    scores = {
        fmt: len(unique & {normalise_header(name) for name in names}) for fmt, names in own.items()
    }
    return max(scores, key=lambda fmt: (scores[fmt], fmt == "canonical", fmt == "salesforce"))


def _first_id(values: pd.Series) -> pd.Series:
    """'a;b;c' -> 'a' (HubSpot association lists)."""
    arr = pa.array(values.astype("str"))
    first = pc.list_element(pc.split_pattern(arr, ";"), 0)
    return pd.Series(pc.utf8_trim_whitespace(first).to_pandas(), index=values.index, dtype="str")


def to_canonical(
    raw: RawFile, entity: str, *, aliases: dict[str, dict[str, AliasTarget]] | None = None
) -> CanonicalFrame:
    """Rename ``raw``'s columns to the canonical names of ``entity`` using the best preset.

    ``aliases`` ({entity: {their header: canonical column or tuple of columns}}) come from the
    settings file and win over the presets; a tuple target feeds several canonical columns from
    one header (a Maven-style ``account`` column that is both the account's ID and its name).
    """
    frame = raw.frame if raw.frame is not None else pd.DataFrame()
    labels = raw.columns or [f"c{i}" for i in range(len(raw.header))]
    keys = [normalise_header(h) for h in raw.header]
    maps = _preset_maps(entity, (aliases or {}).get(entity, {}))
    fmt = _choose_format(keys, entity)
    mapping = maps[fmt]
    by_key: dict[str, tuple[str, str]] = {}
    for label, key, header in zip(labels, keys, raw.header, strict=False):
        by_key.setdefault(key, (label, header))
    out: dict[str, pd.Series] = {}
    used: dict[str, str] = {}
    used_labels: set[str] = set()
    # Map order is priority order: the contract's "A, else B" alternatives, not file order.
    for key, targets in mapping.items():
        if key not in by_key:
            continue
        label, header = by_key[key]
        for target in targets:
            if target and target not in out:
                out[target], used[target] = frame[label], header
                used_labels.add(label)

    owner_names = False
    if fmt == "salesforce" and entity == "activities":
        used_labels |= _salesforce_activity(frame, by_key, out, used)
    if fmt == "hubspot":
        for column in C.HUBSPOT_MULTI_ID_COLUMNS & out.keys():
            out[column] = _first_id(out[column])
        owner_names = any(normalise_header(h) in by_key for h in C.HUBSPOT_OWNER_COLUMNS)

    canonical = pd.DataFrame(out, index=frame.index)
    order = [c for c in C.CANONICAL_COLUMNS[entity] if c in canonical.columns]
    canonical = canonical[order + [c for c in canonical.columns if c not in order]]
    missing = [c for c in C.required_columns(entity) if c not in canonical.columns]
    return CanonicalFrame(
        entity=entity,
        vendor_format=fmt,
        frame=canonical,
        # By position: a repeated header (a second `amount`) is an extra column, not silently lost.
        extra_columns=sorted(
            {h for label, h in zip(labels, raw.header, strict=False) if label not in used_labels}
        ),
        missing_required=missing,
        owner_refs_are_names=owner_names,
        source_columns=used,
    )


def _pick(
    by_key: dict, frame: pd.DataFrame, headers: tuple[str, ...], picked: set[str]
) -> tuple[str, pd.Series] | None:
    for header in headers:
        hit = by_key.get(normalise_header(header))
        if hit is not None:
            picked.add(hit[0])
            return hit[1], frame[hit[0]]
    return None


def _salesforce_activity(
    frame: pd.DataFrame, by_key: dict, out: dict[str, pd.Series], used: dict[str, str]
) -> set[str]:
    """Task/Event: activity_type, occurred_at, duration_minutes, WhatId -> opportunity/account.

    A column already filled by a custom alias is left alone (custom aliases win over presets).
    Returns the frame labels it read.
    """
    custom = set(out)
    picked: set[str] = set()
    pick = functools.partial(_pick, by_key, frame, picked=picked)
    is_event = any(normalise_header(h) in by_key for h in C.EVENT_MARKERS)
    index = frame.index
    if is_event:
        if "activity_type" not in custom:
            out["activity_type"] = pd.Series("meeting", index=index, dtype="str")
        occurred = pick(C.EVENT_OCCURRED_COLUMNS)
        duration = pick((C.EVENT_DURATION_MINUTES,))
        if duration and "duration_minutes" not in custom:
            out["duration_minutes"], used["duration_minutes"] = duration[1], duration[0]
    else:
        subtype = pick(C.TASK_TYPE_COLUMNS)
        if subtype and "activity_type" not in custom:
            out["activity_type"] = _task_type(subtype[1])
            used["activity_type"] = subtype[0]
        elif "activity_type" not in custom:
            out["activity_type"] = pd.Series("task", index=index, dtype="str")
        occurred = pick(C.TASK_OCCURRED_COLUMNS)
        seconds = pick((C.TASK_DURATION_SECONDS,))
        if seconds and "duration_minutes" not in custom:
            out["duration_minutes"] = _seconds_to_minutes(seconds[1])
            used["duration_minutes"] = seconds[0]
    if occurred and "occurred_at" not in custom:
        out["occurred_at"], used["occurred_at"] = occurred[1], occurred[0]
    what = pick((C.WHAT_ID,))
    if what:
        text = what[1].astype("str").str.strip()
        for prefix, column in C.SALESFORCE_KEY_PREFIXES.items():
            hits = text.where(text.str.startswith(prefix, na=False))
            if column in out:  # an explicit AccountId column wins; WhatId only fills gaps
                hits = out[column].where(out[column].str.strip().fillna("") != "", hits)
            out[column] = hits.astype("str")
            used.setdefault(column, what[0])
    return picked


def _task_type(values: pd.Series) -> pd.Series:
    lower = values.astype("str").str.strip().str.casefold()
    mapped = lower.map(C.TASK_TYPE_VALUES)
    out = mapped.where(mapped.notna(), "other")
    return out.where(lower.notna() & (lower != ""), np.nan).astype("str")


def _seconds_to_minutes(values: pd.Series) -> pd.Series:
    """'90' -> '1.5'; non-numeric text passes through for the cleaner to flag."""
    text = values.astype("str").str.strip()
    numeric = text.str.fullmatch(r"\d+(?:\.\d+)?", na=False)
    seconds = pd.to_numeric(text.where(numeric), errors="coerce")
    minutes = pa.array((seconds / 60).to_numpy(), from_pandas=True).cast(pa.string())
    as_text = pd.Series(minutes.to_pandas(), index=values.index, dtype="str")
    return as_text.where(numeric, text).astype("str")


def map_stage(raw: pd.Series, extra: dict[str, str] | None = None) -> pd.Series:
    """Canonical stage for each raw stage text, NA when unknown.

    Matching ignores case and spaces (and underscores); accepts canonical names, Salesforce labels
    and HubSpot labels or internal ids. ``extra`` (settings file) adds or overrides names.
    """
    table = {_stage_key(k): v for k, v in STAGE_MAP.items()}
    table.update({_stage_key(k): v for k, v in (extra or {}).items()})
    # A file has a handful of distinct stage labels: normalise those, not a million cells.
    codes, uniques = pd.factorize(raw.astype("str"), use_na_sentinel=True)
    mapped = np.array([table.get(_stage_key(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=raw.index, dtype="str")


def _stage_key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name.casefold())
