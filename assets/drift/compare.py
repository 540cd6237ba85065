"""Compare today's file profiles with the last good profiles of their source: schema drift.

Pure (no Dagster, no I/O). A source is entity + vendor preset; its baseline is the latest file
landed before today whose ingest status was ok, and for column statistics the latest good profile
that can speak to them. Kinds (`schemas.drift.DRIFT_KINDS`):

- new_column / missing_column: a header key (as ingest matches headers) absent from the baseline
  file / absent from today's file.
- renamed_column: a missing and a new column paired by a close name (one contains the other, or
  difflib ratio >= NAME_RATIO) or by matching values (sketch overlap >= VALUE_OVERLAP, same type).
- type_change: the inferred type differs from the column's last non-empty type (bool ~ number
  and date ~ datetime are the same family: ingest reads 1/0 as booleans and dates either way).
- format_change: the day/month order of a slash-date column flips, or a day-first column arrives
  with only ambiguous values (ingest would read them month-first). Written forms ingest reads
  unambiguously (ISO, US, dotted, epoch) are profiled but not reported when they alternate.
- population_drop: a column at least POPULATED_MIN populated arrives empty (both files with at
  least MIN_ROWS_EMPTY rows), or falls below half of that share (both with at least MIN_ROWS).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

import numpy as np
import pandas as pd

from schemas import conform
from schemas.drift import SCHEMA_DRIFT

LANDING_DAY = "_landing_day"
NAME_RATIO = 0.8
VALUE_OVERLAP = 0.5
MIN_ROWS = 20
MIN_ROWS_EMPTY = 5
POPULATED_MIN = 0.8
_FAMILY = {"bool": "number", "date": "datetime"}


def _family(kind: str) -> str:
    return _FAMILY.get(kind, kind)


def _name_key(header_key: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", header_key)


def name_score(a: str, b: str) -> float:
    """1.0 when one name contains the other ('amount' in 'amount (converted)'), else the ratio."""
    ka, kb = _name_key(a), _name_key(b)
    if not ka or not kb:
        return 0.0
    if min(len(ka), len(kb)) >= 3 and (ka in kb or kb in ka):
        return 1.0
    return difflib.SequenceMatcher(None, ka, kb).ratio()


def sketch_overlap(a, b) -> float:
    """Jaccard estimate of two bottom-k sketches (0 when either is empty)."""
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    k = max(len(a), len(b))
    union = sorted(a | b)[:k]
    return sum(1 for h in union if h in a and h in b) / len(union)


def _row(today: dict, kind: str, column: str, detail: str, **extra) -> dict:
    return {
        "entity": today["entity"],
        "source": today["source"],
        "source_file": today["source_file"],
        "drift_kind": kind,
        "column": column,
        "detail": detail,
        **extra,
    }


def _pair_renames(missing: list[dict], new: list[dict]) -> list[tuple[int, int, str]]:
    """(missing position, new position, reason) pairs, best first, each column used once."""
    scored = []
    for i, m in enumerate(missing):
        for j, n in enumerate(new):
            by_name = name_score(m["header_key"], n["header_key"])
            same_type = m["inferred_type"] == n["inferred_type"] != "empty"
            by_values = sketch_overlap(m["value_sketch"], n["value_sketch"]) if same_type else 0.0
            if by_name >= NAME_RATIO:
                scored.append((2 + by_name, i, j, "a close name"))
            elif by_values >= VALUE_OVERLAP:
                scored.append((1 + by_values, i, j, f"matching values (overlap {by_values:.0%})"))
    pairs, used_m, used_n = [], set(), set()
    for _score, i, j, reason in sorted(scored, key=lambda s: -s[0]):
        if i not in used_m and j not in used_n:
            pairs.append((i, j, reason))
            used_m.add(i)
            used_n.add(j)
    return pairs


def _header_drift(today: list[dict], base: list[dict], ref: dict) -> list[dict]:
    """`today`: one file's column profiles in column order; `base`: its baseline file's."""
    first = today[0]
    today_keys = {c["header_key"] for c in today}
    base_keys = {c["header_key"] for c in base}
    missing = [c for c in base if c["header_key"] not in today_keys]
    new = [c for c in today if c["header_key"] not in base_keys]
    out = []
    pairs = _pair_renames(missing, new)
    for i, j, reason in pairs:
        m, n = missing[i], new[j]
        feeds = f" (it fed {m['canonical_column']})" if m["canonical_column"] is not None else ""
        unmapped = " and is not recognised" if n["canonical_column"] is None else ""
        out.append(
            _row(
                first,
                "renamed_column",
                n["header"],
                f"'{m['header']}'{feeds} was probably renamed to '{n['header']}'{unmapped}: {reason}",
                previous_column=m["header"],
                canonical_column=m["canonical_column"],
                previous=m["header"],
                current=n["header"],
                **ref,
            )
        )
    paired_m, paired_n = {p[0] for p in pairs}, {p[1] for p in pairs}
    for m in (c for i, c in enumerate(missing) if i not in paired_m):
        feeds = (
            f"; {m['canonical_column']} will be null"
            if m["canonical_column"] is not None
            else " (an extra column)"
        )
        out.append(
            _row(
                first,
                "missing_column",
                m["header"],
                f"column '{m['header']}' is missing{feeds}",
                canonical_column=m["canonical_column"],
                previous="present",
                current="missing",
                **ref,
            )
        )
    for n in (c for j, c in enumerate(new) if j not in paired_n):
        mapped = (
            f"feeds {n['canonical_column']}"
            if n["canonical_column"] is not None
            else "not recognised"
        )
        out.append(
            _row(
                first,
                "new_column",
                n["header"],
                f"new column '{n['header']}' ({n['inferred_type']}, {mapped})",
                canonical_column=n["canonical_column"],
                previous="absent",
                current=n["inferred_type"],
                **ref,
            )
        )
    return out


def _last(records: list[dict], keep) -> dict | None:
    return next((r for r in reversed(records) if keep(r)), None)


def _ref(row) -> dict:
    return {"baseline_file": row["source_file"], "baseline_day": row[LANDING_DAY]}


def _format_drift(col: dict, styled: list[dict], first: dict) -> dict | None:
    style = col["date_style"]
    known = _last(styled, lambda r: r["date_style"] in ("mdy", "dmy"))
    before = known["date_style"] if known is not None else None
    flips = (style == "dmy" and before != "dmy") or (style == "mdy" and before == "dmy")
    unclear = style == "slash_ambiguous" and before == "dmy"
    if not (flips or unclear):
        return None
    reason = (
        "every value is ambiguous and will be read month-first (set date_order to day_first)"
        if unclear
        else f"day/month order changed from {before or styled[-1]['date_style']} to {style}"
    )
    return _row(
        first,
        "format_change",
        col["header"],
        f"date column '{col['header']}': {reason}",
        canonical_column=col["canonical_column"],
        previous=before or str(styled[-1]["date_style"]),
        current=style,
        **_ref(known if known is not None else styled[-1]),
    )


def _population_drop(col: dict, past: list[dict], first: dict) -> dict | None:
    """Arriving empty needs MIN_ROWS_EMPTY rows on both sides; a partial drop MIN_ROWS."""
    now = 1.0 - col["null_share"]
    minimum = MIN_ROWS_EMPTY if now == 0 else MIN_ROWS
    sized = _last(past, lambda r: r["rows"] >= minimum)
    if col["rows"] < minimum or sized is None:
        return None
    was = 1.0 - sized["null_share"]
    if not (was >= POPULATED_MIN and now < was / 2):
        return None
    return _row(
        first,
        "population_drop",
        col["header"],
        f"column '{col['header']}' was {was:.0%} populated, now {now:.0%}",
        canonical_column=col["canonical_column"],
        previous=f"{was:.3f}",
        current=f"{now:.3f}",
        **_ref(sized),
    )


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain dicts, missing values as None: the rules look at a few profiles per file
    and column, where a pandas filter or row lookup per rule cost a millisecond each."""
    return [
        {
            k: (None if not isinstance(v, list | np.ndarray) and pd.isna(v) else v)
            for k, v in r.items()
        }
        for r in frame.to_dict("records")
    ]


