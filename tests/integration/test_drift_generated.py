"""Planted schema drift on a generated zone: every planted drift is found, and nothing else.

Days are ingested one at a time through the ingest asset's own function and written to the
warehouse, so each day's baselines are read back from `schema_profile` partitions.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from assets.drift.compare import LANDING_DAY, compare_profiles
from assets.drift.profile import profile_file
from assets.ingest import readers
from assets.ingest.assets import ingest_days
from assets.ingest.presets import detect_entity
from crm_generator import generate
from crm_generator.drift import PLANS
from sales_pipeline.core import warehouse
from sales_pipeline.core.config import load_settings
from sales_pipeline.core.resources import Warehouse
from schemas import ENTITIES
from schemas.drift import DRIFT_KINDS, SCHEMA_PROFILE

START, DAYS = date(2024, 1, 1), 12
pytestmark = pytest.mark.slow


def _ingest(tmp_path):
    landing, root = tmp_path / "landing", tmp_path / "warehouse"
    manifest = generate(
        landing, days=DAYS, accounts=60, seed=3, start=START, dirty=False, drift=True
    )
    config = load_settings({"landing": str(landing), "warehouse": str(root)}, environ={})
    results = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        [result] = ingest_days(config, Warehouse.at(root), [day])
        for entity in ENTITIES:
            if entity in result.clean and entity not in result.blocked:
                warehouse.write_partition(root, entity, day, result.clean[entity])
        for table, frame in (
            ("quarantine", result.quarantine),
            ("ingest_audit", result.audit),
            ("schema_profile", result.profiles),
            ("schema_drift", result.drift),
        ):
            warehouse.write_partition(root, table, day, frame)
        results.append(result)
    return manifest, results, root


def _found(results) -> set[tuple]:
    drift = pd.concat([r.drift for r in results], ignore_index=True)
    return set(zip(drift["source_file"], drift["drift_kind"], drift["column"], strict=True))


def test_every_planted_drift_is_found_and_nothing_else(tmp_path):
    manifest, results, root = _ingest(tmp_path)
    planted = {(d["source_file"], d["drift_kind"], d["column"]) for d in manifest.drift}
    assert {k for _f, k, _c in planted} == set(DRIFT_KINDS)  # each kind is planted
    assert len({(p.kind, p.entity, p.tag) for p in PLANS}) <= len(planted)
    assert _found(results) == planted
    renames = {d["column"]: d["previous_column"] for d in manifest.drift if d["previous_column"]}
    drift = warehouse.read_window(root, "schema_drift")
    stored = drift[drift["drift_kind"] == "renamed_column"]
    assert dict(zip(stored["column"], stored["previous_column"], strict=True)) == renames
    assert not drift["blocking"].any()  # warnings only by default
    profiles = warehouse.read_window(root, "schema_profile")
    assert profiles["source_file"].nunique() == sum(len(r.audit) for r in results)


@pytest.mark.parametrize("fmt", ["canonical", "hubspot"])
def test_a_zone_without_planted_drift_has_none(tmp_path, fmt):
    """The benign variety of clean exports (date, number and boolean styles, sizes) is no drift.

    Profiles are taken from the raw files directly (the function ingest calls), without cleaning.
    """
    landing = tmp_path / "landing"
    generate(landing, days=DAYS, accounts=60, fmt=fmt, seed=5, start=START, dirty=False)
    config = load_settings({"landing": str(landing)}, environ={})
    history = SCHEMA_PROFILE.empty_frame().assign(**{LANDING_DAY: pd.Series(dtype="datetime64[s]")})
    found = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        raws = readers.read_landing_day(landing / day.isoformat(), landing)
        today = pd.concat(
            [SCHEMA_PROFILE.empty_frame()]
            + [profile_file(e, r, config) for r in raws if (e := detect_entity(r.name))],
            ignore_index=True,
        )
        found.append(compare_profiles(today, history))
        today = today.assign(**{LANDING_DAY: pd.Timestamp(day)})
        history = pd.concat([history, today], ignore_index=True)
    drift = pd.concat(found, ignore_index=True)
    assert drift.empty, drift[["source_file", "drift_kind", "column", "detail"]].to_string()
