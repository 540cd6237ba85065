"""customer_clv and clv_model_report as of D: BG/NBD + Gamma-Gamma lifetime value per customer.

Inputs are the completed revenue events as of D (`revenue_events`), summed per account and
calendar day: a customer's purchases on one day are one transaction (the convention of the
literature, and of the CDNOW benchmark). Per account with at least one completed order:
`frequency` = purchase days - 1 (repeat purchases), `recency_days` = last - first purchase day,
`tenure_days` (the models' T) = D - first purchase day, `avg_repeat_spend` = the mean value of the
repeat purchase days (the first purchase is excluded, as Gamma-Gamma asks).

The models are fitted in weeks (`clv_model_report` states alpha in weeks); `expected_purchases`
and `clv` cover `horizon_days` after D, CLV = sum over 30-day steps of expected purchases in the
step x Gamma-Gamma expected spend, discounted at an annual rate compounded to the step's end.
Where a fit is impossible (too few customers, no repeat buyer) the rows keep their counts and the
model columns are null; `model` says which models produced the values.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from assets.model_logic import btyd
from assets.model_logic.features import end_of_day_utc
from assets.model_logic.output import ModelOutput
from assets.model_logic.training import sample_positions
from assets.state_logic import Snapshot, revenue_events
from schemas import TABLES, conform

WEEK = 7.0
STEP_DAYS = 30
MIN_CUSTOMERS = 20
"""Below this many customers the BG/NBD fit is not attempted (4 parameters)."""
MIN_REPEAT_BUYERS = 10
"""Below this many repeat buyers with positive spend the Gamma-Gamma fit is not attempted."""
BGNBD, GAMMA_GAMMA = "bgnbd", "gamma_gamma"
FIT_MAX_CUSTOMERS = 25_000
"""The models are fitted on at most this many customers (a seeded sample; `n` in the report says
how many) and score every customer. Four or three parameters need no more, and the numerical
gradients over 100,000 customers were a third of the 27 s build."""
FIT_SALT = 6
"""`sample_positions` salt of the fitting sample (the training caps use 1-4, outliers 5)."""


def rfm_summary(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per account (sorted index): frequency, recency_days, tenure_days, avg_repeat_spend (NaN
    without repeat purchases), from events with account_id, day, amount."""
    events = events[events["account_id"].notna() & (events["day"] <= as_of)]
    daily = events.groupby(["account_id", "day"], sort=True)["amount"].sum().reset_index()
    by_account = daily.groupby("account_id", sort=True)
    first = by_account["day"].min()
    last = by_account["day"].max()
    repeat = daily[daily.groupby("account_id").cumcount() > 0]
    out = pd.DataFrame(
        {
            "frequency": (by_account.size() - 1).astype("int64"),
            "recency_days": (last - first).dt.days.astype("float64"),
            "tenure_days": (as_of - first).dt.days.astype("float64"),
        }
    )
    out["avg_repeat_spend"] = repeat.groupby("account_id")["amount"].mean().reindex(out.index)
    out.index = out.index.astype("str").rename("account_id")
    return out


def _fit_models(
    rfm: pd.DataFrame, random_state: int = 0
) -> tuple[btyd.BgNbd | None, btyd.GammaGamma | None, str]:
    rfm = rfm.iloc[sample_positions(len(rfm), FIT_MAX_CUSTOMERS, random_state, FIT_SALT)]
    x = rfm["frequency"].to_numpy("float64")
    t_x = rfm["recency_days"].to_numpy() / WEEK
    T = rfm["tenure_days"].to_numpy() / WEEK
    m_x = rfm["avg_repeat_spend"].to_numpy("float64")
    bg, gg, notes = None, None, []
    if len(rfm) < MIN_CUSTOMERS or not (x > 0).any():
        notes.append(f"BG/NBD not fitted: {len(rfm)} customers, {int((x > 0).sum())} repeat")
    else:
        bg = btyd.fit_bgnbd(x, t_x, T)
    repeat = int(((x > 0) & (np.nan_to_num(m_x) > 0)).sum())
    if repeat < MIN_REPEAT_BUYERS:
        notes.append(f"Gamma-Gamma not fitted: {repeat} repeat buyers")
    else:
        gg = btyd.fit_gamma_gamma(x, m_x)
        if gg.q <= 1.0:  # the expected spend p v / (q - 1) does not exist
            notes.append(f"Gamma-Gamma q = {gg.q:.3f} <= 1: spend falls back to the own mean")
    return bg, gg, "; ".join(notes)


