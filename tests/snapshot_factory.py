"""Test scaffolding: a `Snapshot` from partial, hand-written frames (missing tables are empty,
missing bookkeeping columns get defaults, every frame is conformed to its state table)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from assets.state_logic import ENTITY_KEYS, Snapshot
from schemas import TABLES, conform
from schemas.state import OPPORTUNITY_HISTORY


def make_snapshot(as_of: date, revenue_source: str = "orders", **frames: pd.DataFrame) -> Snapshot:
    """Build a Snapshot from partial frames (tests, notebooks): missing tables are empty, missing
    nullable columns are null, and every frame is conformed to its state table's dtypes."""
    tables: dict[str, pd.DataFrame] = {}
    for entity in ENTITY_KEYS:
        table = TABLES[f"{entity}_state"]
        given = frames.pop(entity, None)
        tables[entity] = (
            table.empty_frame() if given is None else conform(_with_defaults(given), table)
        )
    history = frames.pop("opportunity_history", None)
    if frames:
        raise TypeError(f"unknown snapshot tables: {sorted(frames)}")
    tables["opportunity_history"] = (
        OPPORTUNITY_HISTORY.empty_frame()
        if history is None
        else conform(history, OPPORTUNITY_HISTORY)
    )
    return Snapshot(as_of=as_of, revenue_source=revenue_source, **tables)


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the bookkeeping columns a hand-written test frame usually omits."""
    n = len(frame)
    defaults = {
        "is_deleted": False,
        "currency": "USD",
        "_source_file": "test",
        "_source_row": range(1, n + 1),
    }
    out = frame.copy()
    for column, value in defaults.items():
        if column not in out.columns:
            out[column] = list(value) if isinstance(value, range) else [value] * n
    if "updated_at" not in out.columns:
        for fallback in ("created_at", "occurred_at", "order_date", "rate_date"):
            if fallback in out.columns:
                out["updated_at"] = pd.to_datetime(out[fallback], utc=True)
                break
        else:
            out["updated_at"] = pd.Timestamp("2000-01-01", tz="UTC")
    for money in ("amount", "cost", "target_amount"):
        if money in out.columns and f"{money}_local" not in out.columns:
            out[f"{money}_local"] = out[money]
    return out
