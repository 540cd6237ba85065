"""Coherent forecasts: total = sum of the regions = sum of the products, for every day ahead.

The hierarchy is not nested (regions and products are two partitions of the same total), so the
base forecasts y (one row per series) are reconciled in the zero-constraint form of MinT
(Wickramasuriya, Athanasopoulos and Hyndman 2019): with C the constraint matrix (C y = 0 on
coherent forecasts: total - sum(regions), total - sum(products)) and W the diagonal of the base
forecasts' error variances (the "WLS variance" estimator: each series' backtest MSE),

    y~ = y - W C' (C W C')^-1 C y

the coherent forecast closest to y in the W^-1 metric: noisy series move most, well-forecast ones
least. It equals the bottom-up-of-cells MinT with the same W (the coherent subspace is the same).
Revenue cannot be negative: negative reconciled values are set to 0 and each partition is then
rescaled to the total (proportionally, so coherence is exact again). Interval bounds move with their
mean (the base model's interval width is kept), clipped at 0.
"""

from __future__ import annotations

import numpy as np

TOTAL = "total"
MIN_VARIANCE = 1e-6


def constraint_matrix(levels: list[str]) -> np.ndarray:
    """Rows: total - sum(level) for each non-total level present; columns follow `levels`."""
    groups = [g for g in dict.fromkeys(levels) if g != TOTAL]
    level = np.asarray(levels)
    rows = []
    for group in groups:
        row = np.where(level == TOTAL, 1.0, 0.0) - np.where(level == group, 1.0, 0.0)
        rows.append(row)
    return np.array(rows).reshape(len(rows), len(levels))


def mint_wls(y: np.ndarray, levels: list[str], variances: np.ndarray) -> np.ndarray:
    """Reconciled y (n_series x horizon); unchanged when there is no total or no other level."""
    if TOTAL not in levels or levels.count(TOTAL) != 1 or len(set(levels)) == 1:
        return y.copy()
    c = constraint_matrix(levels)
    w = np.where(np.isfinite(variances), variances, np.nanmax(variances, initial=1.0))
    w = np.clip(w, MIN_VARIANCE, None)
    wc = w[:, None] * c.T  # W C'
    adjustment = wc @ np.linalg.solve(c @ wc, c @ y)
    return y - adjustment


def nonnegative_coherent(y: np.ndarray, levels: list[str]) -> np.ndarray:
    """Negatives -> 0, then every partition rescaled to the total per column (a partition whose
    members are all 0 while the total is not shares it evenly)."""
    y = np.clip(y, 0.0, None)
    level = np.asarray(levels)
    if TOTAL not in levels:
        return y
    total = y[level == TOTAL][0]
    for group in dict.fromkeys(levels):
        if group == TOTAL:
            continue
        members = level == group
        sums = y[members].sum(axis=0)
        even = np.full_like(y[members], 1.0 / members.sum())
        share = np.where(sums > 0, y[members] / np.where(sums > 0, sums, 1.0), even)
        y[members] = share * total
    return y


def reconcile(
    yhat: np.ndarray, bounds: dict[str, np.ndarray], levels: list[str], variances: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Coherent, non-negative means; bounds shifted by the same change, clipped at 0."""
    coherent = nonnegative_coherent(mint_wls(yhat, levels, variances), levels)
    shift = coherent - yhat
    moved = {name: np.clip(b + shift, 0.0, None) for name, b in bounds.items()}
    return coherent, moved


def incoherence(y: np.ndarray, levels: list[str]) -> float:
    """Largest |total - sum(partition)| over partitions and days (0 when coherent)."""
    if TOTAL not in levels:
        return 0.0
    c = constraint_matrix(levels)
    return float(np.abs(c @ y).max(initial=0.0))
