"""A sensor for new or changed landing folders.

The run key includes a hash of the folder's content, so a re-delivered folder with different
files runs again while an unchanged one never does. The cursor keeps each folder's cheap
fingerprint (names, sizes, mtimes) so content is only hashed when something changed.
"""

import hashlib
import json
import re
from pathlib import Path

import dagster as dg

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.jobs import DAILY_JOB

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def folder_fingerprint(folder: Path) -> str:
    entries = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def folder_content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def landing_requests(
    landing: Path, valid_days: set[str], cursor: dict[str, str]
) -> tuple[list[dg.RunRequest], dict[str, str]]:
    """Run requests for day folders that are new or changed since the cursor; the new cursor."""
    requests: list[dg.RunRequest] = []
    new_cursor = dict(cursor)
    if not landing.is_dir():
        return requests, new_cursor
    for folder in sorted(p for p in landing.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name)):
        if folder.name not in valid_days:
            continue
        fingerprint = folder_fingerprint(folder)
        if cursor.get(folder.name) == fingerprint:
            continue
        content = folder_content_hash(folder)
        requests.append(
            dg.RunRequest(
                run_key=f"{folder.name}:{content[:16]}",
                partition_key=folder.name,
                tags={"landing_sha256": content},
            )
        )
        new_cursor[folder.name] = fingerprint
    return requests, new_cursor


def build_sensors(partitions_def: dg.PartitionsDefinition) -> list[dg.SensorDefinition]:
    @dg.sensor(
        name="landing_folders",
        job_name=DAILY_JOB,
        minimum_interval_seconds=60,
        description="Runs the daily job for each new or changed <landing>/<YYYY-MM-DD>/ folder.",
    )
    def landing_folders(context: dg.SensorEvaluationContext, settings: PipelineSettings):
        config = settings.resolve()
        cursor = json.loads(context.cursor) if context.cursor else {}
        valid = set(partitions_def.get_partition_keys(dynamic_partitions_store=None))
        requests, new_cursor = landing_requests(config.landing, valid, cursor)
        context.update_cursor(json.dumps(new_cursor, sort_keys=True))
        if not requests:
            return dg.SkipReason(f"no new or changed landing folders in {config.landing}")
        return requests

    return [landing_folders]
