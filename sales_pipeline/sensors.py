"""The landing sensor: one daily-job run per complete, new or changed landing folder.

A folder is complete when it holds a `_SUCCESS` marker (written last by the exporter) or when
nothing in it changed for `QUIET_SECONDS` (a half-copied folder waits). Each change of a folder
gets the next sequence number in the cursor, and the run key is `<day>:<sequence>:<content hash>`,
so a folder that goes back to an earlier content runs again (keys are never reused) while an
unchanged one never reruns. A re-delivery of day D also requests the analytics job for every
analytics day after D already in the warehouse: their state now includes D's corrected records.
Ordering and concurrency come from the run queue (see jobs.py and runner.INSTANCE_YAML).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import dagster as dg

from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.jobs import ANALYTICS_JOB, DAILY_JOB
from schemas.ingest import READY_MARKER

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
QUIET_SECONDS = 120
# A table every analytics day writes: its partitions are the analytics days already built.
ANALYTICS_MARKER_TABLE = "kpi_summary"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != READY_MARKER)


def folder_fingerprint(folder: Path) -> str:
    entries = [
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in _files(folder)
    ]
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def folder_content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in _files(folder):
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def folder_ready(folder: Path, now: float, quiet_seconds: float = QUIET_SECONDS) -> bool:
    """Complete: the exporter's `_SUCCESS` marker, or no file changed for `quiet_seconds`."""
    if (folder / READY_MARKER).is_file():
        return True
    files = _files(folder)
    if not files:
        return False
    return now - max(p.stat().st_mtime for p in files) >= quiet_seconds


def landing_requests(
    landing: Path,
    valid_days: set[str],
    cursor: dict,
    *,
    now: float | None = None,
    analytics_days: list[str] | None = None,
) -> tuple[list[dg.RunRequest], dict]:
    """Run requests for complete folders that are new or changed since the cursor; new cursor.

    The cursor maps each day to `{"fp": fingerprint, "seq": n, "sha": content hash}`.
    """
    now = time.time() if now is None else now
    requests: list[dg.RunRequest] = []
    new_cursor = dict(cursor)
    if not landing.is_dir():
        return requests, new_cursor
    folders = sorted(p for p in landing.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name))
    for folder in folders:
        day = folder.name
        seen = cursor.get(day) if isinstance(cursor.get(day), dict) else {}
        if day not in valid_days or not folder_ready(folder, now):
            continue
        fingerprint = folder_fingerprint(folder)
        if seen.get("fp") == fingerprint:
            continue
        content = folder_content_hash(folder)
        if seen.get("sha") == content:  # touched, same bytes: nothing to redo
            new_cursor[day] = {**seen, "fp": fingerprint}
            continue
        sequence = int(seen.get("seq", 0)) + 1
        requests.append(
            dg.RunRequest(
                run_key=f"{day}:{sequence}:{content[:16]}",
                job_name=DAILY_JOB,
                partition_key=day,
                tags={"landing_sha256": content[:63], "landing_sequence": str(sequence)},
            )
        )
        if seen:  # a re-delivery: analytics days after it are stale
            requests += [
                dg.RunRequest(
                    run_key=f"{later}:after:{day}:{sequence}:{content[:16]}",
                    job_name=ANALYTICS_JOB,
                    partition_key=later,
                    tags={"stale_after": day},
                )
                for later in analytics_days or []
                if later > day and later in valid_days
            ]
        new_cursor[day] = {"fp": fingerprint, "seq": sequence, "sha": content}
    return requests, new_cursor


def build_sensors(
    partitions_def: dg.PartitionsDefinition, jobs: list[dg.UnresolvedAssetJobDefinition]
) -> list[dg.SensorDefinition]:
    @dg.sensor(
        name="landing_folders",
        jobs=[j for j in jobs if j.name in (DAILY_JOB, ANALYTICS_JOB)],
        minimum_interval_seconds=60,
        description=(
            "Runs the daily job for each complete (_SUCCESS marker or 2 minutes quiet), new or "
            "changed <landing>/<YYYY-MM-DD>/ folder; a re-delivered day also reruns the "
            "analytics days after it."
        ),
    )
    def landing_folders(context: dg.SensorEvaluationContext, settings: PipelineSettings):
        config = settings.resolve()
        try:
            cursor = json.loads(context.cursor) if context.cursor else {}
        except json.JSONDecodeError:
            cursor = {}
        valid = set(partitions_def.get_partition_keys())
        built = warehouse.list_partitions(config.warehouse, ANALYTICS_MARKER_TABLE)
        requests, new_cursor = landing_requests(config.landing, valid, cursor, analytics_days=built)
        context.update_cursor(json.dumps(new_cursor, sort_keys=True))
        if not requests:
            return dg.SkipReason(
                f"no new, changed and complete landing folders in {config.landing}"
            )
        return requests

    return [landing_folders]
