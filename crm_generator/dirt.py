"""Planted bad input: rows with exactly one known problem, duplicates and older versions.

Every planted bad row is a copy of a good row of the same file with a fresh ID (so it is never a
duplicate of anything) and one value broken in the file's own conventions. The quarantine share of
a file stays at or below 5%: a file gets at most `clean // 19` bad rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from crm_generator.styles import Style, format_scalar_ts
from crm_generator.vendors import Layout

MAX_SHARE = 0.05


@dataclass
class FileRows:
    """A file's content before serialisation, with what was planted in it."""

    headers: list[str]
    rows: list[list[str | None]]
    malformed: set[int] = field(default_factory=set)
    """Row positions written with extra fields (too many delimiters)."""
    planted: list[tuple[int, str]] = field(default_factory=list)
    """(0-based row position, reason) of planted bad rows."""
    duplicates: int = 0


def budget(clean: int, share: float = MAX_SHARE) -> int:
    """Most bad rows a file with `clean` good rows can carry without exceeding the share."""
    return int(np.floor(share * clean / (1 - share) + 1e-9))


def _breakers(
    entity: str, style: Style, day_end: datetime
) -> dict[str, list[tuple[str, Callable[[int], str | None]]]]:
    """reason -> candidate (canonical tag, value for the k-th planted row) in preference order."""
    dec = style.container == "txt"
    neg = "-250,00" if dec else "-250.00"
    null = style.null or None
    required = {
        "accounts": "account_name",
        "contacts": "created_at",
        "opportunities": "stage",
        "orders": "amount",
        "activities": "activity_type",
    }
    number = {
        "accounts": "employees",
        "opportunities": "amount",
        "orders": "amount",
        "activities": "duration_minutes",
        "campaigns": "cost",
    }
    dated = {
        "orders": "order_date",
        "opportunities": "close_date",
        "contacts": "created_at",
        "accounts": "created_at",
        "activities": "occurred_at",
    }
    out: dict[str, list[tuple[str, Callable[[int], str | None]]]] = {
        "missing_required": [(required[entity], lambda k: null)] if entity in required else [],
        "invalid_number": [(number[entity], lambda k: "TBD" if entity != "activities" else "long")]
        if entity in number
        else [],
        "negative_amount": [(c, lambda k: neg) for c in ("amount", "cost")],
        "invalid_date": [(dated[entity], lambda k: "2024-02-30")] if entity in dated else [],
        "future_date": [
            (
                "created_at",
                lambda k: format_scalar_ts(
                    pd.Timestamp(day_end + timedelta(days=2, hours=10)), style
                ),
            )
        ],
        "invalid_value": (
            [("activity_type", lambda k: "fax")]
            if not style.headers.startswith("salesforce")
            else []
        )
        + [("is_deleted", lambda k: "maybe")],
        "unknown_stage": [("stage", lambda k: "Stalled")],
        "probability_out_of_range": []
        if style.prob_fraction
        else [("probability", lambda k: "150")],
        "mangled_id": [("account_id", lambda k: f"{1.2345 + k / 1e4:.5f}E+17")],
        "no_fx_rate": [("currency", lambda k: "JPY")]
        if entity in ("orders", "opportunities")
        else [],
    }
    return out


def plant(
    content: FileRows,
    lay: Layout,
    style: Style,
    entity: str,
    day: date,
    reasons: list[str],
    n_exact: int,
    n_older: int,
    updated: np.ndarray | None,
    fresh_id: Callable[[], str],
    rng: np.random.Generator,
) -> FileRows:
    """Insert bad rows (one problem each) and duplicates at random places; record positions."""
    rows = content.rows
    n0 = len(rows)
    if n0 == 0:
        return content
    tags = {tag: i for i, (_h, tag, _k, _s) in enumerate(lay) if tag}
    id_col = 0
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time())
    breakers = _breakers(entity, style, day_end)
    extra: list[tuple[float, list, str | None]] = []  # (sort key, row, reason or "dup")
    k = 0
    usable = [
        r
        for r in reasons
        if (r == "malformed_line" and style.delimited)
        or any(t in tags for t, _ in breakers.get(r, []))
    ]
    for reason in usable[: budget(n0)]:
        if reason == "malformed_line":
            row = list(rows[int(rng.integers(n0))])
            row[id_col] = fresh_id()
            extra.append((float(rng.uniform(0, n0)), row, reason))
            continue
        tag, fn = next((t, f) for t, f in breakers[reason] if t in tags)
        col = tags[tag]
        candidates = np.arange(n0)
        if tag in ("amount", "currency") and "amount" in tags:
            # A broken amount or currency only shows on a row that has an amount.
            with_amount = [
                i for i in range(n0) if rows[i][tags["amount"]] not in (None, "", style.null)
            ]
            candidates = np.array(with_amount or [0])
        row = list(rows[int(rng.choice(candidates))])
        row[id_col] = fresh_id()
        row[col] = fn(k)
        k += 1
        extra.append((float(rng.uniform(0, n0)), row, reason))
    up_col = tags.get("updated_at")
    for j in range(n_exact + n_older):
        src = int(rng.integers(n0))
        row = list(rows[src])
        if (
            j >= n_exact
            and up_col is not None
            and updated is not None
            and rows[src][up_col] is not None
        ):
            # An older version of the same record: earlier updated_at, anywhere in the file.
            row[up_col] = format_scalar_ts(
                pd.Timestamp(updated[src]) - pd.Timedelta(hours=int(rng.integers(1, 5))), style
            )
            key = float(rng.uniform(0, n0))
        else:
            key = src + 0.5 + float(rng.uniform(0, n0 - src))  # exact duplicate: after its original
        extra.append((key, row, "dup"))
    keys = [float(i) for i in range(n0)] + [e[0] for e in extra]
    order = np.argsort(np.array(keys), kind="stable")
    all_rows = rows + [e[1] for e in extra]
    tagged = [None] * n0 + [e[2] for e in extra]
    out = FileRows(headers=content.headers, rows=[all_rows[i] for i in order])
    for new_pos, old in enumerate(order):
        reason = tagged[old]
        if reason == "dup":
            out.duplicates += 1
        elif reason is not None:
            out.planted.append((new_pos, reason))
            if reason == "malformed_line":
                out.malformed.add(new_pos)
    return out
