"""Run days in order in one process against the persistent Dagster instance.

A backfill is one ingest run per span of consecutive landing days (a single-run backfill) plus one
analytics run per analytics day, so Dagster's cost per run and per event is paid per span, not per
day; every run is recorded in the instance the UI reads. Only public Dagster APIs: the failed day
of a span comes from the `RangeDayFailed` metadata, failures from `ExecuteInProcessResult`'s
helpers, and runs a killed process left `STARTED` (or `NOT_STARTED`) are failed on the next start.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from sales_pipeline.core.config import Settings
from sales_pipeline.jobs import (
    ANALYTICS_JOB,
    BACKFILL_CONCURRENCY_TAG,
    BACKFILL_RUN_LIMIT,
    INGEST_JOB,
    PARTITION_CONCURRENCY_TAG,
)
from sales_pipeline.resume import Ledger

if TYPE_CHECKING:
    from sales_pipeline.analytics_lane import BackgroundAnalytics, InlineAnalytics

# The instance every entry point shares (CLI, `sales-pipeline ui`, `dagster dev`, the daemon).
# The run queue allows one run per partition at a time (runs carry PARTITION_CONCURRENCY_TAG,
# see jobs.py), so the nightly schedule, the landing sensor and a UI backfill of the same day
# queue behind each other instead of writing the same partition concurrently. Run monitoring
# lets the daemon fail UI-launched runs whose worker died. deploy/*/dagster.yaml and the Helm
# values carry the same queue (tests/unit/test_deploy_config.py compares them).
INSTANCE_YAML = f"""telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 4
  tag_concurrency_limits:
    - key: "{PARTITION_CONCURRENCY_TAG}"
      value:
        applyLimitPerUniqueValue: true
      limit: 1
    - key: "{BACKFILL_CONCURRENCY_TAG}"
      value:
        applyLimitPerUniqueValue: true
      limit: {BACKFILL_RUN_LIMIT}
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 60
"""
# A table every analytics day writes: its partitions are the analytics days already built.
MARKER_TABLE = "kpi_summary"
# What this project wrote before the run queue existed; replaced on the next start.
_OLD_INSTANCE_YAMLS = ("compute_logs:\n  module: dagster._core.storage.noop_compute_log_manager",)
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

# Dagster's documented run tags for running a partition range as one run (the single-run
# backfill): execute_in_process takes a range only through them.
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# Dagster's switch (read when a run is created, see EventLogStorage.
# supports_partition_subset_in_asset_materialization_planned_events) for one "planned" event per
# asset of a single-run backfill instead of one per asset and partition: a month's span plans 13
# events instead of 403, about 3-4 s of SQLite writes per month. What it gives up, partitions of
# a failed range run marked failed, the runner does not need: a failed span is always rerun day
# by day, and a single-day run still plans (and so fails) its own partition.
PLANNED_SUBSET_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
# Which process runs a CLI run, so a later start can tell an orphan from a live run.
PID_TAG = "sales_pipeline/pid"
HOST_TAG = "sales_pipeline/host"
_IN_FLIGHT = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
# `execute_in_process` records a run NOT_STARTED before its RUN_START event: a CLI killed in
# between leaves it so. Only runs carrying PID_TAG count: anyone else's NOT_STARTED run may be
# waiting for its launch.
_CREATED = dg.DagsterRunStatus.NOT_STARTED


@dataclass
class RunOutcome:
    day: date
    phase: str  # ingest | analytics
    success: bool
    seconds: float
    run_id: str | None = None
    errors: list[str] = field(default_factory=list)
    # The days a multi-day ingest run could not ingest (each then runs alone).
    failed_days: list[date] = field(default_factory=list)
    wrote_audit: bool = False  # this run (not an earlier one) wrote the day's ingest_audit
    skipped: bool = False  # materialised by an earlier run from the same inputs (resume)


def ensure_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME defaults to a folder next to the warehouse, so CLI runs show up in the UI."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or any(
        old in config.read_text(encoding="utf-8") for old in _OLD_INSTANCE_YAMLS
    ):
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != os.getpid()  # a run of this very process cannot be in flight at start


def _run_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The process executing a run: our tag for CLI runs, else the RUN_START event's pid."""
    if run.tags.get(PID_TAG, "").isdigit():
        if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            return -1  # another machine's run: not ours to judge
        return int(run.tags[PID_TAG])
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1
    ).records
    event = records[0].event_log_entry.dagster_event if records else None
    return event.pid if event is not None and event.pid else None


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark runs left STARTED/STARTING by a killed process (SIGKILL, OOM) as failed, and CLI
    runs it left NOT_STARTED (killed between creating the run and starting it).

    A run counts as orphaned when no live process on this machine executes it: its recorded
    pid is gone, or no pid was ever recorded. Runs of another host are left alone (the
    daemon's run monitoring, enabled in INSTANCE_YAML, handles UI-launched ones).
    """
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[*_IN_FLIGHT, _CREATED])):
        if run.status == _CREATED and PID_TAG not in run.tags:
            continue
        pid = _run_pid(instance, run)
        if pid == -1 or (pid is not None and _process_alive(pid)):
            continue
        instance.report_run_failed(
            run,
            f"marked failed by sales-pipeline at start: the process that ran it "
            f"({'pid ' + str(pid) if pid else 'unknown pid'}) is gone (killed or crashed)",
        )
        failed.append(run.run_id)
    return failed


def _user_failure(event: dg.DagsterEvent):
    data = event.step_failure_data
    return data.user_failure_data if data is not None else None


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """One readable line per problem: each blocked file once (file, reason code, detail), or
    the step's own error when no blocking check explains it."""
    messages: list[str] = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        detail = (evaluation.description or "").strip()
        if detail:
            messages += [line for line in detail.split("\n") if line.strip()]
        else:
            messages.append(
                f"check {evaluation.asset_key.to_user_string()}.{evaluation.check_name} failed"
            )
    for event in result.get_step_failure_events():
        user = _user_failure(event)
        if user is not None and user.description:
            if all(line in messages for line in user.description.split("\n")[1:]) and messages:
                continue  # a blocked day: its files are already listed from the check above
            text = user.description
        else:
            error = event.step_failure_data.error if event.step_failure_data else None
            while error is not None and error.cause is not None:
                error = error.cause  # the user error, not Dagster's wrapper around it
            text = error.message.strip() if error and error.message else "step failed"
            if messages and "blocking" in text and "check" in text:
                continue  # already reported through the check evaluations above
            text = text.splitlines()[0] if text else "failed"
        messages.append(f"{event.step_key}: {text}")
    return list(dict.fromkeys(messages))


def failed_days(result: dg.ExecuteInProcessResult) -> list[date]:
    """The landing days a multi-day ingest run could not ingest (`RangeDayFailed` metadata)."""
    for event in result.get_step_failure_events():
        user = _user_failure(event)
        value = user.metadata.get("failed_days") if user is not None else None
        if value is not None:
            return [date.fromisoformat(d) for d in getattr(value, "value", value)]
    return []


@contextmanager
def _planned_per_asset():
    before = os.environ.get(PLANNED_SUBSET_ENV)
    os.environ[PLANNED_SUBSET_ENV] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PLANNED_SUBSET_ENV, None)
        else:
            os.environ[PLANNED_SUBSET_ENV] = before


