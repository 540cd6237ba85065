"""Run days in order in one process against the persistent Dagster instance.

A backfill is one ingest run per landing day plus one analytics run per analytics day, so the
framework's per-run cost is paid once per day, not once per asset, and every run is recorded in
the instance the UI reads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from sales_pipeline.config import Settings
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
    defs: dg.Definitions, job_name: str, day: date, instance: dg.DagsterInstance
) -> RunOutcome:
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        partition_key=day.isoformat(), instance=instance, raise_on_error=False, run_config=_QUIET
    )
    phase = "ingest" if job_name == INGEST_JOB else "analytics"
    errors = [] if result.success else failure_messages(result) or ["run failed"]
    return RunOutcome(
        day, phase, result.success, time.perf_counter() - started, result.run_id, errors
    )


def run_days(
    defs: dg.Definitions,
    days: Iterable[date],
    analytics_days: set[date],
    instance: dg.DagsterInstance,
    *,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Ingest each day in order; after each analytics day's ingest, build its analytics."""
    outcomes: list[RunOutcome] = []
    for day in days:
        steps = [INGEST_JOB, ANALYTICS_JOB] if day in analytics_days else [INGEST_JOB]
        for job_name in steps:
            outcome = run_job(defs, job_name, day, instance)
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
            if not outcome.success:
                break  # a blocked day gets no analytics; later days still run
    return outcomes
