"""Sales forecast: the model is chosen per series by its backtest (beating the seasonal naive on
trend + seasonality), the hierarchy adds up, intervals are calibrated, failures fall back instead of
failing, and D's output does not depend on workers or on the selection cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from assets.model_logic import build_sales_forecast
from assets.model_logic import forecast_models as fm
from assets.model_logic import forecast_series as fs
from assets.model_logic import forecasts as fc
from schemas import SCHEMAS
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import AS_OF, forecast_world


@pytest.fixture(scope="module")
def inline_run():
    snap = forecast_world()
    cache: dict[str, dict] = {}
    out = build_sales_forecast(snap, max_workers=1, selection_cache=cache)
    return snap, cache, out


def test_model_beats_seasonal_naive_on_trend_plus_weekly_seasonality(inline_run):
    _, _, out = inline_run
    bt = out.tables["forecast_backtest"].set_index(["level", "key"])
    total = bt.loc[("total", "total")]
    assert total["model"].startswith("ARIMA(") and total["model"].endswith(")[7]")
    assert total["model"] == total["arima_order"]
    assert total["mase"] < total["baseline_mase"]
    assert total["n_test"] == fs.BACKTEST_FOLDS * fs.BACKTEST_DAYS
    assert set(bt.index) == {
        ("total", "total"),
        ("region", "EMEA"),
        ("region", "AMER"),
        ("region", "__unknown__"),
        ("product", "A"),
        ("product", "B"),
        ("product", "__unknown__"),
    }


def test_each_series_ships_the_candidate_with_the_best_backtest_mase(inline_run):
    _, _, out = inline_run
    bt = out.tables["forecast_backtest"]
    slots = {
        "arima": "selection_mase_arima",
        "ets": "selection_mase_ets",
        "naive": "selection_mase_naive",
    }
    for _, row in bt.iterrows():
        scores = {slot: row[col] for slot, col in slots.items()}
        assert all(np.isfinite(v) for v in scores.values()), row.to_dict()
        best = min(scores, key=scores.get)
        expected = {"arima": row["arima_order"], "ets": fm.ETS, "naive": fm.NAIVE}[best]
        assert row["model"] == expected
        assert row["mase"] == pytest.approx(scores[best])


def test_hierarchy_adds_up_every_day(inline_run):
    _, _, out = inline_run
    forecast = out.tables["sales_forecast"]
    sums = forecast.groupby(["level", "ds"])["yhat"].sum().unstack("level")
    # Cents rounding of each row is the only gap left (3 series per partition here).
    assert (sums["region"] - sums["total"]).abs().max() <= 0.02
    assert (sums["product"] - sums["total"]).abs().max() <= 0.02
    assert out.metadata["incoherence_before"] > 1.0  # the base forecasts did not add up
    assert out.metadata["incoherence_after"] <= 0.02


def test_ets_or_naive_ships_when_arima_loses(monkeypatch):
    """A broken ARIMA (its forecasts tripled) loses the backtest and is not shipped."""
    real = fs.candidate_forecast

    def worse_arima(name, y, horizon, start_params=None):
        forecast = real(name, y, horizon, start_params)
        if name.startswith("ARIMA("):
            forecast.yhat = forecast.yhat * 3.0
        return forecast

    monkeypatch.setattr(fs, "candidate_forecast", worse_arima)
    out = build_sales_forecast(forecast_world(days=150), max_workers=1, horizon=14)
    bt = out.tables["forecast_backtest"]
    assert not bt["model"].str.startswith("ARIMA(").any()
    assert (bt["selection_mase_arima"] > bt["mase"]).all()
    assert set(bt["model"]) <= {fm.ETS, fm.NAIVE}


@pytest.mark.slow
def test_shipped_intervals_cover_what_happened_next():
    """Forecast from 60 days before the end of generated data (trend + weekly season + noise) and
    count the actual days inside the shipped (reconciled) intervals, pooled over two seeds."""
    hits80, hits95, n = 0, 0, 0
    for seed in (0, 1):
        full = forecast_world(days=480, seed=seed)
        cut = dataclasses.replace(full, as_of=(pd.Timestamp(AS_OF) - pd.Timedelta(days=60)).date())
        forecast = build_sales_forecast(cut, max_workers=1, horizon=60).tables["sales_forecast"]
        actual = pd.concat(fc.daily_series(full), names=["level", "key", "ds"]).rename("y")
        m = forecast.merge(actual.reset_index(), on=["level", "key", "ds"])
        hits80 += int(((m["y"] >= m["yhat_lower_80"]) & (m["y"] <= m["yhat_upper_80"])).sum())
        hits95 += int(((m["y"] >= m["yhat_lower_95"]) & (m["y"] <= m["yhat_upper_95"])).sum())
        n += len(m)
    assert n == 2 * 7 * 60
    assert 0.70 <= hits80 / n <= 0.92
    assert 0.88 <= hits95 / n <= 0.995


def test_forecast_shape_intervals_and_schema(inline_run):
    _, _, out = inline_run
    forecast = out.tables["sales_forecast"]
    SCHEMAS["sales_forecast"].validate(forecast)
    SCHEMAS["forecast_backtest"].validate(out.tables["forecast_backtest"])
    assert len(forecast) == 7 * 90
    total = forecast[forecast["level"] == "total"]
    assert total["ds"].min() == pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    assert total["horizon"].tolist() == list(range(1, 91))
    assert (forecast[["yhat", "yhat_lower_95", "yhat_lower_80"]] >= 0).all().all()
    assert (forecast["yhat_lower_95"] <= forecast["yhat_lower_80"]).all()
    assert (forecast["yhat_lower_80"] <= forecast["yhat"]).all() and (
        forecast["yhat"] <= forecast["yhat_upper_80"]
    ).all()
    assert (forecast["yhat_upper_80"] <= forecast["yhat_upper_95"]).all()
    assert out.charts["forecast_total"].startswith(b"\x89PNG")


def test_workers_and_cache_do_not_change_the_output(inline_run):
    snap, cache, out = inline_run
    assert cache and all(k.count("|") == 3 for k in cache)
    again = build_sales_forecast(snap, max_workers=2, selection_cache=dict(cache))
    for name in ("sales_forecast", "forecast_backtest"):
        pdt.assert_frame_equal(out.tables[name], again.tables[name])
    assert again.metadata["model_fits"] == 7  # one final fit per series with the memo


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["account_id", "order_date", "amount", "product"])
    return frame.assign(order_id=[f"o{i}" for i in range(len(frame))], status="completed")


def test_short_and_all_zero_series_fall_back_to_seasonal_naive():
    days = pd.date_range(pd.Timestamp(AS_OF) - pd.Timedelta(days=29), AS_OF)
    rows = [("a1", d, 100.0 + d.day_of_week, "A") for d in days]
    rows += [
        ("a1", d, 0.0, "ZERO")
        for d in pd.date_range(pd.Timestamp(AS_OF) - pd.Timedelta(days=200), AS_OF)
    ]
    out = build_sales_forecast(
        make_snapshot(AS_OF, orders=_orders(rows)), max_workers=1, horizon=14
    )
    bt = out.tables["forecast_backtest"].set_index(["level", "key"])
    assert bt.loc[("product", "A"), "model"] == fm.NAIVE
    assert bt.loc[("product", "ZERO"), "model"] == fm.NAIVE
    forecast = out.tables["sales_forecast"]
    a = forecast[(forecast["level"] == "product") & (forecast["key"] == "A")]
    # Seasonal naive repeats the last observed week. Without a backtest fold its reconciliation
    # weight is the naive's one-step error variance, 0 for this repeating week: the other series
    # adjust to it, not it to them.
    last_week = {d.day_of_week: 100.0 + d.day_of_week for d in days[-7:]}
    assert a["yhat"].tolist() == pytest.approx([last_week[d.day_of_week] for d in a["ds"]])
    assert (forecast[forecast["key"] == "ZERO"]["yhat"] == 0).all()


@pytest.mark.parametrize("error", [np.linalg.LinAlgError("singular"), RuntimeError("boom")])
def test_a_raising_fit_falls_back_and_never_fails(monkeypatch, error):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    def broken(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(SARIMAX, "fit", broken)
    monkeypatch.setattr(ETSModel, "fit", broken)
    snap = forecast_world(days=120)
    out = build_sales_forecast(snap, max_workers=1, horizon=10)
    bt = out.tables["forecast_backtest"]
    assert (bt["model"] == fm.NAIVE).all() and len(bt) == 7
    assert np.isfinite(bt["baseline_mase"]).all()
    assert out.metadata["fallbacks"] == 7


def _later(snap, days: int):
    """The snapshot `days` later: the last weeks' orders repeated one week on, as of AS_OF+days."""
    d = pd.Timestamp(AS_OF)
    orders = snap.orders
    recent = orders[orders["order_date"] > d - pd.Timedelta(days=7)]
    extra = recent.assign(
        order_id=[f"later{i}" for i in range(len(recent))],
        order_date=recent["order_date"] + pd.Timedelta(days=7),
        amount=recent["amount"] * 1.5,
    )
    extra = extra[extra["order_date"] <= d + pd.Timedelta(days=days)]
    as_of = (d + pd.Timedelta(days=days)).date()
    return make_snapshot(
        as_of, accounts=snap.accounts, orders=pd.concat([orders, extra], ignore_index=True)
    )


