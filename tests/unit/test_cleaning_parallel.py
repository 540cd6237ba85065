"""Large files parse and profile their columns (and count duplicates per key bucket) on a
thread pool: the result must not depend on it.

The pool only starts above a row threshold, so these tests lower the threshold and compare the
threaded work with the sequential one on dirty data (every kind of bad value, duplicates,
versions), row for row and reason for reason.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from assets.drift.profile import profile_file
from assets.ingest import parallel
from assets.ingest.cleaning import CleanContext, clean_frame, repeated_values
from sales_pipeline.core.config import load_settings
from tests.unit.test_drift import raw_file

DAY = date(2024, 3, 4)


def _dirty_opportunities(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"O{i:05d}" for i in rng.integers(0, n // 2, n)])  # repeats: versions/copies
    stages = rng.choice(["lead", "Closed Won", "closed_lost", "negotiation", "bogus"], n)
    amounts = rng.choice(["10", "1,234.50", "(5)", "abc", "", "-3", "€7"], n)
    created = rng.choice(
        [
            "2024-03-01",
            "03/02/2024",
            "2024-03-01T10:00:00Z",
            "2099-01-01",
            "not a date",
            "1709224980000",
        ],
        n,
    )
    updated = rng.choice(["2024-03-02T08:00:00Z", "2024-03-03", ""], n)
    probability = rng.choice(["", "0.5", "40", "140"], n)
    frame = pd.DataFrame(
        {
            "opportunity_id": ids,
            "stage": stages,
            "amount": amounts,
            "created_at": created,
            "updated_at": updated,
            "close_date": rng.choice(["2024-03-03", ""], n),
            "probability": probability,
            "currency": rng.choice(["USD", "", "usd"], n),
        },
        dtype="str",
    )
    frame.iloc[5] = frame.iloc[4]  # one verbatim copy at least
    return frame


@pytest.mark.parametrize("seed", [0, 1])
def test_threaded_parse_equals_sequential(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    frame = _dirty_opportunities(2_000, seed)
    rows = pd.Series(np.arange(1, len(frame) + 1))
    ctx = CleanContext(landing_day=DAY)

    def run():
        return clean_frame("opportunities", frame, rows, source_file="d/o.csv", ctx=ctx)

    _sequential(monkeypatch)
    sequential = run()
    _threaded(monkeypatch)
    threaded = run()

    assert len(sequential.quarantine) > 0 and sequential.rows_duplicate > 0  # the data is dirty
    pd.testing.assert_frame_equal(threaded.clean, sequential.clean)
    pd.testing.assert_frame_equal(threaded.quarantine, sequential.quarantine)
    assert threaded.rows_duplicate == sequential.rows_duplicate


def _sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ROWS", 10**9)


def _threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "THREADS", 3)


def test_threaded_profile_equals_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _dirty_opportunities(1_000)
    raw = raw_file("2024-03-04/opportunities.csv", {c: frame[c].tolist() for c in frame})
    settings = load_settings(environ={})
    _sequential(monkeypatch)
    sequential = profile_file("opportunities", raw, settings)
    _threaded(monkeypatch)
    threaded = profile_file("opportunities", raw, settings)
    assert len(sequential) == frame.shape[1]
    pd.testing.assert_frame_equal(threaded, sequential)


def test_threaded_key_buckets_equal_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = pa.array(_dirty_opportunities(3_000, seed=2)["opportunity_id"], pa.large_string())
    _sequential(monkeypatch)
    sequential = repeated_values(keys, bucket_min=0)
    _threaded(monkeypatch)
    threaded = repeated_values(keys, bucket_min=0)
    assert 0 < sequential.sum() < len(keys)
    assert np.array_equal(threaded, sequential)
