"""Pure functions of the state layer: the upsert rule, opportunity history, revenue events.

No Dagster and no I/O here: the state assets read partitions and call these; analytics code
(KPIs, models) receives a `Snapshot` built from their outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from schemas import ENTITIES, TABLES, conform
from schemas.state import OPPORTUNITY_HISTORY

LANDING_DAY = "_landing_day"
"""Column added when clean partitions are read back: the landing day (partition) of each row."""

ENTITY_KEYS: dict[str, tuple[str, ...]] = {name: TABLES[name].primary_key for name in ENTITIES}


def _version_order(records: pd.DataFrame) -> list[str]:
    """Sort columns for 'latest wins': updated_at, then landing day, then position in the file."""
    return [c for c in ("updated_at", LANDING_DAY, "_source_row") if c in records.columns]


def latest_versions(records: pd.DataFrame, key: tuple[str, ...]) -> pd.DataFrame:
    """Latest version per key (ties on updated_at: the later landing day, then the later row).

    Keys may hold nulls (a company target has neither rep nor region), so nulls group together.
    """
    if records.empty:
        return records.reset_index(drop=True)
    ordered = records.sort_values(_version_order(records), kind="stable")
    return ordered.drop_duplicates(subset=list(key), keep="last").reset_index(drop=True)


def apply_upsert(records: pd.DataFrame, entity: str) -> pd.DataFrame:
    """The contract's upsert rule: latest version per key, deleted records removed.

    `records` holds every clean record of partitions <= D with a `_landing_day` column.
    The result has the entity table's columns (conformed dtypes), sorted by key.
    """
    key = ENTITY_KEYS[entity]
    latest = latest_versions(records, key)
    alive = latest[~latest["is_deleted"].fillna(False).astype(bool)]
    out = conform(alive, TABLES[entity])
    return out.sort_values(list(key), kind="stable", na_position="first").reset_index(drop=True)


def build_opportunity_history(records: pd.DataFrame) -> pd.DataFrame:
    """One row per opportunity version (distinct updated_at), valid on [valid_from, valid_to).

    A re-sent copy with the same updated_at is the same version; when it comes from a later
    landing day its content wins. Tombstones stay as versions with is_deleted = True, so a
    deleted deal counts until its tombstone's valid_from.
    """
    if records.empty:
        return OPPORTUNITY_HISTORY.empty_frame()
    versions = latest_versions(records, ("opportunity_id", "updated_at"))
    versions = versions.sort_values(["opportunity_id", "updated_at"], kind="stable")
    versions = versions.assign(
        valid_from=versions["updated_at"],
        valid_to=versions.groupby("opportunity_id", sort=False)["updated_at"].shift(-1),
    )
    return conform(versions, OPPORTUNITY_HISTORY)


@dataclass(frozen=True)
class Snapshot:
    """Everything analytics needs as of day D (state tables after the upsert rule)."""

    as_of: date
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    opportunities: pd.DataFrame
    orders: pd.DataFrame
    activities: pd.DataFrame
    reps: pd.DataFrame
    campaigns: pd.DataFrame
    targets: pd.DataFrame
    fx_rates: pd.DataFrame
    opportunity_history: pd.DataFrame
    revenue_source: str = "orders"
    """'orders' or 'won_opportunities' (already resolved from 'auto')."""

    @property
    def end_of_day(self) -> pd.Timestamp:
        """Exclusive end of D as a naive date boundary (the day after D)."""
        return pd.Timestamp(self.as_of) + pd.Timedelta(days=1)


REVENUE_COLUMNS = ["account_id", "order_id", "day", "amount", "product"]


def resolve_revenue_source(setting: str, orders_ever_landed: bool) -> str:
    """'auto' means orders where any orders file landed on or before D, else won opportunities."""
    if setting == "auto":
        return "orders" if orders_ever_landed else "won_opportunities"
    if setting not in ("orders", "won_opportunities"):
        raise ValueError(
            f"revenue source must be orders, won_opportunities or auto, not {setting!r}"
        )
    return setting


def revenue_events(snapshot: Snapshot) -> pd.DataFrame:
    """Completed revenue events as of D: account_id, order_id, day (datetime64[s]), amount, product.

    With orders: completed orders by order_date. With won opportunities: closed_won deals by
    close_date, the deal ID standing in as the order ID. Events after D are excluded.
    """
    if snapshot.revenue_source == "orders":
        src = snapshot.orders
        src = src[src["status"] == "completed"]
        events = pd.DataFrame(
            {
                "account_id": src["account_id"],
                "order_id": src["order_id"],
                "day": src["order_date"],
                "amount": src["amount"],
                "product": src["product"],
            }
        )
    else:
        src = snapshot.opportunities
        src = src[(src["stage"] == "closed_won") & src["close_date"].notna()]
        events = pd.DataFrame(
            {
                "account_id": src["account_id"],
                "order_id": src["opportunity_id"],
                "day": src["close_date"],
                "amount": src["amount"].fillna(0.0),
                "product": src["product"],
            }
        )
    events = events[events["day"] < snapshot.end_of_day]
    return events.astype({"day": "datetime64[s]", "amount": "float64"}).reset_index(drop=True)


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