def run_job(
    defs: dg.Definitions,
    job_name: str,
    first: date,
    instance: dg.DagsterInstance,
    last: date | None = None,
) -> tuple[RunOutcome, set[str]]:
    """One run of `job_name` for day `first`, or for the days first..last as one run; also the
    partitions of `ingest_audit` the run wrote."""
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    if last is None or last == first:
        result = job.execute_in_process(
            partition_key=first.isoformat(),
            instance=instance,
            raise_on_error=False,
            run_config=_QUIET,
            tags=tags,
        )
    else:
        tags.update({RANGE_START: first.isoformat(), RANGE_END: last.isoformat()})
        with _planned_per_asset():
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config=_QUIET, tags=tags
            )
    phase = "ingest" if job_name == INGEST_JOB else "analytics"
    errors = [] if result.success else failure_messages(result) or ["run failed"]
    audits = {
        event.partition
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("ingest_audit")
    }
    return RunOutcome(
        first,
        phase,
        result.success,
        time.perf_counter() - started,
        result.run_id,
        errors,
        [] if result.success else failed_days(result),
        first.isoformat() in audits,
    ), audits


def ingest_span(
    defs: dg.Definitions, days: list[date], instance: dg.DagsterInstance
) -> list[RunOutcome]:
    """Ingest consecutive days as one run; a day that fails is split out and run on its own.

    One run per span keeps Dagster's cost per run and per event from dominating a backfill of
    small daily deltas. A blocked day must be a run of its own: only there can its entity be
    withheld and the failure recorded against that partition.
    """
    if not days:
        return []
    outcome, audits = run_job(defs, INGEST_JOB, days[0], instance, last=days[-1])
    if outcome.success or len(days) == 1:
        share = outcome.seconds / len(days)
        return [
            RunOutcome(
                d,
                "ingest",
                outcome.success,
                share,
                outcome.run_id,
                outcome.errors,
                wrote_audit=d.isoformat() in audits,
            )
            for d in days
        ]
    failed = [d for d in outcome.failed_days if d in days]
    if not failed:
        # Not a day-level failure: run each day alone to name the culprit.
        return [o for d in days for o in ingest_span(defs, [d], instance)]
    # Each failing day alone, the days between them as spans (which the failed run showed to
    # be ingestible given what the failing days' own runs write).
    outcomes: list[RunOutcome] = []
    start = 0
    for day in failed:
        index = days.index(day)
        outcomes += ingest_span(defs, days[start:index], instance)
        outcomes += ingest_span(defs, [day], instance)
        start = index + 1
    return outcomes + ingest_span(defs, days[start:], instance)