def _column_drift(columns: list[dict], history: list[dict]) -> list[dict]:
    """Type, format and population drift of the columns today's file shares with its source's
    earlier good profiles (`history`, in comparison order)."""
    out = []
    by_column: dict = {}
    for record in history:
        by_column.setdefault(record["header_key"], []).append(record)
    first = columns[0]
    for col in columns:
        past = by_column.get(col["header_key"])
        if not past:
            continue
        kind = col["inferred_type"]
        typed = _last(past, lambda r: r["inferred_type"] != "empty")
        if kind != "empty" and typed is not None:
            before = typed["inferred_type"]
            if _family(before) != _family(kind):
                out.append(
                    _row(
                        first,
                        "type_change",
                        col["header"],
                        f"column '{col['header']}' changed type from {before} to {kind}",
                        canonical_column=col["canonical_column"],
                        previous=before,
                        current=kind,
                        **_ref(typed),
                    )
                )
        styled = [r for r in past if r["date_style"] is not None]
        if kind in ("date", "datetime") and col["date_style"] is not None and styled:
            fmt = _format_drift(col, styled, first)
            if fmt is not None:
                out.append(fmt)
        drop = _population_drop(col, past, first)
        if drop is not None:
            out.append(drop)
    return out


def _good_in_order(history: pd.DataFrame) -> pd.DataFrame:
    good = history[history["file_status"] == "ok"]
    return good.sort_values([LANDING_DAY, "source_file", "position"], kind="stable")


