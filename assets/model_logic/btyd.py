"""BG/NBD and Gamma-Gamma ("buy till you die") models: likelihoods, maximum-likelihood fits and
the per-customer expectations, on plain numpy arrays (time in weeks, money in reporting currency).

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive, a
customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they die with
probability p ~ Beta(a, b). Inputs per customer: x = repeat purchases (frequency), t_x = time of
the last purchase since the first (recency), T = time since the first purchase (tenure).

Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"; Fader and Hardie's note on the Gamma-Gamma
spend model): a customer's transaction values are Gamma(p, nu), nu ~ Gamma(q, gamma); fitted on
customers with x > 0 and their mean repeat-transaction value m_x. It assumes spend is independent
of frequency (check `spend_frequency_correlation`).

Fits maximise the log-likelihood over log-parameters with scipy's L-BFGS-B, from a few fixed
starting points (the best optimum wins), so the result is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

START_POINTS = (np.zeros(4), np.log([0.5, 5.0, 0.5, 2.0]))
"""BG/NBD starting points (log r, log alpha, log a, log b); the best optimum wins."""
GG_START_POINTS = (np.zeros(3), np.log([5.0, 3.0, 15.0]), np.log([2.0, 2.0, 50.0]))
"""Gamma-Gamma starting points (log p, log q, log gamma)."""
LOG_BOUNDS = (-12.0, 12.0)
"""Bounds on log-parameters: keeps the optimiser away from overflow; real fits sit far inside."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int
    converged: bool


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float
    log_likelihood: float
    n: int
    converged: bool


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood (FHL 2005, eq. 6), computed in logs for stability."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # ln(a / (b + x - 1)) - (r + x) ln(alpha + t_x), only where x > 0 (else the term is absent)
    b_x = np.where(repeat, b + x - 1.0, 1.0)
    a4 = np.log(a) - np.log(b_x) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.where(repeat, np.logaddexp(a3, a4), a3)


def _minimise(objective, starts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, float, bool]:
    best = None
    for start in starts:
        res = optimize.minimize(
            objective,
            start,
            method="L-BFGS-B",
            bounds=[LOG_BOUNDS] * len(start),
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun - 1e-12):
            best = res
    if best is None:
        raise ValueError("no finite likelihood at any starting point")
    return np.exp(best.x), float(-best.fun), bool(best.success)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    """Maximum-likelihood BG/NBD; time in the units of t_x and T (alpha is in those units)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    # Customers with the same (x, t_x, T) share a likelihood term: fit on the distinct rows,
    # weighted by their counts (daily data repeats them a lot; CDNOW: 2,357 -> 1,016).
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut_x, uT = rows.T

    def objective(log_params: np.ndarray) -> float:
        value = -(counts * bgnbd_log_likelihood(np.exp(log_params), ux, ut_x, uT)).sum()
        return float(value) if np.isfinite(value) else 1e300

    params, ll, ok = _minimise(objective, START_POINTS)
    return BgNbd(*(float(v) for v in params), log_likelihood=ll, n=len(x), converged=ok)


def p_alive(m: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T); 1 for customers without a repeat purchase (the model's
    assumption: death can only follow a purchase)."""
    x = np.asarray(x, dtype="float64")
    b_x = np.where(x > 0, m.b + x - 1.0, 1.0)
    log_odds = np.log(m.a) - np.log(b_x) + (m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + t_x))
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def expected_purchases(
    m: BgNbd, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    if t <= 0:
        return np.zeros_like(x)
    z = t / (m.alpha + T + t)
    hyp = special.hyp2f1(m.r + x, m.b + x, m.a + m.b + x - 1.0, z)
    ratio = np.exp((m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + T + t)))
    numerator = (m.a + m.b + x - 1.0) / (m.a - 1.0) * (1.0 - ratio * hyp)
    b_x = np.where(x > 0, m.b + x - 1.0, 1.0)
    odds = np.where(
        x > 0,
        np.exp(
            np.log(m.a) - np.log(b_x) + (m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + t_x))
        ),
        0.0,
    )
    return numerator / (1.0 + odds)


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend m_x over x transactions."""
    p, q, v = params
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(v + m_x * x)
    )


def fit_gamma_gamma(x: np.ndarray, m_x: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on customers with x > 0 and m_x > 0 (others ignored)."""
    x, m_x = np.asarray(x, dtype="float64"), np.asarray(m_x, dtype="float64")
    keep = (x > 0) & (m_x > 0) & np.isfinite(m_x)
    x, m_x = x[keep], m_x[keep]
    if len(x) == 0:
        raise ValueError("no repeat buyers with positive spend to fit")

    def objective(log_params: np.ndarray) -> float:
        value = -gamma_gamma_log_likelihood(np.exp(log_params), x, m_x).sum()
        return float(value) if np.isfinite(value) else 1e300

    params, ll, ok = _minimise(objective, GG_START_POINTS)
    return GammaGamma(*(float(v) for v in params), log_likelihood=ll, n=len(x), converged=ok)


def expected_spend(m: GammaGamma, x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
    """E[mean transaction value | x, m_x]: a weighted mean of the population mean p v / (q - 1)
    and the customer's own m_x (the population mean where x = 0). Needs q > 1."""
    x = np.asarray(x, dtype="float64")
    m_x = np.nan_to_num(np.asarray(m_x, dtype="float64"), nan=0.0)
    return m.p * (m.v + x * m_x) / (m.p * x + m.q - 1.0)


def spend_frequency_correlation(x: np.ndarray, m_x: np.ndarray) -> float:
    """Pearson correlation of frequency and mean spend among repeat buyers: the Gamma-Gamma
    model assumes it is near 0 (FHL report 0.11 on CDNOW)."""
    x, m_x = np.asarray(x, dtype="float64"), np.asarray(m_x, dtype="float64")
    keep = (x > 0) & np.isfinite(m_x)
    if keep.sum() < 3 or np.std(x[keep]) == 0 or np.std(m_x[keep]) == 0:
        return float("nan")
    return float(np.corrcoef(x[keep], m_x[keep])[0, 1])


def discounted_clv(
    m: BgNbd,
    spend: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    *,
    horizon: float,
    step: float,
    discount_per_step: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(expected purchases over the horizon, discounted CLV): the expected purchases of each
    step (of `step` time units) times the expected spend, discounted at the end of the step
    ((1 + discount_per_step) ** k for step k, the usual Lifetimes-style sum)."""
    edges = np.append(np.arange(step, horizon, step), horizon)
    cumulative = np.stack([expected_purchases(m, t, x, t_x, T) for t in edges])
    increments = np.diff(np.vstack([np.zeros_like(cumulative[:1]), cumulative]), axis=0)
    factor = (1.0 + discount_per_step) ** (edges / step)
    value = (increments / factor[:, None]).sum(axis=0) * spend
    return cumulative[-1], value
