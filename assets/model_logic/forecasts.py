"""Daily revenue forecasts per level/key (total, region, product): the model chosen per series by
a rolling backtest, reconciled so the hierarchy adds up.

Series: completed revenue per day (`revenue_events`) for `total`, each `region` (the account's;
`__unknown__` without one) and each `product` (`__unknown__` without one), dense from the series'
first revenue day to D. Days are the events' own calendar dates (order_date / close_date are dates
already, so `tz` changes nothing here; it is accepted for symmetry with the KPI layer).

Per series (`forecast_series.forecast_series`, run in a process pool): candidates ARIMA (the
seeds' model, order by AIC), ETS and seasonal naive are backtested on the Monday on or before D,
the best MASE is fitted on the data up to D and forecast, and backtested as of D
(`forecast_models`, `forecast_series`). `selection_cache` memoises only the Monday's selection
(key: level|key|monday|sha of the series up to monday), so it changes speed, never output.

Then the base forecasts of all series are reconciled (`reconcile`: MinT with the backtest MSEs as
weights), so for every day ahead total = sum of regions = sum of products (to the cent rounding).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context

import numpy as np
import pandas as pd

from assets.model_logic import charts, reconcile
from assets.model_logic.features import UNKNOWN
from assets.model_logic.forecast_models import ETS, NAIVE, ORDER_GRID, model_name
from assets.model_logic.forecast_series import (
    SELECTION_WINDOW,
    SeriesResult,
    SeriesTask,
    forecast_series,
)
from assets.model_logic.output import ModelOutput
from assets.state_logic import Snapshot, revenue_events
from schemas import TABLES, conform

BLAS_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
MONEY = ["yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"]
TABLE_NAMES = ("sales_forecast", "forecast_backtest")


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
    """Memo key of the selection made on `monday` for this series: the SELECTION_WINDOW days up
    to that Monday are all the selection sees."""
    window = history[history.index <= monday].tail(SELECTION_WINDOW)
    digest = hashlib.sha256(np.round(window.to_numpy(), 2).tobytes())
    digest.update(str(window.index.min()).encode())
    return f"{level}|{key}|{monday.date().isoformat()}|{digest.hexdigest()[:16]}"


# --- the pool ---------------------------------------------------------------------------------


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


def _tasks(
    series: dict[tuple[str, str], pd.Series],
    monday: pd.Timestamp,
    horizon: int,
    cache: MutableMapping[str, dict] | None,
) -> tuple[list[SeriesTask], list[str]]:
    tasks, keys = [], []
    for (level, key), history in series.items():
        memo = cache_key(level, key, monday, history)
        # Only the part a fit or the backtest can see is shipped to the worker.
        # (D's backtest needs FIT_WINDOW + folds days; the selection the same up to the Monday.)
        tail = history.tail(SELECTION_WINDOW + 7)
        cached = None if cache is None else cache.get(memo)
        tasks.append(
            SeriesTask(
                level=level,
                key=key,
                values=tail.to_numpy(),
                monday_len=int((tail.index <= monday).sum()),
                horizon=horizon,
                cached=cached if isinstance(cached, dict) else None,
            )
        )
        keys.append(memo)
    return tasks, keys


def _coherent(results: list[SeriesResult]) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """Reconciled means and bounds (rows follow `results`), and the base forecasts' incoherence."""
    levels = [r.level for r in results]
    yhat = np.vstack([r.yhat for r in results])
    bounds = {name: np.vstack([r.bounds[name] for r in results]) for name in results[0].bounds}
    variances = np.array([r.backtest["mse"] for r in results], dtype="float64")
    before = reconcile.incoherence(yhat, levels)
    coherent, moved = reconcile.reconcile(yhat, bounds, levels, variances)
    return coherent, moved, before


def _forecast_table(
    results: list[SeriesResult], d: pd.Timestamp, horizon: int
) -> tuple[pd.DataFrame, float]:
    coherent, bounds, before = _coherent(results)
    days = pd.date_range(d + pd.Timedelta(days=1), periods=horizon, freq="D")
    frames = [
        pd.DataFrame(
            {
                "level": res.level,
                "key": res.key,
                "ds": days,
                "horizon": np.arange(1, horizon + 1),
                "yhat": coherent[i],
                **{f"yhat_{name}": values[i] for name, values in bounds.items()},
                "model": res.model,
            }
        )
        for i, res in enumerate(results)
    ]
    forecast = pd.concat(frames, ignore_index=True)
    forecast[MONEY] = forecast[MONEY].round(2)
    forecast = conform(forecast, TABLES["sales_forecast"])
    return forecast.sort_values(["level", "key", "ds"], kind="stable").reset_index(
        drop=True
    ), before


