"""BG/NBD and Gamma-Gamma: recovery of planted parameters, CDNOW known answers, expectations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assets.model_logic import btyd
from assets.model_logic.probabilistic_clv import build_customer_clv, rfm_summary
from tests.snapshot_factory import make_snapshot

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "CDNOW_sample.txt"


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, T: float, seed: int):
    """Customers born at 0 observed until T (the model's generative story, vectorised by steps)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    t, alive = np.zeros(n), np.ones(n, dtype=bool)
    while alive.any():
        t = t + rng.exponential(1.0 / lam)
        bought = alive & (t <= T)
        x[bought] += 1
        t_x[bought] = t[bought]
        alive = bought & (rng.random(n) >= p)
    return x, t_x, np.full(n, T)


def test_bgnbd_recovers_planted_parameters():
    x, t_x, T = simulate_bgnbd(6000, r=0.5, alpha=6.0, a=0.8, b=3.0, T=52.0, seed=1)
    m = btyd.fit_bgnbd(x, t_x, T)
    assert m.converged
    assert m.r == pytest.approx(0.5, rel=0.15)
    assert m.alpha == pytest.approx(6.0, rel=0.2)
    assert m.a == pytest.approx(0.8, rel=0.35)
    assert m.b == pytest.approx(3.0, rel=0.45)


def test_gamma_gamma_recovers_planted_parameters():
    rng = np.random.default_rng(2)
    n, p, q, v = 5000, 6.0, 4.0, 15.0
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(q, 1.0 / v, n)
    m_x = rng.gamma(p * x, 1.0 / (nu * x))  # the mean of x Gamma(p, nu) values
    m = btyd.fit_gamma_gamma(x, m_x)
    # p and v trade off against each other (only their product is sharply identified), so the
    # recovered quantities are the population mean spend p v / (q - 1) and q.
    assert m.p * m.v / (m.q - 1) == pytest.approx(p * v / (q - 1), rel=0.05)
    assert m.q == pytest.approx(q, rel=0.15)
    assert m.log_likelihood >= btyd.gamma_gamma_log_likelihood((p, q, v), x, m_x).sum()
    assert abs(btyd.spend_frequency_correlation(x, m_x)) < 0.05


def _cdnow_rfm() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["m", "id", "d", "n", "amount"])
    raw = raw.assign(account_id=raw["id"].astype(str), day=pd.to_datetime(raw["d"].astype(str)))
    return rfm_summary(raw[["account_id", "day", "amount"]], pd.Timestamp("1997-09-30"))


def test_cdnow_known_answers_without_the_pipeline():
    rfm = _cdnow_rfm()
    x = rfm["frequency"].to_numpy(float)
    m = btyd.fit_bgnbd(x, rfm["recency_days"] / 7.0, rfm["tenure_days"] / 7.0)
    assert [f"{v:.3g}" for v in (m.r, m.alpha, m.a, m.b)] == ["0.243", "4.41", "0.793", "2.43"]
    assert m.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    gg = btyd.fit_gamma_gamma(x, rfm["avg_repeat_spend"].to_numpy())
    assert [f"{v:.3g}" for v in (gg.p, gg.q, gg.v)] == ["6.25", "3.74", "15.4"]


MODEL = btyd.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n=0, converged=True)


def test_p_alive_falls_with_silence_and_is_one_without_repeats():
    x = np.array([0.0, 3.0, 3.0, 3.0])
    t_x = np.array([0.0, 30.0, 20.0, 5.0])
    alive = btyd.p_alive(MODEL, x, t_x, np.full(4, 39.0))
    assert alive[0] == 1.0
    assert alive[1] > alive[2] > alive[3] > 0


def test_expected_purchases_grow_with_the_horizon_and_start_at_zero():
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    values = [btyd.expected_purchases(MODEL, t, x, t_x, T)[0] for t in (0, 1, 10, 39, 78)]
    assert values[0] == 0 and all(a < b for a, b in zip(values, values[1:], strict=False))
    # a short horizon's expectation is about rate x P(alive) x t (the model's local rate)
    assert values[1] == pytest.approx(values[2] / 10, rel=0.1)


def test_undiscounted_clv_is_purchases_times_spend():
    x, t_x, T = np.array([2.0, 0.0]), np.array([30.0, 0.0]), np.array([39.0, 20.0])
    spend = np.array([20.0, 10.0])
    purchases, value = btyd.discounted_clv(
        MODEL, spend, x, t_x, T, horizon=52.0, step=30 / 7, discount_per_step=0.0
    )
    assert value == pytest.approx(purchases * spend)
    _, discounted = btyd.discounted_clv(
        MODEL, spend, x, t_x, T, horizon=52.0, step=30 / 7, discount_per_step=0.01
    )
    assert (discounted < value).all()


def test_build_customer_clv_counts_purchase_days_and_skips_too_few_customers():
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "account_id": ["A", "A", "A", "B"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01"]),
            "amount": [10.0, 5.0, 20.0, 7.0],
            "status": "completed",
        }
    )
    out = build_customer_clv(make_snapshot(pd.Timestamp("2024-03-31").date(), orders=orders))
    table = out.tables["customer_clv"].set_index("account_id")
    assert table.loc["A", "frequency"] == 1  # two orders on one day are one purchase
    assert table.loc["A", "avg_repeat_spend"] == 20.0  # the first purchase day is excluded
    assert (table.loc["A", "recency_days"], table.loc["A", "tenure_days"]) == (31.0, 90.0)
    assert table["p_alive"].isna().all() and set(table["model"]) == {"none"}
    assert out.tables["clv_model_report"].empty


def test_a_large_base_is_fitted_on_a_bounded_sample_and_every_customer_scored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above FIT_MAX_CUSTOMERS the fit sees a seeded sample (the report's `n` says how many);
    the planted parameters are still recovered and every customer still gets a value."""
    from assets.model_logic import probabilistic_clv as clv

    x, t_x, T = simulate_bgnbd(6000, r=0.5, alpha=6.0, a=0.8, b=3.0, T=52.0, seed=1)
    rfm = pd.DataFrame(
        {
            "frequency": x.astype("int64"),
            "recency_days": t_x * clv.WEEK,
            "tenure_days": T * clv.WEEK,
            "avg_repeat_spend": np.where(x > 0, 50.0 + x, np.nan),
        },
        index=pd.Index([f"A{i:05d}" for i in range(len(x))], name="account_id"),
    )
    monkeypatch.setattr(clv, "FIT_MAX_CUSTOMERS", 4000)
    bg, gg, _notes = clv._fit_models(rfm)
    assert bg is not None and gg is not None and bg.n == 4000
    assert bg.r == pytest.approx(0.5, rel=0.25) and bg.alpha == pytest.approx(6.0, rel=0.3)
    assert clv._fit_models(rfm)[0] == bg  # the sample is seeded
    values = clv._customer_values(rfm, bg, gg, 365, 0.1)
    assert len(values) == len(rfm) and values["clv"].notna().all()
