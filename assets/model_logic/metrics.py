"""Evaluation metrics of the supervised models (churn, propensity)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE with equal-width bins on [0, 1]: sum over bins of (share of rows) x |mean p - rate|."""
    if len(y) == 0:
        return float("nan")
    idx = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(float(np.mean(p[mask])) - float(np.mean(y[mask])))
    return float(total)


def calibration_curve(
    y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Mean prediction and observed rate of each non-empty equal-width bin."""
    idx = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    used = [b for b in range(bins) if (idx == b).any()]
    return (
        np.array([np.mean(p[idx == b]) for b in used]),
        np.array([np.mean(y[idx == b]) for b in used]),
    )


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """auc, pr_auc (average precision), brier, calibration_error; NaN when y has one class."""
    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return {"auc": np.nan, "pr_auc": np.nan, "brier": np.nan, "calibration_error": np.nan}
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_error": expected_calibration_error(y, p),
    }
