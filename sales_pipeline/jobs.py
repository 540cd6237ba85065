"""Jobs: ingest only (one per landing day), analytics (state + models + KPIs), and everything."""

from __future__ import annotations

import dagster as dg

INGEST_GROUPS = ("ingest", "clean")
ANALYTICS_GROUPS = ("state", "segments", "forecasts", "churn", "kpis")

INGEST_JOB = "ingest_job"
ANALYTICS_JOB = "analytics_job"
DAILY_JOB = "daily_job"


def build_jobs(partitions_def: dg.PartitionsDefinition) -> list[dg.UnresolvedAssetJobDefinition]:
    return [
        dg.define_asset_job(
            INGEST_JOB,
            selection=dg.AssetSelection.groups(*INGEST_GROUPS),
            partitions_def=partitions_def,
            description="Ingest one landing day: clean tables, quarantine, audit.",
        ),
        dg.define_asset_job(
            ANALYTICS_JOB,
            selection=dg.AssetSelection.groups(*ANALYTICS_GROUPS),
            partitions_def=partitions_def,
            description="State as of the day, models and KPIs (the day must be ingested and not blocked).",
        ),
        dg.define_asset_job(
            DAILY_JOB,
            selection=dg.AssetSelection.all(),
            partitions_def=partitions_def,
            description="Everything for one day: ingest, then state, models and KPIs.",
        ),
    ]
