"""The whole `Definitions` as a committed, sorted snapshot, so any change to the graph shows in
review: asset keys, groups, deps, kinds, owners, tags, partitions, backfill and freshness policies,
check specs (with their blocking flag), jobs and the assets they select, schedules, sensors and
resource types.

When it fails, read the printed diff: if the change is intended, run the command it prints
(`UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_definitions_snapshot.py -q`) and commit
`tests/unit/snapshots/definitions.json` with your change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dagster as dg

from sales_pipeline.definitions import build_defs
from tests.snapshots import assert_matches_snapshot

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
KIND_TAG = "dagster/kind/"


def _resource_name(resource) -> str:
    # A resource configured at launch is a PartialResource wrapping the declared class.
    cls = getattr(resource, "resource_cls", None)
    return f"{cls.__name__} (configured at launch)" if cls else type(resource).__name__


def _text(value: object) -> str | None:
    """A stable string for a Dagster object: no memory addresses."""
    if value is None:
        return None
    return re.sub(r" at 0x[0-9a-f]+", "", str(value))


def _backfill(policy: dg.BackfillPolicy | None) -> str | None:
    if policy is None:
        return None
    size = policy.max_partitions_per_run
    return policy.policy_type.value.lower() + ("" if size is None else f" (max {size} per run)")


def _dep(dep: dg.AssetDep) -> str:
    mapping = _text(dep.partition_mapping)
    return dep.asset_key.to_user_string() + ("" if mapping is None else f" via {mapping}")


def _check(check: dg.AssetCheckSpec) -> str:
    """`name`, then `(blocking)`, extra deps and own partitions when there are any."""
    text = check.name + (" (blocking)" if check.blocking else "")
    if check.additional_deps:
        text += " +deps " + ",".join(
            sorted(d.asset_key.to_user_string() for d in check.additional_deps)
        )
    if check.partitions_def is not None:
        text += f" per partition of {_text(check.partitions_def)}"
    return text


def _freshness(policy: object) -> str | None:
    windows = [
        f"{name} after {getattr(policy, f'{name}_window').to_timedelta()}"
        for name in ("warn", "fail")
        if getattr(policy, f"{name}_window", None) is not None
    ]
    return f"{type(policy).__name__}: " + ", ".join(windows) if windows else _text(policy)


def _asset(spec: dg.AssetSpec, assets_def: dg.AssetsDefinition) -> dict[str, Any]:
    return {
        "group": spec.group_name,
        "deps": sorted(_dep(dep) for dep in spec.deps),
        "kinds": sorted(spec.kinds),
        "owners": sorted(spec.owners),
        "tags": {k: v for k, v in sorted(spec.tags.items()) if not k.startswith(KIND_TAG)},
        "partitions": _text(spec.partitions_def),
        "backfill_policy": _backfill(assets_def.backfill_policy),
        "freshness_policy": _freshness(spec.freshness_policy),
        "automation_condition": _text(spec.automation_condition),
        "skippable": spec.skippable,
        "checks": sorted(_check(c) for c in assets_def.check_specs if c.asset_key == spec.key),
    }


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """Everything a reviewer of the graph wants to see, as sorted plain data."""
    graph = defs.resolve_asset_graph()
    assets: dict[str, Any] = {}
    for assets_def in defs.assets or []:
        for spec in assets_def.specs:
            assets[spec.key.to_user_string()] = _asset(spec, assets_def)
    jobs = {}
    for job in defs.jobs or []:
        resolved = defs.resolve_job_def(job.name)
        jobs[job.name] = {
            "selection": _text(job.selection),
            "assets": sorted(k.to_user_string() for k in job.selection.resolve(graph)),
            "partitions": _text(resolved.partitions_def),
            "executor": resolved.executor_def.name,
            "tags": dict(sorted(resolved.tags.items())),
        }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "job": s.job_name,
            "default_status": s.default_status.value,
        }
        for s in (defs.resolve_schedule_def(x.name) for x in defs.schedules or [])
    }
    sensors = {
        s.name: {
            "type": type(s).__name__,
            "jobs": sorted(t.job_name for t in s.targets),
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
            "resources": sorted(s.required_resource_keys),
        }
        for s in (defs.resolve_sensor_def(x.name) for x in defs.sensors or [])
    }
    resources = {
        key: _resource_name(value) for key, value in sorted((defs.resources or {}).items())
    }
    return {
        "assets": assets,
        "standalone_asset_checks": sorted(
            key.to_user_string() for c in (defs.asset_checks or []) for key in c.check_keys
        ),
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": resources,
    }


def test_definitions_match_the_committed_snapshot() -> None:
    assert_matches_snapshot(
        describe(build_defs()), SNAPSHOT, "tests/unit/test_definitions_snapshot.py"
    )
