"""Daily revenue forecasts (SARIMAX, weekly seasonality) per level/key, with a rolling-origin
backtest against the seasonal naive baseline.

Series: completed revenue per day (`revenue_events`) for `total`, each `region` (the account's;
`__unknown__` without one) and each `product` (`__unknown__` without one), dense from the series'
first revenue day to D. Days are the events' own calendar dates (order_date / close_date are dates
already, so `tz` changes nothing here; it is accepted for symmetry with the KPI layer).

Per series (`forecast_series`, run in a process pool):

1. Order selection: on the Monday on or before D, with the last FIT_WINDOW days up to that Monday,
   fit each order of `ORDER_GRID` and keep the lowest AIC (non-converged or failed fits are
   skipped). D's output thus depends only on data up to D, never on which other days were built;
   `order_cache` only memoises this step (key: level|key|monday|sha of the series up to monday).
2. Final fit of that order on the last FIT_WINDOW days up to D; horizon-day forecast with 80% and
   95% intervals (`get_forecast().conf_int(alpha=0.2 / 0.05)`), everything clipped at 0.
3. Backtest: BACKTEST_FOLDS origins D-90, D-60, D-30, each predicting the next 30 days from a refit
   of the same order on the FIT_WINDOW days up to the origin (start parameters = the final fit's,
   so the refits are cheap). MASE (scale: in-sample MAE of the lag-7 naive on the fold's training
   window, averaged over folds) and sMAPE (percent, 0..200, 0/0 counted as 0) of the model and of
   the seasonal naive.

Fallback to the seasonal naive (model 'seasonal_naive': the last observed week repeated; interval
half-width z * sigma * sqrt(weeks ahead), sigma = std of the lag-7 differences) when the series has
fewer than MIN_HISTORY days, is all zero in its fit window, or the final fit fails (exception,
non-convergence, non-finite forecast). One bad series never fails the others.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context

import numpy as np
import pandas as pd

from assets.model_logic import charts
from assets.model_logic.features import UNKNOWN
from assets.model_logic.output import ModelOutput
from assets.state_logic import Snapshot, revenue_events
from schemas import TABLES, conform

SEASON = 7
FIT_WINDOW = 365
"""Days of history a fit sees at most (speed, and old regimes matter little for 90 days ahead)."""
MIN_HISTORY = 56
"""Eight weeks: below this a series falls back to the seasonal naive."""
BACKTEST_FOLDS = 3
BACKTEST_DAYS = 30
MAXITER = 50
Z80, Z95 = 1.2815515655446004, 1.959963984540054

ORDER_GRID: tuple[tuple[tuple[int, int, int], tuple[int, int, int, int]], ...] = (
    ((0, 1, 1), (0, 1, 1, SEASON)),
    ((1, 1, 1), (0, 1, 1, SEASON)),
    ((2, 1, 1), (0, 1, 1, SEASON)),
    ((0, 1, 1), (1, 1, 1, SEASON)),
)
"""Airline-type models: one regular and one weekly difference (trend + weekly pattern), small AR
and MA terms. Every candidate has the same differencing, so their AICs are comparable."""

NAIVE = "seasonal_naive"
BLAS_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class FitFailed(RuntimeError):
    """A SARIMAX fit that raised, did not converge or produced non-finite values."""


def model_name(order: tuple[int, int, int], seasonal: tuple[int, int, int, int]) -> str:
    p, d, q = order
    sp, sd, sq, s = seasonal
    return f"ARIMA({p},{d},{q})({sp},{sd},{sq})[{s}]"


# --- series ------------------------------------------------------------------------------------


def daily_series(snap: Snapshot) -> dict[tuple[str, str], pd.Series]:
    """(level, key) -> daily completed revenue, dense from the series' first day to D."""
    ev = revenue_events(snap)
    d = pd.Timestamp(snap.as_of)
    ev = ev[ev["day"] <= d]
    if ev.empty:
        return {}
    region = snap.accounts.drop_duplicates("account_id").set_index("account_id")["region"]
    ev = ev.assign(
        region=ev["account_id"].map(region).astype("object").fillna(UNKNOWN).astype("str"),
        product=ev["product"].astype("object").fillna(UNKNOWN).astype("str"),
        total="total",
    )
    out: dict[tuple[str, str], pd.Series] = {}
    for level, column in (("total", "total"), ("region", "region"), ("product", "product")):
        sums = ev.groupby([column, "day"])["amount"].sum()
        for key, series in sums.groupby(level=0):
            series = series.droplevel(0)
            days = pd.date_range(series.index.min(), d, freq="D")
            out[(level, str(key))] = series.reindex(days, fill_value=0.0).astype("float64")
    return dict(sorted(out.items()))


