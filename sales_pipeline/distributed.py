"""The same definitions with every job's steps executed on Celery workers (`dagster-celery`).

A second code location, not a change to the default one: point a workspace, `dagster dev -m`
or a Helm user code deployment at `sales_pipeline.distributed` to run steps on workers, keep
`sales_pipeline.definitions` for the default executor. The broker and result backend URLs come
from the environment (never from a file), the same variables the workers read through
`deploy/celery/celery.yaml`. Workers import the code by this module path, so they need the
project installed and the same settings environment (landing, warehouse, PII key) as the
webserver and daemon, and a shared warehouse and persistent instance (PostgreSQL).

`dagster_celery` is imported when Dagster loads this location, never on the default path
(`pip install .` without the `deploy` extra does not have it).
"""

from __future__ import annotations

import dagster as dg

from sales_pipeline.definitions import build_defs

BROKER_ENV = "SALES_PIPELINE_CELERY_BROKER"
BACKEND_ENV = "SALES_PIPELINE_CELERY_BACKEND"
# Ack a step's message only once it ran, so a worker that dies requeues its step instead of
# losing it; with one message prefetched per worker, idle workers pick up parallel steps.
CELERY_CONFIG_SOURCE = {"task_acks_late": True, "worker_prefetch_multiplier": 1}


def celery_executor() -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor as executor

    return executor.configured(
        {
            "broker": {"env": BROKER_ENV},
            "backend": {"env": BACKEND_ENV},
            "config_source": CELERY_CONFIG_SOURCE,
        },
        name="celery",
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs(executor=celery_executor())