def compact_history(history: pd.DataFrame) -> pd.DataFrame:
    """The earlier profiles a comparison can still use, in comparison order: every column of each
    source's last good file (the header baseline) and, per source and column, the last good
    profile and the last one meeting each condition the column checks look back for. The result
    compares exactly like the full history, and stays a few rows per column however long the
    history grows (a backfill carried every day's profiles and re-filtered them per column)."""
    if history.empty:
        return history
    good = _good_in_order(history).reset_index(drop=True)
    column = good.groupby(["source", "header_key"], sort=False, dropna=False)
    keep = column.tail(1).index
    for condition in (
        good["inferred_type"] != "empty",
        good["date_style"].notna(),
        good["date_style"].isin(["mdy", "dmy"]),
        good["rows"] >= MIN_ROWS,
        good["rows"] >= MIN_ROWS_EMPTY,
    ):
        picked = good[condition.fillna(False).to_numpy(dtype=bool)]
        keep = keep.union(
            picked.groupby(["source", "header_key"], sort=False, dropna=False).tail(1).index
        )
    file_key = good[LANDING_DAY].astype("str") + "\x1f" + good["source_file"].astype("str")
    last_file = file_key.groupby(good["source"], sort=False).transform("last")
    keep = keep.union(good.index[(file_key == last_file).to_numpy(dtype=bool)])
    return good.loc[keep.sort_values()].reset_index(drop=True)


def compare_profiles(
    today: pd.DataFrame,
    history: pd.DataFrame,
    block: Collection[str] = (),
    *,
    compacted: bool = False,
) -> pd.DataFrame:
    """`schema_drift` rows of today's profiles against `history` (earlier days' profiles with a
    `_landing_day` column); `blocking` is set for the kinds in `block`. `compacted`: `history`
    is already `compact_history`'s output (compacting is idempotent; a multi-day ingest keeps it
    compacted day by day, so it is not compacted twice a day)."""
    rows: list[dict] = []
    good = history if compacted else compact_history(history)
    files: dict[str, list[dict]] = {}
    for column in _records(today):
        files.setdefault(column["source_file"], []).append(column)
    # Only the sources landing today are looked at: converted once, grouped in good's order.
    past_by_source: dict[str, list[dict]] = {}
    if not good.empty:
        sources = {c[0]["source"] for c in files.values()}
        for record in _records(good[good["source"].isin(sources).to_numpy(dtype=bool)]):
            past_by_source.setdefault(record["source"], []).append(record)
    for source_file in sorted(files):
        file_profile = sorted(files[source_file], key=lambda c: c["position"])
        past = past_by_source.get(file_profile[0]["source"])
        if not past:
            continue  # the first file of a source is its own baseline
        last = (past[-1][LANDING_DAY], past[-1]["source_file"])
        base = [r for r in past if (r[LANDING_DAY], r["source_file"]) == last]
        rows += _header_drift(file_profile, base, _ref(base[0]))
        rows += _column_drift(file_profile, past)
    if not rows:
        return SCHEMA_DRIFT.empty_frame()
    out = pd.DataFrame(rows)
    out["blocking"] = out["drift_kind"].isin(list(block)).to_numpy(dtype=bool)
    out = out.sort_values(["source_file", "drift_kind", "column"], kind="stable")
    return conform(out, SCHEMA_DRIFT)


def blocking_reasons(drift: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """entity -> source_file -> details of the drift that blocks it."""
    out: dict[str, dict[str, list[str]]] = {}
    hits = drift[drift["blocking"].fillna(False).to_numpy(dtype=bool)]
    for row in hits.itertuples(index=False):
        out.setdefault(row.entity, {}).setdefault(row.source_file, []).append(
            f"{row.drift_kind}: {row.detail}"
        )
    return out


__all__ = [
    "LANDING_DAY",
    "blocking_reasons",
    "compact_history",
    "compare_profiles",
    "name_score",
    "sketch_overlap",
]