def monday_on_or_before(day: pd.Timestamp) -> pd.Timestamp:
    return day - pd.Timedelta(days=day.day_of_week)


def cache_key(level: str, key: str, monday: pd.Timestamp, history: pd.Series) -> str:
    """Memo key of the order chosen on `monday` for this series (history up to that Monday)."""
    window = history[history.index <= monday].tail(FIT_WINDOW)
    digest = hashlib.sha256(np.round(window.to_numpy(), 2).tobytes())
    digest.update(str(window.index.min()).encode())
    return f"{level}|{key}|{monday.date().isoformat()}|{digest.hexdigest()[:16]}"


# --- one series (worker side) -------------------------------------------------------------------


@dataclass
class SeriesTask:
    level: str
    key: str
    values: np.ndarray
    """Daily revenue, the last day being D."""
    monday_len: int
    """Number of leading values up to and including the selection Monday."""
    horizon: int
    cached_order: str | None = None


@dataclass
class SeriesResult:
    level: str
    key: str
    model: str
    yhat: np.ndarray
    bounds: dict[str, np.ndarray]
    backtest: dict[str, float]
    order: str | None
    reason: str = ""
    seconds: float = 0.0
    fits: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def _fit(y: np.ndarray, order: tuple, seasonal: tuple, start_params: np.ndarray | None = None):
    """Fit SARIMAX; raise FitFailed on any failure, non-convergence or non-finite likelihood."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # concentrate_scale: sigma^2 is profiled out, one parameter less (about a third faster).
            model = SARIMAX(y, order=order, seasonal_order=seasonal, concentrate_scale=True)
            result = model.fit(start_params=start_params, disp=False, maxiter=MAXITER)
    except (np.linalg.LinAlgError, ValueError, IndexError, OverflowError) as exc:
        raise FitFailed(f"{type(exc).__name__}: {exc}") from exc
    if not result.mle_retvals.get("converged", False):
        raise FitFailed("did not converge")
    if not np.isfinite(result.llf) or not np.all(np.isfinite(result.params)):
        raise FitFailed("non-finite likelihood or parameters")
    return result


def _select_order(y: np.ndarray) -> tuple[tuple, tuple] | None:
    best = None
    for order, seasonal in ORDER_GRID:
        try:
            aic = _fit(y, order, seasonal).aic
        except FitFailed:
            continue
        if np.isfinite(aic) and (best is None or aic < best[0] - 1e-9):
            best = (aic, order, seasonal)
    return None if best is None else (best[1], best[2])


def _parse(name: str) -> tuple[tuple, tuple]:
    inner = name.removeprefix("ARIMA(").replace(")(", ",").replace(")[", ",").rstrip("]")
    p, d, q, sp, sd, sq, s = (int(v) for v in inner.split(","))
    return (p, d, q), (sp, sd, sq, s)


def seasonal_naive(y: np.ndarray, horizon: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Last observed week repeated; intervals widen with the number of weeks ahead."""
    if len(y) == 0:
        zeros = np.zeros(horizon)
        return zeros, {k: zeros for k in ("lower_80", "upper_80", "lower_95", "upper_95")}
    last = y[-SEASON:] if len(y) >= SEASON else np.resize(y[-1:], SEASON)
    steps = np.arange(horizon)
    yhat = (
        last[(len(last) - SEASON + steps) % SEASON]
        if len(last) == SEASON
        else np.full(horizon, y[-1])
    )
    diffs = y[SEASON:] - y[:-SEASON] if len(y) > SEASON else np.zeros(1)
    sigma = float(np.std(diffs)) * np.sqrt(steps // SEASON + 1)
    return yhat, {
        "lower_80": yhat - Z80 * sigma,
        "upper_80": yhat + Z80 * sigma,
        "lower_95": yhat - Z95 * sigma,
        "upper_95": yhat + Z95 * sigma,
    }


def _arima_forecast(result, horizon: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    forecast = result.get_forecast(horizon)
    yhat = np.asarray(forecast.predicted_mean, dtype="float64")
    ci80 = np.asarray(forecast.conf_int(alpha=0.2), dtype="float64")
    ci95 = np.asarray(forecast.conf_int(alpha=0.05), dtype="float64")
    bounds = {
        "lower_80": ci80[:, 0],
        "upper_80": ci80[:, 1],
        "lower_95": ci95[:, 0],
        "upper_95": ci95[:, 1],
    }
    if not np.all(np.isfinite(yhat)) or not all(np.all(np.isfinite(b)) for b in bounds.values()):
        raise FitFailed("non-finite forecast")
    return yhat, bounds


def _mase_scale(train: np.ndarray) -> float:
    if len(train) <= SEASON:
        return float("nan")
    scale = float(np.mean(np.abs(train[SEASON:] - train[:-SEASON])))
    return scale if scale > 0 else float("nan")


def _smape(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    denom = np.abs(actual) + np.abs(pred)
    return np.where(denom > 0, 200.0 * np.abs(actual - pred) / np.where(denom > 0, denom, 1.0), 0.0)


def backtest(
    y: np.ndarray, model: str, start_params: np.ndarray | None
) -> tuple[dict[str, float], int]:
    """Rolling-origin backtest (see module docstring); returns metrics and the number of fits."""
    mase, base_mase, smape, base_smape, n_test, fits = [], [], [], [], 0, 0
    for fold in range(BACKTEST_FOLDS, 0, -1):
        origin = len(y) - fold * BACKTEST_DAYS
        if origin < MIN_HISTORY:
            continue
        train = y[max(0, origin - FIT_WINDOW) : origin]
        actual = y[origin : origin + BACKTEST_DAYS]
        naive, _ = seasonal_naive(train, len(actual))
        pred = naive
        if model != NAIVE:
            try:
                fits += 1
                order, seasonal = _parse(model)
                pred, _ = _arima_forecast(_fit(train, order, seasonal, start_params), len(actual))
            except FitFailed:
                pred = naive  # a failed fold counts as the baseline would have done
        pred = np.clip(pred, 0.0, None)
        scale = _mase_scale(train)
        mase.append(np.mean(np.abs(actual - pred)) / scale)
        base_mase.append(np.mean(np.abs(actual - naive)) / scale)
        smape.extend(_smape(actual, pred))
        base_smape.extend(_smape(actual, naive))
        n_test += len(actual)

    def mean(values: list) -> float:
        finite = [v for v in values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    metrics = {
        "mase": mean(mase),
        "smape": mean(smape),
        "baseline_mase": mean(base_mase),
        "baseline_smape": mean(base_smape),
        "n_test": n_test,
    }
    return metrics, fits


def forecast_series(task: SeriesTask) -> SeriesResult:
    """Forecast and backtest one series; never raises for a bad series (falls back instead)."""
    started = time.perf_counter()
    y = np.nan_to_num(np.asarray(task.values, dtype="float64"), nan=0.0, posinf=0.0, neginf=0.0)
    fit_y = y[-FIT_WINDOW:]
    model, order_name, reason, fits, result = NAIVE, task.cached_order, "", 0, None
    if len(y) < MIN_HISTORY:
        reason = f"short series ({len(y)} days < {MIN_HISTORY})"
    elif not np.any(fit_y != 0):
        reason = "all zero"
    else:
        try:
            if order_name is None:
                picked = _select_order(y[: task.monday_len][-FIT_WINDOW:])
                fits += len(ORDER_GRID)
                order_name = model_name(*picked) if picked else NAIVE
            if order_name == NAIVE:
                raise FitFailed("no order of the grid could be fitted")
            fits += 1
            result = _fit(fit_y, *_parse(order_name))
            model = order_name
        except FitFailed as exc:
            reason = str(exc)
        except Exception as exc:  # one bad series must never fail the day
            reason = f"{type(exc).__name__}: {exc}"
    yhat, bounds = seasonal_naive(fit_y, task.horizon)
    if result is not None:
        try:
            yhat, bounds = _arima_forecast(result, task.horizon)
        except FitFailed as exc:
            model, reason = NAIVE, str(exc)
    metrics, bt_fits = backtest(
        y, model, None if result is None or model == NAIVE else result.params
    )
    return SeriesResult(
        level=task.level,
        key=task.key,
        model=model,
        yhat=np.clip(yhat, 0.0, None),
        bounds={k: np.clip(v, 0.0, None) for k, v in bounds.items()},
        backtest=metrics,
        order=order_name,
        reason=reason,
        seconds=time.perf_counter() - started,
        fits=fits + bt_fits,
    )


def _pin_blas_threads() -> None:
    """Worker initializer: one BLAS/OpenMP thread per process (workers are the parallelism)."""
    for name in BLAS_ENV:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits  # ships with scikit-learn

    threadpool_limits(1)  # in case numpy's pools were already started


def _mp_context():
    """fork when this process is single-threaded (cheap: the workers inherit the imports), else
    forkserver with this module preloaded: forking a multi-threaded parent (Dagster's step
    process) can deadlock, and spawn would re-import the package (Dagster included) per worker."""
    import threading

    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def run_tasks(tasks: list[SeriesTask], max_workers: int) -> list[SeriesResult]:
    """Run inline with one worker, else in a process pool; results in task order."""
    if max_workers <= 1 or len(tasks) <= 1:
        from threadpoolctl import threadpool_limits

        # Multi-threaded BLAS on these tiny matrices only spins: 2-10x slower on a busy 2-core box.
        with threadpool_limits(1):
            return [forecast_series(task) for task in tasks]
    workers = min(max_workers, len(tasks))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(), initializer=_pin_blas_threads
    ) as pool:
        return list(pool.map(forecast_series, tasks))


# --- the day -----------------------------------------------------------------------------------


def build_sales_forecast(
    snap: Snapshot,
    *,
    horizon: int = 90,
    tz: str = "UTC",
    max_workers: int = 2,
    order_cache: MutableMapping[str, str] | None = None,
) -> ModelOutput:
    """sales_forecast and forecast_backtest as of D (see module docstring)."""
    started = time.perf_counter()
    d = pd.Timestamp(snap.as_of)
    monday = monday_on_or_before(d)
    series = daily_series(snap)
    tasks, keys = [], []
    for (level, key), history in series.items():
        memo = cache_key(level, key, monday, history)
        # Only the part a fit or the backtest can see is shipped to the worker.
        tail = history.tail(FIT_WINDOW + BACKTEST_FOLDS * BACKTEST_DAYS + 7)
        tasks.append(
            SeriesTask(
                level=level,
                key=key,
                values=tail.to_numpy(),
                monday_len=int((tail.index <= monday).sum()),
                horizon=horizon,
                cached_order=None if order_cache is None else order_cache.get(memo),
            )
        )
        keys.append(memo)
    if not tasks:
        return ModelOutput(
            tables={
                name: TABLES[name].empty_frame() for name in ("sales_forecast", "forecast_backtest")
            },
            metadata={"series": 0, "reason": "no completed revenue up to D"},
        )
    results = run_tasks(tasks, max_workers)
    if order_cache is not None:
        for memo, res in zip(keys, results, strict=True):
            if res.order is not None:
                order_cache[memo] = res.order

    days = pd.date_range(d + pd.Timedelta(days=1), periods=horizon, freq="D")
    forecast_rows, backtest_rows = [], []
    for res in results:
        forecast_rows.append(
            pd.DataFrame(
                {
                    "level": res.level,
                    "key": res.key,
                    "ds": days,
                    "horizon": np.arange(1, horizon + 1),
                    "yhat": res.yhat,
                    **{f"yhat_{name}": values for name, values in res.bounds.items()},
                    "model": res.model,
                }
            )
        )
        backtest_rows.append(
            {"level": res.level, "key": res.key, "model": res.model, **res.backtest}
        )
    forecast = pd.concat(forecast_rows, ignore_index=True) if forecast_rows else pd.DataFrame()
    money = ["yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"]
    if len(forecast):
        forecast[money] = forecast[money].round(2)
    forecast = conform(forecast, TABLES["sales_forecast"])
    forecast = forecast.sort_values(["level", "key", "ds"], kind="stable").reset_index(drop=True)
    bt = conform(pd.DataFrame(backtest_rows), TABLES["forecast_backtest"])
    bt = bt.sort_values(["level", "key"], kind="stable").reset_index(drop=True)

    elapsed = time.perf_counter() - started
    per_series = [r.seconds for r in results]
    summary = bt.assign(reason=[r.reason for r in sorted(results, key=lambda r: (r.level, r.key))])
    metadata: dict[str, object] = {
        "series": len(results),
        "fallbacks": int(sum(r.model == NAIVE for r in results)),
        "selection_monday": monday.date().isoformat(),
        "order_grid": ", ".join(model_name(*o) for o in ORDER_GRID),
        "seconds_total": round(elapsed, 3),
        "seconds_per_series_max": round(max(per_series, default=0.0), 3),
        "seconds_per_series_mean": round(float(np.mean(per_series)) if per_series else 0.0, 3),
        "sarimax_fits": int(sum(r.fits for r in results)),
        "backtest": summary.round(3).to_markdown(index=False) if len(summary) else "no series",
    }
    chart_forecast = forecast[(forecast["level"] == "total")]
    history = series.get(("total", "total"), pd.Series(dtype="float64")).tail(180)
    chart = charts.forecast_chart(
        history, chart_forecast, f"Daily revenue (total) as of {d.date()}"
    )
    return ModelOutput(
        tables={"sales_forecast": forecast, "forecast_backtest": bt},
        metadata=metadata,
        charts={"forecast_total": chart},
    )
