"""Forecast reconciliation: coherent, closest to the base forecasts in the variance metric."""

from __future__ import annotations

import numpy as np
import pytest

from assets.model_logic import reconcile

LEVELS = ["total", "region", "region", "product", "product", "product"]


def _base(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = rng.uniform(50, 150, size=(2, 3, 10))  # region x product x horizon
    truth = np.vstack([cells.sum((0, 1)), cells.sum(1), cells.sum(0)])
    return truth + rng.normal(0, 5, truth.shape)  # incoherent base forecasts


def test_mint_makes_every_partition_add_up_to_the_total():
    y = _base()
    assert reconcile.incoherence(y, LEVELS) > 1
    out = reconcile.mint_wls(y, LEVELS, np.ones(len(LEVELS)))
    assert reconcile.incoherence(out, LEVELS) == pytest.approx(0, abs=1e-9)
    assert np.allclose(out[1:3].sum(0), out[0]) and np.allclose(out[3:].sum(0), out[0])


def test_mint_leaves_coherent_forecasts_alone_and_moves_noisy_series_most():
    y = _base()
    coherent = reconcile.mint_wls(y, LEVELS, np.ones(len(LEVELS)))
    assert np.allclose(reconcile.mint_wls(coherent, LEVELS, np.ones(len(LEVELS))), coherent)
    variances = np.array([1e-6, 1.0, 1.0, 1.0, 1.0, 1.0])  # a near-perfect total
    pinned = reconcile.mint_wls(y, LEVELS, variances)
    assert np.allclose(pinned[0], y[0], atol=1e-3)  # the total keeps its base forecast


def test_mint_is_the_least_squares_projection_for_equal_variances():
    """With W = I the result is the orthogonal projection onto {C y = 0}: check via lstsq on the
    structural matrix of the region x product cells."""
    y = _base(1)[:, :1]
    s = np.vstack(
        [
            np.ones(6),
            np.kron(np.eye(2), np.ones(3)),
            np.kron(np.ones(2), np.eye(3)),
        ]
    )
    beta, *_ = np.linalg.lstsq(s, y, rcond=None)
    assert np.allclose(reconcile.mint_wls(y, LEVELS, np.ones(6)), s @ beta)


def test_nonnegative_result_stays_coherent_and_bounds_follow_the_mean():
    y = np.array([[10.0], [12.0], [-3.0], [4.0], [-1.0], [5.0]])
    bounds = {"lower_80": y - 2, "upper_80": y + 2}
    coherent, moved = reconcile.reconcile(y, bounds, LEVELS, np.ones(6))
    assert (coherent >= 0).all()
    assert reconcile.incoherence(coherent, LEVELS) == pytest.approx(0, abs=1e-9)
    assert (moved["lower_80"] <= coherent + 1e-12).all()
    assert (moved["upper_80"] >= coherent - 1e-12).all()


def test_without_a_total_nothing_changes():
    y = _base()[1:]
    assert np.array_equal(reconcile.mint_wls(y, LEVELS[1:], np.ones(5)), y)
