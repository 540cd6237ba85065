"""Where a multi-day run builds its analytics days: in the caller, or in a second process.

An analytics day D reads only partitions <= D, and the ingest of the days after D writes only
partitions > D, so the two can overlap. With two or more analytics days in a run (the demo: one
per month-end) a `BackgroundAnalytics` lane builds them in one worker process, in the order they
were submitted (each day's state advances from the one before it), while the caller ingests the
next span: on 2 cores a month of the demo costs about the larger of the two instead of their sum.
Both processes record their runs in the same Dagster instance (SQLite serialises the writes;
each run has its own shard), so the UI shows every run either way.

`InlineAnalytics` runs each day when it is submitted: the behaviour of a single analytics day,
of `run_days` called without a lane, and of `SALES_PIPELINE_ANALYTICS_WORKER=0`.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context

import dagster as dg

from sales_pipeline.resume import Ledger
from sales_pipeline.runner import RunOutcome, run_analytics

WORKER_ENV = "SALES_PIPELINE_ANALYTICS_WORKER"


def worker_wanted(analytics_days: int) -> bool:
    """A second process pays off with two or more analytics days and a second core to use."""
    if os.environ.get(WORKER_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return analytics_days >= 2 and len(os.sched_getaffinity(0)) >= 2


class InlineAnalytics:
    """Each analytics day runs in the caller, when submitted."""

    def __init__(
        self, defs: dg.Definitions, instance: dg.DagsterInstance, ledger: Ledger | None
    ) -> None:
        self.defs, self.instance, self.ledger = defs, instance, ledger
        self._done: list[RunOutcome] = []

    def submit(self, day: date, *, force: bool = False) -> None:
        self._done.append(run_analytics(self.defs, day, self.instance, self.ledger, force=force))

    def ready(self) -> list[RunOutcome]:
        """The outcomes finished since the last call, in submission order."""
        done, self._done = self._done, []
        return done

    def drain(self) -> list[RunOutcome]:
        return self.ready()

    def close(self) -> None:
        pass


# --- the worker process ------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(overrides: dict, ledger_wanted: bool, force: bool) -> None:
    from sales_pipeline.core.resources import PipelineSettings
    from sales_pipeline.definitions import build_defs

    # The caller has shown Dagster's warnings about the definitions once already.
    warnings.simplefilter("ignore", dg.BetaWarning)
    settings = PipelineSettings.from_overrides(overrides)
    _WORKER["defs"] = build_defs(settings=settings)
    _WORKER["instance"] = dg.DagsterInstance.get()
    _WORKER["ledger"] = Ledger(settings.resolve(), force=force) if ledger_wanted else None


def _run_in_worker(day: date, ingest_key: str | None, force: bool) -> RunOutcome:
    ledger = _WORKER["ledger"]
    if ledger is not None and ingest_key is not None:
        # The caller's key chain, so both processes agree on the day's inputs even where an
        # earlier day of the chain failed (and was never recorded).
        ledger.adopt_ingest_key(day, ingest_key)
    return run_analytics(_WORKER["defs"], day, _WORKER["instance"], ledger, force=force)


class BackgroundAnalytics:
    """Analytics days in one worker process, in submission order.

    The worker starts with the first submitted day and loads the definitions and the instance
    once (from the same settings overrides and DAGSTER_HOME); its few seconds of imports overlap
    the caller's next span.
    """

    def __init__(self, overrides: dict, ledger: Ledger | None, *, force: bool = False) -> None:
        self.ledger = ledger
        # spawn: the caller is multi-threaded (Dagster, the progress bar), so no fork.
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(overrides, ledger is not None, force),
        )
        self._pending: deque[tuple[date, Future]] = deque()

    def submit(self, day: date, *, force: bool = False) -> None:
        key = self.ledger.ingest_key(day) if self.ledger is not None else None
        self._pending.append((day, self._pool.submit(_run_in_worker, day, key, force)))

    def _collect(self, wait: bool) -> list[RunOutcome]:
        done = []
        while self._pending and (wait or self._pending[0][1].done()):
            day, future = self._pending.popleft()
            try:
                done.append(future.result())
            except Exception as exc:  # the worker itself failed (not a run: those are outcomes)
                done.append(
                    RunOutcome(day, "analytics", False, 0.0, errors=[f"analytics worker: {exc}"])
                )
        return done

    def ready(self) -> list[RunOutcome]:
        """The outcomes finished so far, in submission order (a later day waits for an earlier)."""
        return self._collect(wait=False)

    def drain(self) -> list[RunOutcome]:
        """Wait for every submitted day."""
        return self._collect(wait=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
