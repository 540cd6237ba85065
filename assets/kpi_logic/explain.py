"""Explain one kpi_summary cell: the rows that make it and the integer-cent arithmetic.

Pure (no Dagster, no I/O). The facts are the ones `build_kpi_summary` aggregates, built by the
same functions (`facts`, `pipeline`, `summary.target_facts`) with the same dimensions and
calendar, so an explanation agrees with the cell by construction; only the final filter (one
period, one dimension value) and the lineage join are added here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from assets.ingest.currency import money_date
from assets.kpi_logic import facts as F
from assets.kpi_logic.common import ALL, month_start
from assets.kpi_logic.dimensions import Dimensions
from assets.kpi_logic.periods import Calendar
from assets.kpi_logic.pipeline import pipeline_facts
from assets.kpi_logic.summary import target_facts
from assets.state_logic import Snapshot, latest_versions
from schemas.kpis import DIMENSIONS, GRAINS

ROW_COLUMNS = [
    "entity",
    "record_id",
    "version",
    "day",
    "amount_local",
    "currency",
    "fx_rate",
    "fx_date",
    "amount",
    "cents",
    "probability",
    "weighted_cents",
    "cycle_days",
    "account_id",
    "_source_file",
    "_source_row",
]

# metric -> (fact kind, how the rows make the value)
METRICS: dict[str, tuple[str, str]] = {
    "revenue": ("revenue", "cents"),
    "orders": ("revenue", "count"),
    "aov": ("revenue", "aov"),
    "active_customers": ("revenue", "distinct_accounts"),
    "new_customers": ("new_customers", "count"),
    "opportunities_created": ("created", "count"),
    "opportunities_won": ("won", "count"),
    "opportunities_lost": ("lost", "count"),
    "won_amount": ("won", "cents"),
    "win_rate": ("closed", "win_rate"),
    "win_rate_amount": ("closed", "win_rate_amount"),
    "avg_sales_cycle_days": ("won", "mean_cycle"),
    "pipeline_amount": ("pipeline", "cents"),
    "weighted_pipeline": ("pipeline", "weighted_cents"),
    "activities": ("activities", "count"),
    "activities_per_day": ("activities", "per_day"),
    "target_amount": ("targets", "cents"),
    "attainment": ("attainment", "attainment"),
}


@dataclass(frozen=True)
class Cell:
    """One kpi_summary cell: its key and metric."""

    grain: str
    period_start: date
    dimension: str
    dimension_value: str
    metric: str

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {self.grain!r}")
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(METRICS)}")


@dataclass
class Explanation:
    cell: Cell
    value: float | int | None
    """The cell's value, computed from `rows` (null: a ratio with a zero denominator, no target)."""
    rows: pd.DataFrame
    """Contributing rows (`ROW_COLUMNS`); a ratio lists its numerator's and denominator's rows."""
    arithmetic: str
    """The computation from the rows, in integer cents for money."""


def command_for(day: date | str, cell: Cell | None = None) -> str:
    """The command line explaining a cell of the kpi_summary partition `day` (default: the
    overall revenue of the month of `day`)."""
    as_of = date.fromisoformat(str(day))
    cell = cell or Cell("month", as_of.replace(day=1), "overall", ALL, "revenue")
    return (
        f"sales-pipeline explain --day {as_of} --grain {cell.grain} --period {cell.period_start}"
        f" --dimension {cell.dimension} --value {shlex.quote(cell.dimension_value)}"
        f" --metric {cell.metric}"
    )


def _sum_text(cents: pd.Series) -> str:
    terms = " + ".join(str(int(c)) for c in cents)
    return f"{terms or '0'} = {int(cents.sum())} cents"


def _fx(dates: pd.Series, currencies: pd.Series, fx: pd.DataFrame, reporting: str):
    """(rate, rate_date): the latest rate on or before each date (the reporting currency is 1)."""
    rate = pd.Series(np.where(currencies == reporting, 1.0, np.nan), index=dates.index)
    rate_date = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[s]")
    need = (currencies != reporting) & currencies.notna() & dates.notna()
    if need.any() and len(fx):
        left = pd.DataFrame(
            {"d": dates[need].astype("datetime64[s]"), "currency": currencies[need].astype("str")}
        ).reset_index()
        right = fx.assign(
            d=fx["rate_date"].astype("datetime64[s]"), currency=fx["currency"].astype("str")
        )[["d", "currency", "rate"]].assign(rate_date=lambda f: f["d"])
        merged = pd.merge_asof(
            left.sort_values("d"), right.sort_values("d"), on="d", by="currency"
        ).set_index("index")
        rate[merged.index] = merged["rate"]
        rate_date[merged.index] = merged["rate_date"]
    return rate, rate_date


