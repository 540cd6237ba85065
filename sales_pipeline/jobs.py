"""Jobs: ingest only (one per landing day), analytics (state + models + KPIs), and everything."""

from __future__ import annotations

import warnings

import dagster as dg

INGEST_GROUPS = ("ingest", "clean")
ANALYTICS_GROUPS = ("state", "segments", "forecasts", "churn", "kpis")

INGEST_JOB = "ingest_job"
ANALYTICS_JOB = "analytics_job"
DAILY_JOB = "daily_job"

# Dagster tags every single-partition run with its partition key under this documented tag. The
# instance's run queue (runner.INSTANCE_YAML) limits it to one run per unique value, so the
# nightly schedule, the landing sensor and UI launches never write one partition concurrently.
PARTITION_CONCURRENCY_TAG = "dagster/partition"
# Dagster tags every run a backfill launches with the backfill's id: the run queue lets one
# backfill hold at most BACKFILL_RUN_LIMIT run slots, so a long UI backfill (analytics days run
# one per day, a multi-run backfill) leaves room for the nightly run and the sensor.
BACKFILL_CONCURRENCY_TAG = "dagster/backfill"
BACKFILL_RUN_LIMIT = 2


def build_jobs() -> list[dg.UnresolvedAssetJobDefinition]:
    """Partitioning is inferred from the selected assets (all daily)."""
    # daily_job mixes the ingest's single-run backfill policy with one-day analytics; Dagster then
    # backfills it a day per run, which is what a day-by-day job wants. The warning says only that.
    warnings.filterwarnings(
        "ignore", message=f"Asset job {DAILY_JOB} materializes assets with varying BackfillPolicies"
    )
    return [
        dg.define_asset_job(
            INGEST_JOB,
            selection=dg.AssetSelection.groups(*INGEST_GROUPS),
            description="Ingest one landing day: clean tables, quarantine, audit.",
        ),
        dg.define_asset_job(
            ANALYTICS_JOB,
            selection=dg.AssetSelection.groups(*ANALYTICS_GROUPS),
            description="State as of the day, models and KPIs (the day must be ingested and not blocked).",
        ),
        dg.define_asset_job(
            DAILY_JOB,
            selection=dg.AssetSelection.all(),
            description="Everything for one day: ingest, then state, models and KPIs.",
        ),
    ]
