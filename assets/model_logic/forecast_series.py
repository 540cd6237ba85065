"""One series' forecast (worker side): pick the model by a rolling backtest, then fit and forecast.

1. Selection, on the Monday on or before D with the SELECTION_WINDOW days up to that Monday (so
   D's output never depends on which other days were built; the caller memoises it per Monday):
   the ARIMA order of `ORDER_GRID` with the lowest AIC, then a rolling-origin backtest of each
   candidate (that ARIMA, ETS(A,Ad,A), seasonal naive): BACKTEST_FOLDS origins 90, 60 and 30 days
   before the Monday, each predicting the next 30 days from a refit on the FIT_WINDOW days up to
   the origin (start values = the candidate's fit on the whole window, so refits are cheap). The
   lowest mean MASE wins (ties: the simpler model); without a fold (too little history) the seeds'
   ARIMA is kept when it fits. The chosen candidate's backtest is the one reported: MASE (scale:
   in-sample MAE of the lag-7 naive on the fold's training window, averaged over folds), sMAPE
   (percent, 0..200, 0/0 = 0), interval coverage, and the naive's MASE and sMAPE on the same
   folds. A fold whose refit fails counts as the naive would have done.
2. The chosen model is fitted on the last FIT_WINDOW days up to D and forecasts `horizon` days:
   one fit per series and day once the Monday's selection is memoised.

Fallback to the seasonal naive when the series has fewer than MIN_HISTORY days, is all zero in its
fit window, or the chosen model cannot be fitted. One bad series never fails the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from assets.model_logic.forecast_models import (
    ETS,
    NAIVE,
    ORDER_GRID,
    SEASON,
    FitFailed,
    Forecast,
    candidate_forecast,
    seasonal_naive,
    select_order,
)

FIT_WINDOW = 365
"""Days of history a fit sees at most (speed, and old regimes matter little for 90 days ahead)."""
MIN_HISTORY = 56
"""Eight weeks: below this a series falls back to the seasonal naive."""
BACKTEST_FOLDS = 3
BACKTEST_DAYS = 30
SELECTION_WINDOW = FIT_WINDOW + BACKTEST_FOLDS * BACKTEST_DAYS
"""Days up to the Monday the selection sees (its backtest's first fold trains on FIT_WINDOW days)."""
CANDIDATES = ("naive", "ets", "arima")
"""Candidate slots, simplest first (the order breaks MASE ties)."""


@dataclass
class SeriesTask:
    level: str
    key: str
    values: np.ndarray
    """Daily revenue, the last day being D."""
    monday_len: int
    """Number of leading values up to and including the selection Monday."""
    horizon: int
    cached: dict | None = None
    """A previous selection for this series and Monday (see `select_model`)."""


@dataclass
class SeriesResult:
    level: str
    key: str
    model: str
    yhat: np.ndarray
    bounds: dict[str, np.ndarray]
    backtest: dict[str, float]
    selection: dict | None
    reason: str = ""
    seconds: float = 0.0
    fits: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def _mase_scale(train: np.ndarray) -> float:
    if len(train) <= SEASON:
        return float("nan")
    scale = float(np.mean(np.abs(train[SEASON:] - train[:-SEASON])))
    return scale if scale > 0 else float("nan")


def _smape(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    denom = np.abs(actual) + np.abs(pred)
    return np.where(denom > 0, 200.0 * np.abs(actual - pred) / np.where(denom > 0, denom, 1.0), 0.0)


def _mean(values: list) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _fold_forecast(model: str, train: np.ndarray, days: int, start_params) -> tuple[Forecast, bool]:
    """(forecast clipped at 0, whether the model itself produced it)."""
    forecast, own = seasonal_naive(train, days), False
    if model != NAIVE:
        try:
            forecast, own = candidate_forecast(model, train, days, start_params), True
        except FitFailed:
            own = False  # a failed fold counts as the baseline would have done
    clipped = Forecast(
        np.clip(forecast.yhat, 0.0, None),
        {k: np.clip(v, 0.0, None) for k, v in forecast.bounds.items()},
    )
    return clipped, own


def backtest(y: np.ndarray, model: str, start_params=None) -> tuple[dict[str, float], int]:
    """Rolling-origin backtest of `model` on y (see module docstring); metrics and fit count."""
    mase, base_mase, smape, base_smape, inside80, inside95, sq = [], [], [], [], [], [], []
    fits = 0
    for fold in range(BACKTEST_FOLDS, 0, -1):
        origin = len(y) - fold * BACKTEST_DAYS
        if origin < MIN_HISTORY:
            continue
        train = y[max(0, origin - FIT_WINDOW) : origin]
        actual = y[origin : origin + BACKTEST_DAYS]
        naive = np.clip(seasonal_naive(train, len(actual)).yhat, 0.0, None)
        forecast, _ = _fold_forecast(model, train, len(actual), start_params)
        fits += model != NAIVE
        pred, b = forecast.yhat, forecast.bounds
        scale = _mase_scale(train)
        mase.append(np.mean(np.abs(actual - pred)) / scale)
        base_mase.append(np.mean(np.abs(actual - naive)) / scale)
        smape.extend(_smape(actual, pred))
        base_smape.extend(_smape(actual, naive))
        inside80.extend((actual >= b["lower_80"]) & (actual <= b["upper_80"]))
        inside95.extend((actual >= b["lower_95"]) & (actual <= b["upper_95"]))
        sq.extend((actual - pred) ** 2)
    metrics = {
        "mase": _mean(mase),
        "smape": _mean(smape),
        "baseline_mase": _mean(base_mase),
        "baseline_smape": _mean(base_smape),
        "n_test": len(smape),
        "coverage_80": _mean(inside80),
        "coverage_95": _mean(inside95),
        "mse": _mean(sq),
    }
    return metrics, fits


def _start_params(name: str, window: np.ndarray, arima_params) -> tuple[np.ndarray | None, int]:
    """Start values for the candidate's backtest refits: its fit on the selection window (the
    ARIMA's comes from the order selection already)."""
    if name == NAIVE:
        return None, 0
    if name != ETS:
        return arima_params, 0
    return candidate_forecast(name, window, 1).params, 1


def select_model(y: np.ndarray) -> tuple[dict, int]:
    """Selection on y (the data up to the Monday; see module docstring): {"arima": order name or
    None, "chosen": model name, "mase": {slot: MASE}, "metrics": {slot: backtest metrics}} (NaN
    / absent for a candidate that cannot be fitted), and the number of fits it took."""
    y = y[-SELECTION_WINDOW:]
    window = y[-FIT_WINDOW:]
    arima, arima_params = select_order(window)
    fits = len(ORDER_GRID)
    names = {"naive": NAIVE, "ets": ETS, "arima": arima}
    metrics: dict[str, dict] = {}
    for slot in CANDIDATES:
        if names[slot] is None:
            continue
        try:
            start, n = _start_params(names[slot], window, arima_params)
        except FitFailed:
            names[slot] = None
            continue
        metrics[slot], n_bt = backtest(y, names[slot], start)
        fits += n + n_bt
    mase = {slot: metrics[slot]["mase"] if slot in metrics else float("nan") for slot in CANDIDATES}
    scored = [s for s in metrics if np.isfinite(mase[s])]
    if scored:
        chosen = min(scored, key=lambda s: (mase[s], CANDIDATES.index(s)))
    else:  # no evidence: the seeds' model when it fits
        chosen = "arima" if "arima" in metrics else "naive"
    return {"arima": arima, "chosen": names[chosen], "mase": mase, "metrics": metrics}, fits


def _slot(model: str) -> str:
    return "naive" if model == NAIVE else ("ets" if model == ETS else "arima")


def forecast_series(task: SeriesTask) -> SeriesResult:
    """Select (or take the cached selection), forecast; never raises for a bad series."""
    started = time.perf_counter()
    y = np.nan_to_num(np.asarray(task.values, dtype="float64"), nan=0.0, posinf=0.0, neginf=0.0)
    fit_y = y[-FIT_WINDOW:]
    selection, model, reason, fits, forecast = task.cached, NAIVE, "", 0, None
    if len(y) < MIN_HISTORY:
        reason = f"short series ({len(y)} days < {MIN_HISTORY})"
    elif not np.any(fit_y != 0):
        reason = "all zero"
    else:
        try:
            if selection is None:
                selection, fits = select_model(y[: task.monday_len])
            model = selection["chosen"]
            if model != NAIVE:
                forecast = candidate_forecast(model, fit_y, task.horizon)
                fits += 1
        except FitFailed as exc:
            model, reason = NAIVE, str(exc)
        except Exception as exc:  # one bad series must never fail the day
            model, reason = NAIVE, f"{type(exc).__name__}: {exc}"
    if forecast is None:
        forecast = seasonal_naive(fit_y, task.horizon)
    metrics = (selection or {}).get("metrics", {}).get(_slot(model))
    if metrics is None:  # no selection (short, all zero): the naive's own backtest
        metrics, _ = backtest(y[: task.monday_len][-SELECTION_WINDOW:], NAIVE)
    if not np.isfinite(metrics["mse"]):
        # No fold to measure the error on: the naive's own one-step variance stands in as the
        # reconciliation weight (0 for a perfectly repeating week, which then stays as it is).
        diffs = fit_y[SEASON:] - fit_y[:-SEASON] if len(fit_y) > SEASON else np.zeros(1)
        metrics = {**metrics, "mse": float(np.mean(diffs**2))}
    return SeriesResult(
        level=task.level,
        key=task.key,
        model=model,
        yhat=forecast.yhat,
        bounds=forecast.bounds,
        backtest=metrics,
        selection=selection,
        reason=reason,
        seconds=time.perf_counter() - started,
        fits=fits,
    )
