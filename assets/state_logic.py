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
    return split_latest(records, entity)[0]


def tie_content(entity: str) -> list[str]:
    """The columns whose difference between two tied versions loses data: for opportunities what
    `opportunity_history` keeps of a version (its stage history), for the others every column
    but the lineage (`_source_file`, `_source_row`)."""
    if entity == "opportunities":
        return ["stage", "amount", "probability", "close_date", "owner_id", "is_deleted"]
    return [c for c in TABLES[entity].column_names if not c.startswith("_")]


def conflicting_ties(
    records: pd.DataFrame, key: tuple[str, ...], content: list[str] | None = None
) -> int:
    """Versions of a record from different landing days with the same `updated_at` but different
    content: the upsert keeps the later day's (contract), so the earlier content is lost from
    history. Returns how many (key, updated_at) versions that happened to; a re-sent identical
    copy does not count. `content` defaults to every column but the lineage (`_source_file`,
    `_source_row`, the landing day)."""
    if records.empty:
        return 0
    version = [*key, "updated_at"]
    tied = records[records.duplicated(version, keep=False)]
    if tied.empty:
        return 0
    if content is None:
        content = [c for c in tied.columns if not c.startswith("_")]
    content = list(dict.fromkeys([*version, *(c for c in content if c in tied.columns)]))
    variants = tied.drop_duplicates(content).groupby(version, dropna=False).size()
    days = tied.groupby(version, dropna=False)[LANDING_DAY].nunique()
    return int(((variants > 1) & (days.reindex(variants.index) > 1)).sum())


def new_conflicting_ties(previous: pd.DataFrame, increment: pd.DataFrame, entity: str) -> int:
    """`conflicting_ties` that the partitions of an increment add to an earlier state:
    `previous` holds the versions kept before it (one row per version: for opportunities the
    history with `valid_from` as `updated_at`, else the latest versions and tombstones), all
    landed before every increment row."""
    if increment.empty:
        return 0
    key = ENTITY_KEYS[entity]
    content = [c for c in tie_content(entity) if c in previous and c in increment]
    columns = list(dict.fromkeys([*key, "updated_at", *content]))
    touched = previous[columns].merge(increment[list(key)].drop_duplicates(), on=list(key))
    combined = _with_base(touched, increment[[*columns, LANDING_DAY]])
    return conflicting_ties(combined, key, content)


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


_BASE_RANK = "_base_rank"
"""Sort column of an increment: 0 for the previous state's rows, 1 for the new partitions' rows."""


def _with_base(previous: pd.DataFrame, increment: pd.DataFrame) -> pd.DataFrame:
    """Previous rows first, ranked below every new row: all of them landed before the increment,
    so on an updated_at tie the new row wins, exactly as 'the later landing day' does in a rebuild."""
    base = previous.assign(**{_BASE_RANK: 0, LANDING_DAY: pd.Timestamp(0)})
    return pd.concat([base, increment.assign(**{_BASE_RANK: 1})], ignore_index=True)


def _latest_after(previous: pd.DataFrame, increment: pd.DataFrame, key: tuple[str, ...]):
    combined = _with_base(previous, increment)
    order = [c for c in ("updated_at", _BASE_RANK, LANDING_DAY, "_source_row") if c in combined]
    ordered = combined.sort_values(order, kind="stable")
    return ordered.drop_duplicates(subset=list(key), keep="last").reset_index(drop=True)


def split_latest(records: pd.DataFrame, entity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(state, tombstones) from every record up to D: the upsert rule, and the latest versions
    that are deletions (kept so that a later re-send of an older version does not revive them)."""
    latest = latest_versions(records, ENTITY_KEYS[entity])
    return _split(latest, entity)


def advance_latest(
    state: pd.DataFrame, tombstones: pd.DataFrame, increment: pd.DataFrame, entity: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(state, tombstones) as of D from those as of an earlier day D' plus the records of the
    partitions in (D', D] (with `_landing_day`): equal to `split_latest` over every record <= D.

    The previous state and tombstones hold exactly one row per key (the latest version up to D'),
    which is all the upsert rule needs of the older partitions.
    """
    key = ENTITY_KEYS[entity]
    if increment.empty:
        return state, tombstones
    previous = pd.concat([state, tombstones], ignore_index=True)
    if len(key) > 1:
        return _split(_latest_after(previous, increment, key), entity)
    # A key the increment does not touch keeps its one previous row: only the touched keys are
    # re-ranked (a night's delta is a few thousand rows; the state is millions).
    touched = previous[key[0]].isin(increment[key[0]].unique()).to_numpy()
    resolved = _latest_after(previous[touched], increment, key)
    return _split(pd.concat([previous[~touched], resolved], ignore_index=True), entity)


def _split(latest: pd.DataFrame, entity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    key = list(ENTITY_KEYS[entity])
    deleted = latest["is_deleted"].fillna(False).astype(bool)
    out = []
    for part in (latest[~deleted], latest[deleted]):
        part = conform(part, TABLES[entity])
        out.append(part.sort_values(key, kind="stable", na_position="first").reset_index(drop=True))
    return out[0], out[1]


def advance_history(history: pd.DataFrame, increment: pd.DataFrame) -> pd.DataFrame:
    """`opportunity_history` as of D from the history as of D' and the opportunity records of the
    partitions in (D', D]: equal to `build_opportunity_history` over every record <= D.

    Only opportunities the increment touches are re-versioned (their valid_to chain may change);
    a version re-sent with the same updated_at takes the new content, as in a rebuild.
    """
    if increment.empty:
        return history
    touched = increment["opportunity_id"].unique()
    hit = history["opportunity_id"].isin(touched)
    previous = history[hit].rename(columns={"valid_from": "updated_at"}).drop(columns="valid_to")
    versions = _latest_after(previous, increment, ("opportunity_id", "updated_at"))
    redone = build_opportunity_history(versions)
    out = pd.concat([history[~hit], redone], ignore_index=True)
    out = out.sort_values(["opportunity_id", "valid_from"], kind="stable")
    return conform(out.reset_index(drop=True), OPPORTUNITY_HISTORY)


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