def _models(out) -> dict[tuple[str, str], str]:
    bt = out.tables["forecast_backtest"]
    return dict(zip(zip(bt["level"], bt["key"], strict=True), bt["model"], strict=True))


@pytest.mark.slow
def test_orders_are_selected_on_the_monday_and_reused_until_the_next(inline_run):
    """The Monday's choice (held in the selection cache) is what Tuesday..Sunday use, even with
    new data; the next Monday selects again on data up to it."""
    snap, cache, out = inline_run
    assert pd.Timestamp(AS_OF).day_of_week == 0
    monday = _models(out)
    assert all(m.startswith("ARIMA(") for m in monday.values())
    # Poison every cached choice with a grid order the Monday did not pick: if a later day of
    # the week re-selected instead of reusing the Monday's order, it would not come out.
    names = [fm.model_name(*o) for o in fm.ORDER_GRID]
    poison = next(n for n in names if n not in set(monday.values()))
    poisoned = {
        key: {"arima": poison, "chosen": poison, "mase": {}, "metrics": {}} for key in cache
    }

    for days in (1, 6):  # Tuesday and Sunday, with orders after the Monday
        later = build_sales_forecast(
            _later(snap, days), max_workers=1, horizon=14, selection_cache=poisoned
        )
        assert set(_models(later).values()) == {poison}, days
        assert set(poisoned) == set(cache)  # nothing new to remember within the week

    next_monday = _later(snap, 7)
    reselected = build_sales_forecast(
        next_monday, max_workers=1, horizon=14, selection_cache=poisoned
    )
    assert len(poisoned) == 2 * len(cache)  # one new choice per series
    fresh = build_sales_forecast(next_monday, max_workers=1, horizon=14)
    assert _models(reselected) == _models(fresh)