def _customer_values(
    rfm: pd.DataFrame,
    bg: btyd.BgNbd | None,
    gg: btyd.GammaGamma | None,
    horizon_days: int,
    discount_rate: float,
) -> pd.DataFrame:
    x = rfm["frequency"].to_numpy("float64")
    t_x, T = rfm["recency_days"].to_numpy() / WEEK, rfm["tenure_days"].to_numpy() / WEEK
    m_x = rfm["avg_repeat_spend"].to_numpy("float64")
    out = rfm.copy()
    if gg is not None and gg.q > 1.0:
        spend, spend_model = btyd.expected_spend(gg, x, m_x), GAMMA_GAMMA
    else:
        own = np.where(np.isfinite(m_x), m_x, np.nanmean(m_x) if np.isfinite(m_x).any() else 0.0)
        spend, spend_model = own, "mean_spend"
    out["expected_spend"] = np.round(spend, 2)
    if bg is None:
        out["p_alive"] = np.nan
        out["expected_purchases"] = np.nan
        out["clv"] = np.nan
        out["model"] = "none"
        return out
    step = STEP_DAYS / WEEK
    per_step = (1.0 + discount_rate) ** (STEP_DAYS / 365.0) - 1.0
    purchases, value = btyd.discounted_clv(
        bg, spend, x, t_x, T, horizon=horizon_days / WEEK, step=step, discount_per_step=per_step
    )
    out["p_alive"] = btyd.p_alive(bg, x, t_x, T)
    out["expected_purchases"] = purchases
    out["clv"] = np.round(value, 2)
    out["model"] = f"{BGNBD}+{spend_model}"
    return out


def _report(
    bg: btyd.BgNbd | None,
    gg: btyd.GammaGamma | None,
    rfm: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon_days: int,
    discount_rate: float,
) -> pd.DataFrame:
    corr = btyd.spend_frequency_correlation(rfm["frequency"], rfm["avg_repeat_spend"])
    common = {
        "horizon_days": horizon_days,
        "discount_rate": discount_rate,
        "trained_at": end_of_day_utc(as_of.date()),
    }
    rows = []
    if bg is not None:
        fitted = asdict(bg)
        rows.append({"model": BGNBD, **fitted, **common})
    if gg is not None:
        fitted = asdict(gg)
        rows.append({"model": GAMMA_GAMMA, **fitted, "spend_frequency_corr": corr, **common})
    if not rows:
        return TABLES["clv_model_report"].empty_frame()
    return conform(pd.DataFrame(rows), TABLES["clv_model_report"])


def build_customer_clv(
    snap: Snapshot, *, horizon_days: int = 365, discount_rate: float = 0.10
) -> ModelOutput:
    """customer_clv and clv_model_report as of D (see module docstring)."""
    as_of = pd.Timestamp(snap.as_of)
    rfm = rfm_summary(revenue_events(snap), as_of)
    bg, gg, notes = _fit_models(rfm)
    values = _customer_values(rfm, bg, gg, horizon_days, discount_rate)
    table = values.assign(horizon_days=horizon_days).reset_index()
    table = conform(table, TABLES["customer_clv"])
    report = _report(
        bg, gg, rfm, as_of=as_of, horizon_days=horizon_days, discount_rate=discount_rate
    )
    metadata: dict[str, object] = {
        "customers": len(table),
        "repeat_buyers": int((table["frequency"] > 0).sum()),
        "notes": notes or "both models fitted",
        "report": report.drop(columns=["trained_at"]).round(4).to_markdown(index=False)
        if len(report)
        else "no model fitted",
    }
    if len(table) and bg is not None:
        metadata["clv_total"] = float(table["clv"].sum())
        metadata["p_alive_median"] = float(table["p_alive"].median())
    return ModelOutput(
        tables={"customer_clv": table, "clv_model_report": report}, metadata=metadata
    )
