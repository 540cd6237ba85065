"""Run days in order in one process against the persistent Dagster instance.

A backfill is one ingest run per span of consecutive landing days (a single-run backfill) plus one
analytics run per analytics day, so Dagster's cost per run and per event is paid per span, not per
day; every run is recorded in the instance the UI reads.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from sales_pipeline.core.config import Settings
from sales_pipeline.jobs import ANALYTICS_JOB, INGEST_JOB

# Step stdout/stderr capture spawns `tail` processes per step and costs ~0.2 s per run; our assets
# log through context.log (kept in the event log), so capture is switched off for this instance.
_INSTANCE_YAML = """telemetry:
  enabled: false
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunOutcome:
    day: date
    phase: str  # ingest | analytics
    success: bool
    seconds: float
    run_id: str | None = None
    errors: list[str] = field(default_factory=list)


def ensure_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME defaults to a folder next to the warehouse, so CLI runs show up in the UI."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(_INSTANCE_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """One readable line per failed step or failed blocking check (the day, file, reason)."""
    messages: list[str] = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                detail = evaluation.description or ""
                messages.append(
                    f"check {evaluation.asset_key.to_user_string()}.{evaluation.check_name} failed"
                    + (f": {detail}" if detail else "")
                )
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error is not None and error.cause is not None:
                error = error.cause  # the user error, not Dagster's wrapper around it
            text = error.message.strip() if error else "step failed"
            if "blocking asset check" in text and messages:
                continue  # already reported through the check evaluations above
            messages.append(f"{event.step_key}: {text.splitlines()[0] if text else 'failed'}")
    return messages


def run_job(
    defs: dg.Definitions,
    job_name: str,
    first: date,
    instance: dg.DagsterInstance,
    last: date | None = None,
) -> RunOutcome:
    """One run of `job_name` for day `first`, or for the days first..last as one run."""
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    if last is None or last == first:
        result = job.execute_in_process(
            partition_key=first.isoformat(),
            instance=instance,
            raise_on_error=False,
            run_config=_QUIET,
        )
    else:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=_QUIET,
            tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
        )
    phase = "ingest" if job_name == INGEST_JOB else "analytics"
    errors = [] if result.success else failure_messages(result) or ["run failed"]
    return RunOutcome(
        first, phase, result.success, time.perf_counter() - started, result.run_id, errors
    )


RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
_FAILED_DAY = re.compile(r"landing day (\d{4}-\d{2}-\d{2}) failed inside a multi-day run")


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
    outcome = run_job(defs, INGEST_JOB, days[0], instance, last=days[-1])
    if outcome.success or len(days) == 1:
        share = outcome.seconds / len(days)
        return [
            RunOutcome(d, "ingest", outcome.success, share, outcome.run_id, outcome.errors)
            for d in days
        ]
    found = next((m.group(1) for e in outcome.errors if (m := _FAILED_DAY.search(e))), None)
    if found is None:  # not a day-level failure: run each day alone to name the culprit
        return [o for d in days for o in ingest_span(defs, [d], instance)]
    failed = date.fromisoformat(found)
    index = days.index(failed)
    return [
        *ingest_span(defs, days[:index], instance),
        *ingest_span(defs, [failed], instance),
        *ingest_span(defs, days[index + 1 :], instance),
    ]


def run_days(
    defs: dg.Definitions,
    days: Iterable[date],
    analytics_days: set[date],
    instance: dg.DagsterInstance,
    *,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Ingest the days in order, in spans that end at each analytics day; then its analytics."""
    outcomes: list[RunOutcome] = []
    span: list[date] = []
    ordered = sorted(days)
    for day in ordered:
        span.append(day)
        if day not in analytics_days and day != ordered[-1]:
            continue
        ingested = ingest_span(defs, span, instance)
        span = []
        for outcome in ingested:
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
        if day in analytics_days and ingested[-1].success:
            # A blocked day gets no analytics; later days still run.
            outcome = run_job(defs, ANALYTICS_JOB, day, instance)
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    return outcomes
