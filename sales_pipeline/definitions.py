"""The one `dg.Definitions` of the project, built by a factory that accepts overrides.

`defs` is lazy (`@dg.definitions`), so importing this module does no I/O: the settings (start
date and time zone of the partitions) are read when Dagster loads the code location.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from assets import build_assets
from sales_pipeline.core.io_manager import ParquetIOManager
from sales_pipeline.core.partitions import daily_partitions
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from sales_pipeline.jobs import build_jobs
from sales_pipeline.schedules import build_schedules
from sales_pipeline.sensors import build_sensors


def build_defs(
    *,
    settings: PipelineSettings | None = None,
    resource_overrides: Mapping[str, Any] | None = None,
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """The project's definitions; `executor` replaces Dagster's default (multiprocess, or in
    process for `execute_in_process`) for every job, e.g. Celery in `sales_pipeline.distributed`."""
    resources: dict[str, Any] = dict(resource_overrides or {})
    settings = resources.pop("settings", None) or settings or PipelineSettings()
    # Bound to the "settings" key (not a copy): the warehouse, the IO manager and every asset
    # share the run's one settings instance, so run config moves reads and writes together.
    shared = PipelineSettings.configure_at_launch(**settings.model_dump(exclude_none=True))
    resources["settings"] = shared
    resources.setdefault("warehouse", Warehouse(settings=shared))
    resources.setdefault("io_manager", ParquetIOManager(warehouse=resources["warehouse"]))
    partitions = daily_partitions(settings.resolve())
    jobs = build_jobs()
    return dg.Definitions(
        assets=build_assets(partitions),
        jobs=jobs,
        schedules=build_schedules(jobs, partitions),
        sensors=build_sensors(partitions, jobs),
        resources=resources,
        executor=executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
