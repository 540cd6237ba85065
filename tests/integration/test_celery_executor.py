"""A partition of the daily job on Dagster's Celery executor, with two local worker processes.

The workers are started the documented way (`dagster-celery worker start` with
deploy/celery/celery.yaml) on a Redis database of their own, load the code location
`sales_pipeline.distributed` by module path, and share the test's persistent instance
(DAGSTER_HOME) and warehouse folder, as workers on several machines share PostgreSQL and a
mounted or object-store warehouse.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository

from crm_generator import generate
from sales_pipeline.core import warehouse
from sales_pipeline.distributed import BACKEND_ENV, BROKER_ENV
from tests.integration.services import DEPLOY, redis_url

pytestmark = [
    pytest.mark.slow,
    # dagster-celery registers its step task again for every step it submits; celery says so.
    pytest.mark.filterwarnings("ignore:Task name 'execute_plan' is already registered"),
]

DAY = date(2024, 1, 1)
WORKERS = ("sp-worker-1", "sp-worker-2")
# The daily job without its slowest models (forecasts, churn, propensity, alerts): ingest, state,
# segments + CLV side by side, then the KPIs, which is enough to see steps spread over workers.
GROUPS = ("ingest", "clean", "state", "segments")
EXTRA = ("kpi_summary", "kpi_funnel", "campaign_roi")


def _start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(DEPLOY / "celery" / "celery.yaml"),
        "-n",
        name,
        # Import the code at start, not on the first step (and fail at start when it is missing).
        "-i",
        "sales_pipeline.distributed",
        "--loglevel",
        "WARNING",
        "--",
        "--pool",
        "solo",
    ]
    handle = log.open("wb")
    # Own session: the worker CLI runs `celery` as a child; stopping the group stops both.
    return subprocess.Popen(
        command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_workers(url: str, names: tuple[str, ...], processes, logs, timeout=90.0) -> None:
    from celery import Celery

    app = Celery(broker=url, backend=url)
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                pytest.fail(f"a celery worker exited ({process.returncode}):\n{log.read_text()}")
        replies = app.control.ping(timeout=1.0) or []
        seen = {name.split("@")[0] for reply in replies for name in reply}
        if set(names) <= seen:
            return
        time.sleep(0.5)
    pytest.fail(f"celery workers not ready after {timeout}s (saw {sorted(seen)})")


def _timeline(records) -> list[str]:
    """Per step: queued -> picked up by a worker -> started -> done, seconds from the run start."""
    marks: dict[str, dict[str, float]] = {}
    start = min(r.event_log_entry.timestamp for r in records)
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        kind = event.event_type
        mark = (
            "picked"
            if kind == dg.DagsterEventType.ENGINE_EVENT
            and "Celery worker" in event.engine_event_data.metadata
            else {
                dg.DagsterEventType.STEP_START: "start",
                dg.DagsterEventType.STEP_SUCCESS: "done",
            }.get(kind)
        )
        if mark:
            marks.setdefault(event.step_key, {}).setdefault(mark, entry.timestamp - start)
    return [
        f"  {step:<10} "
        + " ".join(f"{k}={v:5.1f}" for k, v in sorted(m.items(), key=lambda i: i[1]))
        for step, m in sorted(marks.items(), key=lambda i: min(i[1].values()))
    ]


def test_daily_partition_runs_on_two_celery_workers(tmp_path, monkeypatch):
    import redis

    url = redis_url()
    broker = redis.Redis.from_url(url)
    broker.flushdb()  # our own database number: stale tasks of an aborted run would poison it
    landing, root = tmp_path / "landing", tmp_path / "warehouse"
    generate(landing, days=1, accounts=30, fmt="canonical", seed=0, start=DAY)
    for key, value in {
        "SALES_PIPELINE_LANDING": str(landing),
        "SALES_PIPELINE_WAREHOUSE": str(root),
        "SALES_PIPELINE_PII_KEY": "test-only-key",
        "SALES_PIPELINE_MAX_QUARANTINE": "0.5",
        BROKER_ENV: url,
        BACKEND_ENV: url,
    }.items():
        monkeypatch.setenv(key, value)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    logs = [tmp_path / f"{name}.log" for name in WORKERS]
    processes = []
    started = time.perf_counter()
    # Create the instance's storage before two workers race to create it.
    dg.DagsterInstance.get().dispose()
    try:
        for name, log in zip(WORKERS, logs, strict=True):
            processes.append(_start_worker(name, env, log))
        _wait_for_workers(url, WORKERS, processes, logs)
        ready = time.perf_counter() - started
        repo = ReconstructableRepository.for_module("sales_pipeline.distributed", "defs")
        job = repo.get_reconstructable_job("daily_job")
        defs_repo = repo.get_definition()
        keys = [
            key
            for key in defs_repo.asset_graph.get_all_asset_keys()
            if defs_repo.asset_graph.get(key).group_name in GROUPS or key.path[-1] in EXTRA
        ]
        with dg.DagsterInstance.get() as instance:
            with dg.execute_job(
                job,
                instance=instance,
                tags={"dagster/partition": DAY.isoformat()},
                asset_selection=keys,
                raise_on_error=False,
            ) as result:
                events = list(result.all_events)
                assert result.success, "\n".join(log.read_text() for log in logs)
                run_id = result.run_id
            records = instance.get_records_for_run(run_id, limit=10_000).records
        ran = time.perf_counter() - started
    finally:
        for process in processes:
            _stop(process)
        broker.flushdb()
        broker.close()
    print(f"workers ready in {ready:.1f}s, run done at {ran:.1f}s")
    for line in _timeline(records):
        print(line)

    # Every step ran inside a worker: the celery task reports its worker's hostname...
    delegated = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None or event.event_type != dg.DagsterEventType.ENGINE_EVENT:
            continue
        worker = event.engine_event_data.metadata.get("Celery worker")
        if worker is not None:
            delegated[event.step_key] = worker.value
    steps = {e.step_key for e in events if e.event_type == dg.DagsterEventType.STEP_SUCCESS}
    assert steps >= {"ingest", "state", "segments", "clv", "kpis"}
    assert set(delegated) == steps
    assert {worker.split("@")[0] for worker in delegated.values()} == set(WORKERS), delegated
    # ...and the step events come from worker processes, not from this one.
    pids = {
        e.pid
        for e in events
        if e.event_type == dg.DagsterEventType.STEP_SUCCESS and e.pid is not None
    }
    assert len(pids) == 2 and os.getpid() not in pids, pids
    assert all(w.endswith(socket.gethostname()) for w in delegated.values())
    for table in ("orders", "ingest_audit", "opportunity_history", "customer_segments"):
        assert warehouse.has_partition(root, table, DAY), table
    assert not warehouse.read_partition(root, "kpi_summary", DAY).empty