def ingest_pending(
    defs: dg.Definitions, days: list[date], instance: dg.DagsterInstance, ledger: Ledger | None
) -> list[RunOutcome]:
    """Ingest the days the ledger does not know as done, in runs of consecutive days."""
    outcomes: list[RunOutcome] = []
    pending: list[date] = []
    for day in [*days, None]:
        if day is not None and (ledger is None or not ledger.done("ingest", day)):
            pending.append(day)
            continue
        for outcome in ingest_span(defs, pending, instance):
            outcomes.append(outcome)
            if outcome.success and ledger is not None:
                ledger.record("ingest", outcome.day)
        pending = []
        if day is not None:
            outcomes.append(RunOutcome(day, "ingest", True, 0.0, skipped=True))
    return outcomes


def run_analytics(
    defs: dg.Definitions,
    day: date,
    instance: dg.DagsterInstance,
    ledger: Ledger | None,
    *,
    force: bool = False,
) -> RunOutcome:
    """The analytics of one day; skipped when the ledger knows it as done, unless `force`."""
    if not force and ledger is not None and ledger.done("analytics", day):
        return RunOutcome(day, "analytics", True, 0.0, skipped=True)
    outcome, _ = run_job(defs, ANALYTICS_JOB, day, instance)
    if outcome.success and ledger is not None:
        ledger.record("analytics", day)
    return outcome


def built_analytics_days(warehouse_root: Path) -> list[date]:
    """The analytics days already in the warehouse (every analytics day writes kpi_summary)."""
    from sales_pipeline.core import warehouse

    return [date.fromisoformat(d) for d in warehouse.list_partitions(warehouse_root, MARKER_TABLE)]


def run_days(
    defs: dg.Definitions,
    days: Iterable[date],
    analytics_days: set[date],
    instance: dg.DagsterInstance,
    *,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    ledger: Ledger | None = None,
    rerun_downstream: list[date] | None = None,
    lane: InlineAnalytics | BackgroundAnalytics | None = None,
) -> list[RunOutcome]:
    """Ingest the days in order, in spans that end at each analytics day; then its analytics.

    With a ledger, days (and analytics days) already materialised from the same inputs are
    skipped (see `resume.py`). `rerun_downstream` (the analytics days already built): once a day
    of the range was really re-ingested (not skipped), the built analytics days from it on are
    stale (their state includes its records), so they are rebuilt too, in date order (each
    day's state advances from the one before it): those within the range as they come, the
    later ones after the range, whatever the ledger says (its key of a later day does not see
    an earlier re-ingest).

    `lane` (see `analytics_lane.py`) is where analytics days are built: in this process as they
    come (the default), or in a worker process while the next span ingests. Outcomes are
    reported as they finish, ingest days in order and analytics days in order.
    """
    from sales_pipeline.analytics_lane import InlineAnalytics

    lane = lane or InlineAnalytics(defs, instance, ledger)
    fail_orphaned_runs(instance)
    outcomes: list[RunOutcome] = []

    def report(done: list[RunOutcome]) -> None:
        for outcome in done:
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)

    span: list[date] = []
    ordered = sorted(days)
    if rerun_downstream and ordered:
        # Within the range a re-ingest changes the ledger keys of the days after it, so the
        # ledger itself tells a stale built day from an unchanged one.
        analytics_days = analytics_days | {d for d in rerun_downstream if d in set(ordered)}
    for day in ordered:
        span.append(day)
        if day not in analytics_days and day != ordered[-1]:
            continue
        ingested = ingest_pending(defs, span, instance, ledger)
        span = []
        report(ingested)
        if day in analytics_days and ingested[-1].success:
            # A blocked day gets no analytics; later days still run.
            lane.submit(day)
        report(lane.ready())
    reingested = [o.day for o in outcomes if o.phase == "ingest" and o.success and not o.skipped]
    if rerun_downstream and reingested:
        for day in sorted(d for d in rerun_downstream if ordered and d > ordered[-1]):
            lane.submit(day, force=True)
    report(lane.drain())
    return outcomes
