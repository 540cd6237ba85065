"""Bounded training for the supervised models (churn, propensity): on what, how much, how often.

Cadence: the models are fitted as of the Monday M on or before D, on the feature inputs cut at M
(nothing dated after M), by the first analytics day of that week that runs; the fit is stored
(key: model, M, parameters, caps) and every later night of the week scores its accounts from it,
reruns included, so a rerun is byte-identical and a night costs a scoring, not a fit. Data dated
<= M that arrives later in the week (late events, status changes) waits for next Monday's fit: a
key over the data itself would refit almost every night, since real deltas touch the past.

Cap (seeded): at most MAX_ACCOUNTS accounts known at M are sampled, features and labels are
computed for those only (a feature depends on its own account's events, so sampling first is
exact and bounds the feature work), then at most MAX_TRAIN_ROWS training rows and MAX_VALID_ROWS
validation rows are sampled from the labeled snapshots. Below the caps every row is used.

Time split (`TimeSplit`): validation = the latest labeled snapshot (t = M-90); training = the
snapshots at least LABEL_HORIZON days older (t <= M-180), so no training label window overlaps
the validation one; the final model is refitted on every labeled snapshot (capped likewise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from assets.model_logic.features import (
    LABEL_HORIZON,
    FeatureInputs,
    labeled_snapshots,
    short_sha,
    snapshot_days,
)

MAX_ACCOUNTS = 20_000
MAX_TRAIN_ROWS = 40_000
MAX_VALID_ROWS = 10_000
ACTIVE_DAYS = 180
"""Active at t: a completed order in [t - ACTIVE_DAYS + 1, t] (the churn population)."""

StoredModel = tuple[dict, dict[str, np.ndarray]]
"""A fitted model: JSON-able metadata and named numpy arrays (no pickles)."""


class ModelStore(Protocol):
    """Where fitted models are kept between nights (the warehouse's `_models/`, or a dict)."""

    def get(self, name: str, key: str) -> StoredModel | None: ...

    def put(self, name: str, key: str, model: StoredModel) -> None: ...


class MemoryStore:
    """A ModelStore in a dict (tests, one-off runs)."""

    def __init__(self) -> None:
        self.models: dict[tuple[str, str], StoredModel] = {}

    def get(self, name: str, key: str) -> StoredModel | None:
        return self.models.get((name, key))

    def put(self, name: str, key: str, model: StoredModel) -> None:
        self.models[(name, key)] = model


def refit_day(day: pd.Timestamp) -> pd.Timestamp:
    """The Monday on or before `day`: the as-of day of the model in force on `day`."""
    day = pd.Timestamp(day)
    return day - pd.Timedelta(days=day.day_of_week)


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS/OpenMP at one thread: sums inside a fit then do not depend on the core count."""
    with threadpool_limits(limits=1):
        yield


def sample_positions(n: int, cap: int, seed: int, salt: int) -> np.ndarray:
    """Sorted positions of a seeded uniform sample of at most `cap` of `n` rows (all of them
    when n <= cap); each caller passes its own `salt`, so two bounds never share one draw."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng([seed, salt])
    return np.sort(rng.choice(n, size=cap, replace=False))


def cap_rows(rows: pd.DataFrame, cap: int, seed: int, salt: int) -> pd.DataFrame:
    """At most `cap` rows, a seeded uniform sample in the original order."""
    return rows.iloc[sample_positions(len(rows), cap, seed, salt)].reset_index(drop=True)


@dataclass(frozen=True)
class TimeSplit:
    """Labeled snapshot rows (features at t + outcome in (t, t+90]) split in time, capped."""

    all: pd.DataFrame
    train: pd.DataFrame
    valid: pd.DataFrame
    days: list[pd.Timestamp]
    n_labeled: int
    """Labeled rows of the sampled accounts before the row caps."""
    n_accounts: int
    """Accounts known at the fit day (before the account sample)."""

    @classmethod
    def build(cls, inputs: FeatureInputs, population: str, seed: int = 0) -> TimeSplit:
        """population: 'active' (churn) or 'all' (propensity); see the module docstring."""
        days = snapshot_days(inputs)
        known = inputs.known_accounts()
        sampled = known[sample_positions(len(known), MAX_ACCOUNTS, seed, 1)]
        rows = labeled_snapshots(
            inputs.restrict(sampled) if len(sampled) < len(known) else inputs, days
        )
        if population == "active" and len(rows):
            rows = rows[rows["recency_days"] <= ACTIVE_DAYS - 1]
        rows = rows.reset_index(drop=True)
        if not days:
            empty = rows.iloc[:0]
            return cls(empty, empty, empty, [], 0, len(known))
        latest = days[-1]
        valid = rows[rows["snapshot_day"] == latest]
        train = rows[rows["snapshot_day"] <= latest - pd.Timedelta(days=LABEL_HORIZON)]
        return cls(
            all=cap_rows(rows, MAX_TRAIN_ROWS, seed, 2),
            train=cap_rows(train, MAX_TRAIN_ROWS, seed, 3),
            valid=cap_rows(valid, MAX_VALID_ROWS, seed, 4),
            days=days,
            n_labeled=len(rows),
            n_accounts=len(known),
        )

    def metadata(self) -> dict[str, object]:
        return {
            "snapshot_days": [d.date().isoformat() for d in self.days],
            "n_labeled": self.n_labeled,
            "n_refit": len(self.all),
            "n_validation": len(self.valid),
            "validation_day": self.days[-1].date().isoformat() if self.days else None,
            "accounts_known": self.n_accounts,
            "accounts_sampled": min(self.n_accounts, MAX_ACCOUNTS),
            "caps": {
                "accounts": MAX_ACCOUNTS,
                "train_rows": MAX_TRAIN_ROWS,
                "validation_rows": MAX_VALID_ROWS,
            },
        }


def fitted_model(
    name: str,
    inputs: FeatureInputs,
    params: dict,
    fit: Callable[[FeatureInputs], StoredModel],
    store: ModelStore | None,
) -> tuple[StoredModel, bool]:
    """The model in force on D = inputs.as_of: from the store if this week's is there, else
    fitted on the inputs cut at the refit Monday (and stored). Returns (model, reused)."""
    monday = refit_day(inputs.as_of)
    caps = [MAX_ACCOUNTS, MAX_TRAIN_ROWS, MAX_VALID_ROWS]
    key = f"{monday.date().isoformat()}-" + short_sha({"params": params, "caps": caps})
    if store is not None and (found := store.get(name, key)) is not None:
        return found, True
    with single_threaded():
        model = fit(inputs.cut(monday))
    model[0]["fit_key"] = key
    if store is not None:
        store.put(name, key, model)
    return model, False
