"""The candidate forecast models for one daily series: SARIMAX (the seeds' ARIMA, weekly
seasonality), exponential smoothing (statsmodels ETS, additive error, damped trend, weekly
season) and the seasonal naive. Each fits on a numpy array and returns a `Forecast` (mean and
80%/95% bounds, unclipped); a failed or unusable fit raises `FitFailed`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

SEASON = 7
MAXITER = 50
ETS_MAXITER = 100
Z80, Z95 = 1.2815515655446004, 1.959963984540054
NAIVE = "seasonal_naive"
ETS = f"ETS(A,Ad,A)[{SEASON}]"
"""Additive error, additive damped trend, additive weekly season (Hyndman's taxonomy)."""

ORDER_GRID: tuple[tuple[tuple[int, int, int], tuple[int, int, int, int]], ...] = (
    ((0, 1, 1), (0, 1, 1, SEASON)),
    ((1, 1, 1), (0, 1, 1, SEASON)),
    ((2, 1, 1), (0, 1, 1, SEASON)),
    ((0, 1, 1), (1, 1, 1, SEASON)),
)
"""Airline-type models: one regular and one weekly difference (trend + weekly pattern), small AR
and MA terms, the airline model itself first (the others start from its fit: `nested_start`).
Every candidate has the same differencing, so their AICs are comparable."""

BOUND_NAMES = ("lower_80", "upper_80", "lower_95", "upper_95")


class FitFailed(RuntimeError):
    """A fit that raised, did not converge or produced non-finite values."""


@dataclass
class Forecast:
    yhat: np.ndarray
    bounds: dict[str, np.ndarray]
    params: np.ndarray | None = None
    """Fitted parameters (start values for refits of the same model), None for the naive."""


def model_name(order: tuple[int, int, int], seasonal: tuple[int, int, int, int]) -> str:
    p, d, q = order
    sp, sd, sq, s = seasonal
    return f"ARIMA({p},{d},{q})({sp},{sd},{sq})[{s}]"


def parse_arima(name: str) -> tuple[tuple, tuple]:
    inner = name.removeprefix("ARIMA(").replace(")(", ",").replace(")[", ",").rstrip("]")
    p, d, q, sp, sd, sq, s = (int(v) for v in inner.split(","))
    return (p, d, q), (sp, sd, sq, s)


def _finite(forecast: Forecast) -> Forecast:
    values = [forecast.yhat, *forecast.bounds.values()]
    if not all(np.all(np.isfinite(v)) for v in values):
        raise FitFailed("non-finite forecast")
    return forecast


def fit_sarimax(
    y: np.ndarray, order: tuple, seasonal: tuple, start_params=None, *, differenced=False
):
    """Fit SARIMAX; raise FitFailed on any failure, non-convergence or non-finite likelihood.

    `differenced`: the likelihood of the differenced series (statsmodels' simple_differencing,
    conditional on the first d + D*s values), whose state space lacks the 8 differencing states:
    about 1.8x faster, with the same parameters. Only for comparing candidates of one
    differencing by AIC, never for a forecast (it would forecast the differences)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # concentrate_scale: sigma^2 is profiled out, one parameter less (about a third faster).
            model = SARIMAX(
                y,
                order=order,
                seasonal_order=seasonal,
                concentrate_scale=True,
                simple_differencing=differenced,
            )
            # cov_type "none": no parameter covariance (a numerical Hessian); neither the AIC
            # nor the forecast intervals (the state-space forecast variance) use it.
            result = model.fit(
                start_params=start_params, disp=False, maxiter=MAXITER, cov_type="none"
            )
    except (np.linalg.LinAlgError, ValueError, IndexError, OverflowError) as exc:
        raise FitFailed(f"{type(exc).__name__}: {exc}") from exc
    if not result.mle_retvals.get("converged", False):
        raise FitFailed("did not converge")
    if not np.isfinite(result.llf) or not np.all(np.isfinite(result.params)):
        raise FitFailed("non-finite likelihood or parameters")
    return result


def nested_start(order: tuple, seasonal: tuple, airline: np.ndarray) -> np.ndarray:
    """Start values for a grid order from the airline model's fit: its MA and seasonal MA
    terms, zeros for the extra AR terms (SARIMAX's parameter order: AR, MA, seasonal AR,
    seasonal MA; sigma^2 is concentrated out). The airline model is nested in every order of
    ORDER_GRID, so this start is its optimum within the larger model."""
    (p, _, q), (sp, _, sq, _) = order, seasonal
    ma, sma = airline
    return np.concatenate(
        [np.zeros(p), [ma], np.zeros(q - 1), np.zeros(sp), [sma], np.zeros(sq - 1)]
    )


def select_order(y: np.ndarray) -> tuple[str | None, np.ndarray | None]:
    """The ORDER_GRID order with the lowest AIC on y (failed fits skipped) and its fitted
    parameters; (None, None) if none fits. Every candidate has the same differencing, so the
    AICs compare on the differenced series (see `fit_sarimax`); the parameters are the start
    values of the chosen order's refits on the undifferenced model.

    The airline model (the grid's first order) is fitted from statsmodels' own start values,
    the larger orders from its fit (`nested_start`): on a demo day's 10 series a grid fit took
    92 ms instead of 236 ms (the MA terms of these over-differenced daily series sit near
    -1, where a cold start crawls), and the order chosen was the same on all 130 series-days of
    the 13-month demo. A warm fit stops within the optimizer's tolerance a little earlier: its
    AIC was 0.00-0.1 higher there.
    """
    best, airline = None, None
    for order, seasonal in ORDER_GRID:
        start = None
        if airline is not None and (order, seasonal) != ORDER_GRID[0]:
            start = nested_start(order, seasonal, airline)
        try:
            result = fit_sarimax(y, order, seasonal, start, differenced=True)
        except FitFailed:
            continue
        if (order, seasonal) == ORDER_GRID[0]:
            airline = np.asarray(result.params)
        if np.isfinite(result.aic) and (best is None or result.aic < best[0] - 1e-9):
            best = (result.aic, model_name(order, seasonal), np.asarray(result.params))
    return (None, None) if best is None else (best[1], best[2])


def sarimax_forecast(y: np.ndarray, name: str, horizon: int, start_params=None) -> Forecast:
    result = fit_sarimax(y, *parse_arima(name), start_params=start_params)
    forecast = result.get_forecast(horizon)
    ci80 = np.asarray(forecast.conf_int(alpha=0.2), dtype="float64")
    ci95 = np.asarray(forecast.conf_int(alpha=0.05), dtype="float64")
    bounds = dict(zip(BOUND_NAMES, (ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1]), strict=True))
    yhat = np.asarray(forecast.predicted_mean, dtype="float64")
    return _finite(Forecast(yhat, bounds, np.asarray(result.params)))


def ets_forecast(y: np.ndarray, horizon: int, start_params=None) -> Forecast:
    """ETS(A,Ad,A) by maximum likelihood, analytic prediction intervals (additive error)."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if len(y) < 2 * SEASON + 4:
        raise FitFailed("too short for ETS")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ETSModel(
                pd.Series(y),
                error="add",
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=SEASON,
            )
            result = model.fit(start_params=start_params, disp=False, maxiter=ETS_MAXITER)
            prediction = result.get_prediction(start=len(y), end=len(y) + horizon - 1)
            f80 = prediction.summary_frame(alpha=0.2)
            f95 = prediction.summary_frame(alpha=0.05)
    except (np.linalg.LinAlgError, ValueError, IndexError, OverflowError) as exc:
        raise FitFailed(f"{type(exc).__name__}: {exc}") from exc
    if not np.isfinite(result.llf):
        raise FitFailed("non-finite likelihood")
    bounds = {
        "lower_80": f80["pi_lower"].to_numpy("float64"),
        "upper_80": f80["pi_upper"].to_numpy("float64"),
        "lower_95": f95["pi_lower"].to_numpy("float64"),
        "upper_95": f95["pi_upper"].to_numpy("float64"),
    }
    return _finite(Forecast(f80["mean"].to_numpy("float64"), bounds, np.asarray(result.params)))


def seasonal_naive(y: np.ndarray, horizon: int) -> Forecast:
    """Last observed week repeated; interval half-width z * sigma * sqrt(weeks ahead), sigma =
    std of the lag-7 differences."""
    if len(y) == 0:
        zeros = np.zeros(horizon)
        return Forecast(zeros, dict.fromkeys(BOUND_NAMES, zeros))
    last = y[-SEASON:] if len(y) >= SEASON else np.resize(y[-1:], SEASON)
    steps = np.arange(horizon)
    yhat = (
        last[(len(last) - SEASON + steps) % SEASON]
        if len(last) == SEASON
        else np.full(horizon, y[-1])
    )
    diffs = y[SEASON:] - y[:-SEASON] if len(y) > SEASON else np.zeros(1)
    sigma = float(np.std(diffs)) * np.sqrt(steps // SEASON + 1)
    bounds = {
        "lower_80": yhat - Z80 * sigma,
        "upper_80": yhat + Z80 * sigma,
        "lower_95": yhat - Z95 * sigma,
        "upper_95": yhat + Z95 * sigma,
    }
    return Forecast(yhat, bounds)


def candidate_forecast(
    name: str, y: np.ndarray, horizon: int, start_params: np.ndarray | None = None
) -> Forecast:
    """Fit candidate `name` (an ARIMA name, ETS or NAIVE) on y and forecast horizon days."""
    if name == NAIVE:
        return seasonal_naive(y, horizon)
    if name == ETS:
        return ets_forecast(y, horizon, start_params)
    return sarimax_forecast(y, name, horizon, start_params)
