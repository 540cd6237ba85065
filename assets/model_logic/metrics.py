"""Evaluation metrics and the time split shared by the supervised models (churn, propensity)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from assets.model_logic.features import (
    LABEL_HORIZON,
    FeatureInputs,
    labeled_snapshots,
    snapshot_days,
)

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


@dataclass(frozen=True)
class TimeSplit:
    """Labeled snapshot rows (features at t + outcome in (t, t+90]) split in time.

    Validation = the latest labeled snapshot (t = D-90). Training = snapshots at least
    LABEL_HORIZON days older than it (t <= D-180), so no training label window overlaps the
    validation one (a purge gap: otherwise the training labels would already contain the
    validation period's orders). The final model is refitted on every labeled snapshot.
    """

    all: pd.DataFrame
    train: pd.DataFrame
    valid: pd.DataFrame
    days: list[pd.Timestamp]

    @classmethod
    def build(cls, inputs: FeatureInputs, population: str) -> TimeSplit:
        """population: 'active' (completed order in [t-179, t]: churn) or 'all' (propensity)."""
        days = snapshot_days(inputs)
        rows = labeled_snapshots(inputs, days)
        if population == "active" and len(rows):
            rows = rows[rows["recency_days"] <= 179]
        rows = rows.reset_index(drop=True)
        if not days:
            return cls(rows, rows.iloc[:0], rows.iloc[:0], [])
        latest = days[-1]
        valid = rows[rows["snapshot_day"] == latest]
        train = rows[rows["snapshot_day"] <= latest - pd.Timedelta(days=LABEL_HORIZON)]
        return cls(rows, train, valid, days)

    def metadata(self) -> dict[str, object]:
        return {
            "snapshot_days": [d.date().isoformat() for d in self.days],
            "n_labeled": len(self.all),
            "n_validation": len(self.valid),
            "validation_day": self.days[-1].date().isoformat() if self.days else None,
        }
