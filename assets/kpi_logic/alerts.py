"""kpi_alerts: monitoring alerts raised as of D.

Grain: one row per alert. Sorted by (alert_code, dimension, dimension_value, period_start).
Rules (contract "Alerts", thresholds from `schemas.thresholds.Thresholds`):

- attainment_low (warning): completed months only (the month's last day <= D), overall / region /
  owner rows that have a target; a month qualifies when it and the previous
  `attainment_months - 1` calendar months all have attainment < `attainment_min`. One alert per
  dimension value, dated at its latest qualifying month; value = that month's attainment. By
  default only streaks still running (their latest month is the latest completed month) alert;
  `attainment_streak_max_age_months` > 0 also reports streaks that ended at most that many months
  before, and the message says how long ago they ended.
- win_rate_low (warning) and sales_cycle_long (warning): live deals with close_date in
  [D-89, D] (current stage), for overall / region / owner values where at least
  `min_closed_deals` deals closed (won + lost); period_start = D-89 (the window's first day).
  win_rate = won / closed < `win_rate_min`; average won cycle (whole days) > `sales_cycle_max_days`.
- churn_risk_high (warning): share of `high` among scored customers > `churn_high_share_max`,
  overall, period_start = D. No churn scores -> no alert.
- data_quality (critical): every file of `audit` landed on or before D whose status is `blocked`
  or whose quarantine share rows_quarantined / (rows_read - rows_duplicate) is above
  `max_quarantine_share` (the max_quarantine setting); dimension `file`, dimension_value = source_file, period_start = landing
  day, value = the share (null when nothing was read). A file blocked as a whole (unreadable,
  missing column, broken archive) names its file-level reason (the audit's message) rather than
  a row count.
- schema_drift (warning; critical where the drift kind blocks): every `schema_drift` row of a
  file landed in [D - drift_alert_days + 1, D]; dimension `file`, dimension_value = source_file,
  period_start = landing day, value null, the message naming the kind, column and change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.kpi_logic import facts as F
from assets.kpi_logic.common import ALL, group_by_dimension, ratio
from assets.kpi_logic.dimensions import Dimensions
from assets.state_logic import Snapshot
from schemas import TABLES, conform
from schemas.thresholds import MAX_QUARANTINE_DEFAULT, Thresholds

WARNING, CRITICAL = "warning", "critical"
_ALERT_DIMENSIONS = ("overall", "region", "owner")
WINDOW_DAYS = 90
DEFAULT_THRESHOLDS = Thresholds()


def _frame(
    code: str, severity: str, rows: pd.DataFrame, threshold: float, message: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "alert_code": code,
            "severity": severity,
            "dimension": rows["dimension"].to_numpy(),
            "dimension_value": rows["dimension_value"].to_numpy(),
            "period_start": rows["period_start"].to_numpy(),
            "value": rows["value"].astype("float64").to_numpy(),
            "threshold": float(threshold),
            "message": message.to_numpy(),
        }
    )


def attainment_alerts(summary: pd.DataFrame, as_of: pd.Timestamp, t: Thresholds) -> pd.DataFrame:
    """attainment_low: `attainment_months` consecutive completed months below `attainment_min`."""
    next_month = (as_of + pd.Timedelta(days=1)).to_period("M").start_time
    rows = summary[
        (summary["period_grain"] == "month")
        & summary["dimension"].isin(_ALERT_DIMENSIONS)
        & summary["attainment"].notna()
        & (summary["period_start"] < next_month)  # completed: the month's last day is <= D
    ]
    low = rows[rows["attainment"] < t.attainment_min].sort_values(
        ["dimension", "dimension_value", "period_start"]
    )
    if low.empty:
        return pd.DataFrame()
    # Consecutive calendar months form a run: month number minus position within the value is constant.
    month_no = low["period_start"].dt.year * 12 + low["period_start"].dt.month
    keys = [low["dimension"], low["dimension_value"]]
    run_id = month_no - low.groupby(keys).cumcount()
    run_len = low.groupby([low["dimension"], low["dimension_value"], run_id]).cumcount() + 1
    hits = low[run_len.to_numpy() >= t.attainment_months]
    latest = hits.sort_values("period_start").drop_duplicates(
        ["dimension", "dimension_value"], keep="last"
    )
    last_completed = next_month - pd.DateOffset(months=1)
    age = (last_completed.year * 12 + last_completed.month) - (
        latest["period_start"].dt.year * 12 + latest["period_start"].dt.month
    )
    latest = latest[(age <= t.attainment_streak_max_age_months).to_numpy()]
    age = age[age <= t.attainment_streak_max_age_months]
    if latest.empty:
        return pd.DataFrame()
    latest = latest.assign(value=latest["attainment"])
    status = pd.Series(
        np.where(
            age == 0,
            "still running",
            "ended " + age.astype("str") + np.where(age == 1, " month ago", " months ago"),
        ),
        index=latest.index,
    )
    message = (
        "Attainment "
        + (latest["value"] * 100).round(1).astype("str")
        + "% for "
        + latest["dimension"]
        + " "
        + latest["dimension_label"]
        + f": below {t.attainment_min:.0%} of target for {t.attainment_months}+ consecutive months, latest "
        + latest["period_start"].dt.strftime("%Y-%m")
        + " ("
        + status
        + ")"
    )
    return _frame("attainment_low", WARNING, latest, t.attainment_min, message)


def window_alerts(snap: Snapshot, t: Thresholds, tz: str) -> pd.DataFrame:
    """win_rate_low and sales_cycle_long over deals closed in [D-89, D]."""
    as_of = pd.Timestamp(snap.as_of)
    start = as_of - pd.Timedelta(days=WINDOW_DAYS - 1)
    dims = Dimensions.from_snapshot(snap)  # segments play no part in these dimensions
    closed = F.closed_facts(snap, dims, tz)
    closed = closed[closed["day"] >= start].assign(period_start=start)
    stats = group_by_dimension(
        closed,
        "window",
        {"won": ("won", "sum"), "lost": ("lost", "sum"), "cycle_sum": ("cycle_days", "sum")},
        _ALERT_DIMENSIONS,
    )
    stats["closed"] = stats["won"] + stats["lost"]
    stats = stats[stats["closed"] >= t.min_closed_deals]
    stats["win_rate"] = ratio(stats["won"], stats["closed"])
    stats["cycle"] = ratio(stats["cycle_sum"], stats["won"])
    label = pd.Series("", index=stats.index, dtype="str")
    for dimension in _ALERT_DIMENSIONS:
        mask = stats["dimension"] == dimension
        label[mask] = dims.label(dimension, stats.loc[mask, "dimension_value"])
    stats["label"] = stats["dimension"] + " " + label
    window = f"{start:%Y-%m-%d}..{as_of:%Y-%m-%d}"

    low = stats[stats["win_rate"] < t.win_rate_min].assign(value=lambda s: s["win_rate"])
    low_msg = (
        "Win rate "
        + (low["value"] * 100).round(1).astype("str")
        + "% ("
        + low["won"].astype("str")
        + " won of "
        + low["closed"].astype("str")
        + f" closed, {window}) for "
        + low["label"]
        + f" is below the {t.win_rate_min:.0%} benchmark"
    )
    long = stats[stats["cycle"] > t.sales_cycle_max_days].assign(value=lambda s: s["cycle"])
    long_msg = (
        "Average sales cycle "
        + long["value"].round(1).astype("str")
        + f" days ({window}) for "
        + long["label"]
        + f" is above the {t.sales_cycle_max_days:g}-day standard"
    )
    return pd.concat(
        [
            _frame("win_rate_low", WARNING, low, t.win_rate_min, low_msg),
            _frame("sales_cycle_long", WARNING, long, t.sales_cycle_max_days, long_msg),
        ],
        ignore_index=True,
    )


def churn_alerts(
    churn_scores: pd.DataFrame | None, as_of: pd.Timestamp, t: Thresholds
) -> pd.DataFrame:
    """churn_risk_high: share of high-tier customers among the scored ones."""
    if churn_scores is None or churn_scores.empty:
        return pd.DataFrame()
    share = float((churn_scores["risk_tier"] == "high").mean())
    if not share > t.churn_high_share_max:
        return pd.DataFrame()
    high = int((churn_scores["risk_tier"] == "high").sum())
    rows = pd.DataFrame(
        {
            "dimension": ["overall"],
            "dimension_value": [ALL],
            "period_start": [as_of],
            "value": [share],
        }
    )
    message = pd.Series(
        [
            f"{share:.1%} of scored customers ({high} of {len(churn_scores)}) are high churn risk, "
            f"above the {t.churn_high_share_max:.0%} limit"
        ]
    )
    return _frame("churn_risk_high", WARNING, rows, t.churn_high_share_max, message)


def data_quality_alerts(
    audit: pd.DataFrame | None, as_of: pd.Timestamp, max_quarantine_share: float
) -> pd.DataFrame:
    """data_quality: blocked files and files over the quarantine threshold, per landing day."""
    if audit is None or audit.empty:
        return pd.DataFrame()
    day = pd.to_datetime(audit["_landing_day"]).astype("datetime64[s]")
    # The latest ingest of a file wins: a re-run day replaces its audit rows.
    files = audit.assign(_landing_day=day)[day <= as_of].drop_duplicates(
        ["_landing_day", "source_file"], keep="last"
    )
    read = files["rows_read"].astype("float64") - files["rows_duplicate"].astype("float64")
    share = ratio(files["rows_quarantined"], read)
    bad = (files["status"] == "blocked") | (share.fillna(0.0) > max_quarantine_share)
    rows = files[bad.to_numpy()]
    rows = pd.DataFrame(
        {
            "dimension": "file",
            "dimension_value": rows["source_file"].astype("str"),
            "period_start": rows["_landing_day"],
            "value": share[bad.to_numpy()],
            "entity": rows["entity"].astype("str"),
            "status": rows["status"].astype("str"),
            "quarantined": rows["rows_quarantined"].astype("int64"),
            "read": rows["rows_read"].astype("int64"),
            "reason": _file_reason(rows),
        }
    )
    counts = (
        rows["quarantined"].astype("str")
        + " of "
        + rows["read"].astype("str")
        + " rows quarantined"
        + np.where(rows["status"] == "blocked", ", partition blocked", "")
        + f" (threshold {max_quarantine_share:.0%})"
    )
    whole_file = rows["reason"].notna()
    detail = counts.where(~whole_file, "unreadable, partition blocked: " + rows["reason"])
    message = (
        rows["entity"]
        + " file "
        + rows["dimension_value"]
        + " landed "
        + rows["period_start"].dt.strftime("%Y-%m-%d")
        + ": "
        + detail
    )
    return _frame("data_quality", CRITICAL, rows, max_quarantine_share, message)


def _file_reason(files: pd.DataFrame) -> pd.Series:
    """The file-level reason of a file blocked as a whole, else null. Ingest audits such a file
    with every row quarantined and its reason as the message ('<file>: <reason>'); a file blocked
    by its quarantine share has a message that counts rows instead."""
    message = files["message"].astype("object") if "message" in files else None
    if message is None:
        return pd.Series(None, index=files.index, dtype="object")
    whole = (
        (files["status"] == "blocked")
        & (files["rows_quarantined"] == files["rows_read"])
        & ~message.fillna("").str.contains(" rows quarantined (", regex=False)
        & message.notna()
    )
    prefix = files["source_file"].astype("str") + ": "
    reason = [
        m[len(p) :] if isinstance(m, str) and m.startswith(p) else m
        for m, p in zip(message, prefix, strict=True)
    ]
    return pd.Series(reason, index=files.index, dtype="object").where(whole.to_numpy())


def schema_drift_alerts(
    drift: pd.DataFrame | None, as_of: pd.Timestamp, t: Thresholds
) -> pd.DataFrame:
    """schema_drift: the drift of files landed in the last `drift_alert_days` days up to D."""
    if drift is None or drift.empty:
        return pd.DataFrame()
    day = pd.to_datetime(drift["_landing_day"]).astype("datetime64[s]")
    start = as_of - pd.Timedelta(days=t.drift_alert_days - 1)
    rows = drift.assign(_landing_day=day)[((day >= start) & (day <= as_of)).to_numpy()]
    if rows.empty:
        return pd.DataFrame()
    blocking = rows["blocking"].fillna(False).astype(bool).to_numpy()
    frame = pd.DataFrame(
        {
            "dimension": "file",
            "dimension_value": rows["source_file"].astype("str").to_numpy(),
            "period_start": rows["_landing_day"].to_numpy(),
            "value": np.nan,
        }
    )
    message = pd.Series(
        (
            rows["entity"]
            + " file "
            + rows["source_file"]
            + " landed "
            + rows["_landing_day"].dt.strftime("%Y-%m-%d")
            + ": schema drift ("
            + rows["drift_kind"]
            + "): "
            + rows["detail"]
            + np.where(blocking, "; partition blocked", "")
        ).to_numpy()
    )
    out = _frame("schema_drift", WARNING, frame, np.nan, message)
    out.loc[blocking, "severity"] = CRITICAL
    return out


def build_kpi_alerts(
    snap: Snapshot,
    summary: pd.DataFrame,
    *,
    tz: str = "UTC",
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    max_quarantine_share: float = MAX_QUARANTINE_DEFAULT,
    churn_scores: pd.DataFrame | None = None,
    audit: pd.DataFrame | None = None,
    drift: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All alerts as of D, conformed to `kpi_alerts`. `drift`: schema_drift rows with their
    `_landing_day`."""
    as_of = pd.Timestamp(snap.as_of)
    parts = [
        attainment_alerts(summary, as_of, thresholds),
        window_alerts(snap, thresholds, tz),
        churn_alerts(churn_scores, as_of, thresholds),
        data_quality_alerts(audit, as_of, max_quarantine_share),
        schema_drift_alerts(drift, as_of, thresholds),
    ]
    parts = [p for p in parts if not p.empty]
    table = TABLES["kpi_alerts"]
    if not parts:
        return table.empty_frame()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(
        ["alert_code", "dimension", "dimension_value", "period_start"], kind="stable"
    )
    return conform(out, table)