def test_model_is_chosen_on_the_monday_with_data_up_to_it():
    snap = forecast_world(days=200)
    d = pd.Timestamp(AS_OF)  # a Monday
    assert d.day_of_week == 0 and fc.monday_on_or_before(d + pd.Timedelta(days=3)) == d
    history = fc.daily_series(snap)[("total", "total")]
    key = fc.cache_key("total", "total", d, history)
    # Data after the Monday does not change the key (so not the chosen order either).
    later = pd.concat([history, pd.Series([5.0], index=[d + pd.Timedelta(days=1)])])
    assert fc.cache_key("total", "total", d, later) == key


def test_no_revenue_gives_empty_tables():
    out = build_sales_forecast(make_snapshot(AS_OF), max_workers=1)
    assert out.tables["sales_forecast"].empty and out.tables["forecast_backtest"].empty


def test_grid_orders_start_at_the_airline_optimum():
    """`nested_start` puts the airline fit's MA terms where each larger order keeps them and
    zeros elsewhere, so the larger model starts exactly at the airline's likelihood (a wrong
    parameter layout would not), and the warm-started grid picks the cold grid's order."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    rng = np.random.default_rng(3)
    t = np.arange(365)
    y = 1000 + 2 * t + 300 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 120, t.size)
    airline = fm.fit_sarimax(y, *fm.ORDER_GRID[0], differenced=True)
    for order, seasonal in fm.ORDER_GRID[1:]:
        model = SARIMAX(
            y,
            order=order,
            seasonal_order=seasonal,
            concentrate_scale=True,
            simple_differencing=True,
        )
        start = fm.nested_start(order, seasonal, np.asarray(airline.params))
        assert model.loglike(start) == pytest.approx(airline.llf, rel=1e-9)

    cold = [fm.fit_sarimax(y, o, s, differenced=True).aic for o, s in fm.ORDER_GRID]
    chosen, params = fm.select_order(y)
    assert chosen == fm.model_name(*fm.ORDER_GRID[int(np.argmin(cold))])
    assert params is not None and np.all(np.isfinite(params))