class Explainer:
    """Builds the KPI facts of one snapshot once; `explain` then filters them per cell."""

    def __init__(
        self,
        snap: Snapshot,
        *,
        tz: str = "UTC",
        segments: pd.DataFrame | None = None,
        currency: str = "USD",
        opportunity_records: pd.DataFrame | None = None,
    ) -> None:
        """`opportunity_records`: every clean opportunities record <= D with `_landing_day`,
        to trace pipeline versions to their landing rows (without it their lineage is null)."""
        self.snap, self.tz, self.currency = snap, tz, currency
        self.dims = Dimensions.from_snapshot(snap, segments)
        self.calendar = Calendar.spanning(F.first_event_day(snap, tz), snap.as_of, tz)
        self.records = opportunity_records

    @cached_property
    def revenue(self) -> pd.DataFrame:
        return F.revenue_facts(self.snap, self.dims)

    @cached_property
    def closed(self) -> pd.DataFrame:
        return F.closed_facts(self.snap, self.dims, self.tz)

    def _pipeline(self, grain: str) -> pd.DataFrame:
        return pipeline_facts(self.snap, self.dims, self.calendar, grain)

    def _facts(self, kind: str, cell: Cell) -> pd.DataFrame:
        if kind == "revenue":
            return self.revenue
        if kind == "new_customers":
            return F.first_order_facts(self.revenue, by_product=cell.dimension == "product")
        if kind == "created":
            return F.created_facts(self.snap, self.dims, self.tz)
        if kind in ("won", "lost", "closed"):
            c = self.closed
            return c if kind == "closed" else c[c[kind] == 1]
        if kind == "activities":
            return F.activity_facts(self.snap, self.dims, self.tz)
        if kind == "pipeline":
            return self._pipeline(cell.grain)
        raise KeyError(kind)

    def _select(self, facts: pd.DataFrame, cell: Cell) -> pd.DataFrame:
        start = pd.Timestamp(cell.period_start)
        if "period_start" in facts.columns:
            period = facts["period_start"]
        else:
            period = facts["day"] if cell.grain == "day" else month_start(facts["day"])
        keep = period == start
        if cell.dimension != "overall":
            keep &= facts[cell.dimension] == cell.dimension_value
        elif cell.dimension_value != ALL:
            keep &= False
        return facts[keep.to_numpy()].reset_index(drop=True)

    def explain(self, cell: Cell) -> Explanation:
        kind, rule = METRICS[cell.metric]
        if kind == "targets":
            return self._targets(cell)
        if kind == "attainment":
            return self._attainment(cell)
        rows = self._select(self._facts(kind, cell), cell)
        lineage = self._lineage(kind, rows)
        return _combine(cell, rule, rows, lineage, self._days(cell))

    def _days(self, cell: Cell) -> int:
        periods = self.calendar.periods(cell.grain)
        pos = periods.get_indexer([pd.Timestamp(cell.period_start)])[0]
        return int(self.calendar.days_elapsed(cell.grain)[pos]) if pos >= 0 else 0

    def _lineage(self, kind: str, rows: pd.DataFrame) -> pd.DataFrame:
        """ROW_COLUMNS for the fact rows: the record behind each (state, or history version)."""
        snap = self.snap
        if kind in ("revenue", "new_customers") and snap.revenue_source == "orders":
            entity, key, state = "orders", "order_id", snap.orders
            ids = rows["order_id"]
        elif kind in ("revenue", "new_customers"):
            entity, key, state = "opportunities", "opportunity_id", snap.opportunities
            ids = rows["order_id"]
        elif kind == "activities":
            entity, key, state = "activities", "activity_id", snap.activities
            ids = rows["activity_id"]
        elif kind == "pipeline":
            return self._pipeline_lineage(rows)
        else:
            entity, key, state = "opportunities", "opportunity_id", snap.opportunities
            ids = rows["opportunity_id"]
        rec = state.set_index(key).reindex(ids.astype("str").to_numpy()).reset_index()
        return self._money(entity, rec, rows, version=rec["updated_at"], record_id=rec[key])

    def _money(self, entity, rec, rows, *, version, record_id) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "entity": entity,
                "record_id": record_id.astype("str").to_numpy(),
                "version": version.to_numpy(),
                "day": rows["day"].to_numpy() if "day" in rows else rows["period_start"],
                "account_id": rows["account_id"].to_numpy() if "account_id" in rows else None,
                "_source_file": rec["_source_file"].to_numpy(),
                "_source_row": rec["_source_row"].to_numpy(),
            }
        )
        if "amount_local" in rec:
            typed = {c: rec[c] for c in ("order_date", "close_date", "created_at") if c in rec}
            kind = "opportunities" if entity == "opportunity_history" else entity
            dates = money_date(kind, typed, self.tz, rec.index)
            rate, rate_date = _fx(dates, rec["currency"], self.snap.fx_rates, self.currency)
            out["amount_local"] = rec["amount_local"].to_numpy()
            out["currency"] = rec["currency"].to_numpy()
            out["fx_rate"] = rate.to_numpy()
            out["fx_date"] = rate_date.to_numpy()
            out["amount"] = rec["amount"].to_numpy()
        for column in ("cents", "weighted_cents", "cycle_days"):
            if column in rows:
                out[column] = rows[column].to_numpy()
        if "won_cents" in rows:
            # A closed deal's amount whether won or lost (won_cents or lost_cents is zero).
            lost = rows.get("lost_cents", 0)
            out["cents"] = (rows["won_cents"] + lost).to_numpy()
        return out.reindex(columns=ROW_COLUMNS)

    def _pipeline_lineage(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The history version valid at the period end, traced to the landing record."""
        history = self.snap.opportunity_history.drop_duplicates(["opportunity_id", "valid_from"])
        keys = rows[["opportunity_id", "valid_from"]]
        version = keys.merge(history, on=["opportunity_id", "valid_from"], how="left")
        if self.records is not None and len(self.records):
            latest = latest_versions(self.records, ("opportunity_id", "updated_at"))
            rec = keys.merge(
                latest.rename(columns={"updated_at": "valid_from"}),
                on=["opportunity_id", "valid_from"],
                how="left",
                suffixes=("", "_rec"),
            )
        else:
            rec = keys.assign(
                _source_file=None, _source_row=None, amount_local=np.nan, currency=None
            )
        rec = rec.assign(
            amount=version["amount"].to_numpy(), close_date=version["close_date"].to_numpy()
        )
        if "created_at" not in rec:
            rec["created_at"] = pd.NaT
        out = self._money(
            "opportunity_history", rec, rows, version=keys["valid_from"], record_id=keys.iloc[:, 0]
        )
        out["probability"] = version["probability"].to_numpy()
        return out

    def _targets(self, cell: Cell) -> Explanation:
        t = target_facts(self.snap, self.calendar)
        hit = t[
            (t["period_start"] == pd.Timestamp(cell.period_start))
            & (t["dimension"] == cell.dimension)
            & (t["dimension_value"] == cell.dimension_value)
            & (cell.grain == "month")
        ]
        rec = self.snap.targets.iloc[hit["target_row"].to_numpy()].reset_index(drop=True)
        rows = pd.DataFrame(
            {
                "entity": "targets",
                "record_id": (rec["period"] + "/" + rec["rep_id"].fillna("") + "/")
                + rec["region"].fillna(""),
                "version": rec["updated_at"],
                "day": hit["period_start"].to_numpy(),
                "amount_local": rec["target_amount_local"],
                "currency": rec["currency"],
                "amount": rec["target_amount"],
                "cents": hit["target_cents"].to_numpy(),
                "_source_file": rec["_source_file"],
                "_source_row": rec["_source_row"],
            }
        ).reindex(columns=ROW_COLUMNS)
        dates = pd.to_datetime(rec["period"] + "-01", format="%Y-%m-%d")
        rows["fx_rate"], rows["fx_date"] = (
            s.to_numpy() for s in _fx(dates, rec["currency"], self.snap.fx_rates, self.currency)
        )
        if hit.empty:
            return Explanation(cell, None, rows, "no target for this month and value: null")
        cents = rows["cents"].astype("int64")
        value = int(cents.sum()) / 100.0
        return Explanation(cell, value, rows, f"target_amount = {_sum_text(cents)} = {value}")

    def _attainment(self, cell: Cell) -> Explanation:
        revenue = self.explain(Cell(**{**cell.__dict__, "metric": "revenue"}))
        target = self._targets(Cell(**{**cell.__dict__, "metric": "target_amount"}))
        rows = pd.concat([revenue.rows, target.rows], ignore_index=True)
        if not target.value:
            text = f"attainment = revenue / target = {revenue.value} / {target.value}: null"
            return Explanation(cell, None, rows, text)
        value = float(revenue.value) / float(target.value)
        text = (
            f"attainment = revenue / target_amount; revenue: {revenue.arithmetic}; "
            f"target: {target.arithmetic}; {revenue.value} / {target.value} = {value!r}"
        )
        return Explanation(cell, value, rows, text)


def _ratio(num, den) -> float | None:
    return None if not den else float(num) / float(den)


def _combine(
    cell: Cell, rule: str, rows: pd.DataFrame, lineage: pd.DataFrame, days: int
) -> Explanation:
    """The value from the rows, the way `summary._finish` derives it from the same integers."""
    m = cell.metric
    if rule == "cents" or rule == "weighted_cents":
        cents = lineage[rule].astype("int64")
        value = int(cents.sum()) / 100.0
        return Explanation(cell, value, lineage, f"{m} = {_sum_text(cents)} = {value}")
    n = len(rows)
    if rule == "count":
        return Explanation(cell, n, lineage, f"{m} = {n} rows")
    if rule == "distinct_accounts":
        k = int(rows["account_id"].nunique())
        return Explanation(cell, k, lineage, f"{m} = {k} distinct account_id in {n} rows")
    if rule == "aov":
        cents = lineage["cents"].astype("int64")
        revenue = int(cents.sum()) / 100.0
        value = _ratio(revenue, n)
        return Explanation(
            cell, value, lineage, f"aov = revenue / orders = ({_sum_text(cents)}) / {n} = {value}"
        )
    if rule == "win_rate":
        won, lost = int(rows["won"].sum()), int(rows["lost"].sum())
        value = _ratio(won, won + lost)
        return Explanation(
            cell, value, lineage, f"win_rate = won / (won + lost) = {won} / {won + lost} = {value}"
        )
    if rule == "win_rate_amount":
        won = rows["won_cents"].astype("int64")
        lost = rows["lost_cents"].astype("int64")
        won_c, lost_c = int(won.sum()), int(lost.sum())
        value = _ratio(won_c, won_c + lost_c)
        return Explanation(
            cell,
            value,
            lineage,
            f"win_rate_amount = won / (won + lost) in cents; won: {_sum_text(won[won != 0])}; "
            f"lost: {_sum_text(lost[lost != 0])}; {won_c} / {won_c + lost_c} = {value}",
        )
    if rule == "mean_cycle":
        total = float(rows["cycle_days"].sum())
        value = _ratio(total, n)
        terms = " + ".join(str(int(d)) for d in rows["cycle_days"])
        return Explanation(
            cell, value, lineage, f"avg_sales_cycle_days = ({terms or '0'}) / {n} = {value}"
        )
    if rule == "per_day":
        value = _ratio(n, days)
        return Explanation(
            cell, value, lineage, f"activities_per_day = {n} / {days} days = {value}"
        )
    raise KeyError(rule)


def explain_cell(
    snap: Snapshot,
    cell: Cell,
    *,
    tz: str = "UTC",
    segments: pd.DataFrame | None = None,
    currency: str = "USD",
    opportunity_records: pd.DataFrame | None = None,
) -> Explanation:
    """Explain one cell (see `Explainer` to explain many cells of one snapshot)."""
    explainer = Explainer(
        snap, tz=tz, segments=segments, currency=currency, opportunity_records=opportunity_records
    )
    return explainer.explain(cell)