def _backtest_table(results: list[SeriesResult]) -> pd.DataFrame:
    rows = []
    for res in results:
        selection = res.selection or {}
        mase = selection.get("mase", {})
        rows.append(
            {
                "level": res.level,
                "key": res.key,
                "model": res.model,
                **res.backtest,
                "arima_order": selection.get("arima"),
                "selection_mase_arima": mase.get("arima"),
                "selection_mase_ets": mase.get("ets"),
                "selection_mase_naive": mase.get("naive"),
            }
        )
    bt = conform(pd.DataFrame(rows), TABLES["forecast_backtest"])
    return bt.sort_values(["level", "key"], kind="stable").reset_index(drop=True)


def _metadata(
    results: list[SeriesResult],
    bt: pd.DataFrame,
    monday: pd.Timestamp,
    seconds: float,
    incoherence: tuple[float, float],
) -> dict[str, object]:
    per_series = [r.seconds for r in results]
    reasons = {(r.level, r.key): r.reason for r in results}
    summary = bt.assign(reason=[reasons[pair] for pair in zip(bt["level"], bt["key"], strict=True)])
    return {
        "series": len(results),
        "fallbacks": int(sum(r.model == NAIVE for r in results)),
        "models_chosen": dict(sorted(bt["model"].map(_family).value_counts().items())),
        "selection_monday": monday.date().isoformat(),
        "order_grid": ", ".join(model_name(*o) for o in ORDER_GRID),
        "incoherence_before": round(incoherence[0], 2),
        "incoherence_after": round(incoherence[1], 2),
        "seconds_total": round(seconds, 3),
        "seconds_per_series_max": round(max(per_series, default=0.0), 3),
        "seconds_per_series_mean": round(float(np.mean(per_series)) if per_series else 0.0, 3),
        "model_fits": int(sum(r.fits for r in results)),
        "backtest": summary.round(3).to_markdown(index=False) if len(summary) else "no series",
    }


def _family(model: str) -> str:
    return "ARIMA" if model.startswith("ARIMA(") else ("ETS" if model == ETS else model)


def build_sales_forecast(
    snap: Snapshot,
    *,
    horizon: int = 90,
    tz: str = "UTC",
    max_workers: int = 2,
    selection_cache: MutableMapping[str, dict] | None = None,
) -> ModelOutput:
    """sales_forecast and forecast_backtest as of D (see module docstring)."""
    started = time.perf_counter()
    d = pd.Timestamp(snap.as_of)
    monday = monday_on_or_before(d)
    series = daily_series(snap)
    if not series:
        return ModelOutput(
            tables={name: TABLES[name].empty_frame() for name in TABLE_NAMES},
            metadata={"series": 0, "reason": "no completed revenue up to D"},
        )
    tasks, keys = _tasks(series, monday, horizon, selection_cache)
    results = run_tasks(tasks, max_workers)
    if selection_cache is not None:
        for memo, res in zip(keys, results, strict=True):
            if res.selection is not None:
                selection_cache[memo] = res.selection
    forecast, before = _forecast_table(results, d, horizon)
    bt = _backtest_table(results)
    after = _max_incoherence(forecast)
    metadata = _metadata(results, bt, monday, time.perf_counter() - started, (before, after))
    history = series.get(("total", "total"), pd.Series(dtype="float64")).tail(180)
    chart = charts.forecast_chart(
        history, forecast[forecast["level"] == "total"], f"Daily revenue (total) as of {d.date()}"
    )
    return ModelOutput(
        tables=dict(zip(TABLE_NAMES, (forecast, bt), strict=True)),
        metadata=metadata,
        charts={"forecast_total": chart},
    )


def _max_incoherence(forecast: pd.DataFrame) -> float:
    """Largest |total - sum(level)| over levels and days of the shipped (rounded) table."""
    by_level = forecast.groupby(["level", "ds"])["yhat"].sum().unstack("level")
    if "total" not in by_level:
        return 0.0
    gaps = by_level.drop(columns="total").sub(by_level["total"], axis=0).abs()
    return float(np.nan_to_num(gaps.to_numpy()).max(initial=0.0))
