"""Bounded training of churn and propensity: capped seeded samples, weekly refit, stored arrays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from assets.model_logic import build_churn, build_propensity, training
from assets.model_logic.features import FeatureInputs
from assets.model_logic.training import MemoryStore, TimeSplit, refit_day
from assets.model_logic.trees import export_forest, forest_predict
from sales_pipeline.core.warehouse import ModelFiles
from tests.unit.model_fixtures import churn_world

WEDNESDAY = date(2025, 7, 2)


@pytest.fixture(scope="module")
def snap():
    snapshot, _ = churn_world(n=120)
    return snapshot


def test_scoring_from_the_stored_arrays_equals_scikit_learn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5))
    y = (x[:, 0] + rng.normal(size=600) > 0).astype(int)
    clf = RandomForestClassifier(20, max_depth=6, random_state=0).fit(x, y)
    reg = RandomForestRegressor(20, max_depth=6, random_state=0).fit(x, x[:, 1] * 3)
    np.testing.assert_allclose(
        forest_predict(export_forest(clf), x), clf.predict_proba(x)[:, 1], atol=1e-12
    )
    np.testing.assert_allclose(forest_predict(export_forest(reg), x), reg.predict(x), atol=1e-12)


def test_training_set_is_capped_seeded_and_sampled_by_account(snap, monkeypatch):
    inputs = FeatureInputs.from_snapshot(snap)
    full = TimeSplit.build(inputs, "all")
    monkeypatch.setattr(training, "MAX_ACCOUNTS", 50)
    monkeypatch.setattr(training, "MAX_TRAIN_ROWS", 200)
    monkeypatch.setattr(training, "MAX_VALID_ROWS", 30)
    capped = TimeSplit.build(inputs, "all")
    assert len(full.train) > 200 and len(full.valid) > 30  # the caps bind
    assert len(capped.train) == 200 and len(capped.all) == 200 and len(capped.valid) == 30
    assert capped.all["account_id"].nunique() <= 50
    assert capped.n_labeled < full.n_labeled and capped.n_accounts == full.n_accounts
    pdt.assert_frame_equal(capped.train, TimeSplit.build(inputs, "all").train)  # seeded
    other = TimeSplit.build(inputs, "all", seed=1)
    assert set(other.all["account_id"]) != set(capped.all["account_id"])


def test_the_week_reuses_the_mondays_fit_and_says_so(snap):
    store = MemoryStore()
    monday = refit_day(pd.Timestamp(WEDNESDAY))
    assert monday == pd.Timestamp("2025-06-30")
    first = build_churn(replace(snap, as_of=WEDNESDAY), store=store)
    assert first.metadata["reused_fit"] is False and len(store.models) == 1
    thursday = replace(snap, as_of=date(2025, 7, 3))
    again = build_churn(thursday, store=store)
    assert again.metadata["reused_fit"] is True and len(store.models) == 1
    report = again.tables["churn_model_report"]
    assert (report["fitted_as_of"] == pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")).all()
    assert (report["trained_at"] == pd.Timestamp("2025-07-03 23:59:59.999999", tz="UTC")).all()
    assert (report["n_labeled"] >= report["n_train"]).all()
    # The store only saves time: without it, Thursday's output is the same.
    fresh = build_churn(thursday)
    for name, frame in again.tables.items():
        pdt.assert_frame_equal(frame, fresh.tables[name])


def test_a_new_week_refits_and_late_data_waits_for_it(snap):
    store = MemoryStore()
    build_propensity(snap, store=store)  # Monday 2025-06-30
    orders = snap.orders.copy()
    orders.loc[orders.index[0], "amount"] = orders["amount"].iloc[0] + 1000.0
    tuesday = build_propensity(replace(snap, orders=orders, as_of=date(2025, 7, 1)), store=store)
    assert tuesday.metadata["reused_fit"] is True and len(store.models) == 1
    monday = build_propensity(replace(snap, orders=orders, as_of=date(2025, 7, 7)), store=store)
    assert monday.metadata["reused_fit"] is False and len(store.models) == 2
    assert monday.metadata["fitted_as_of"] == "2025-07-07"


def test_model_files_round_trip_without_pickles(tmp_path, snap):
    files = ModelFiles(tmp_path)
    store = MemoryStore()
    out = build_propensity(snap, store=store)
    (name, key), model = next(iter(store.models.items()))
    files.put(name, key, model)
    path = tmp_path / "_models" / name / f"{key}.npz"
    assert path.is_file()
    with np.load(path, allow_pickle=False) as data:  # raises on any pickled object
        assert data["__meta__"].dtype == np.uint8
    meta, arrays = files.get(name, key)
    assert meta["fit_key"] == key and sorted(arrays) == sorted(model[1])
    for k, v in model[1].items():
        np.testing.assert_array_equal(arrays[k], v)

    class Loaded:
        def get(self, n, k):
            return files.get(n, k)

        def put(self, n, k, m):
            raise AssertionError("a stored fit must be reused")

    again = build_propensity(snap, store=Loaded())
    for table, frame in out.tables.items():
        pdt.assert_frame_equal(frame, again.tables[table])
