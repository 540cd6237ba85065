"""Incremental state == full rebuild (contract section 3, 'State').

A generated zone with updates, deletes and re-sends, ingested with accounts declared full
snapshots (so every accounts file deletes the accounts it lacks and revives the ones it carries
again; the snapshot-drop guard is opened for that, see the fixture), plus hand-written partitions that re-send an older version after a tombstone and a
same-updated_at version with other content. The state is advanced across non-consecutive
analytics days and compared with a rebuild from every partition on each of them.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from assets.state.store import (
    HISTORY,
    STATE_ASSETS,
    StateBuild,
    commit,
    find_base,
    incremental_state,
    input_signatures,
    rebuild,
)
from crm_generator import generate
from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from schemas import ENTITIES, state_table_name
from tests.integration.pipeline_fixture import ingest_days

START = date(2024, 1, 1)
DAYS = 40
ANALYTICS = [date(2024, 1, 9), date(2024, 1, 20), date(2024, 1, 31), date(2024, 2, 9)]


def _write_state(root, build: StateBuild) -> None:
    """What the asset does: the IO manager writes the tables, then the state is committed."""
    for name in STATE_ASSETS:
        key = HISTORY if name == HISTORY else name.removesuffix("_state")
        warehouse.write_partition(root, name, build.day, build.tables[key])
    commit(root, build)


def _assert_same(incremental: StateBuild, full: StateBuild) -> None:
    for key in [*ENTITIES, HISTORY]:
        pd.testing.assert_frame_equal(
            incremental.tables[key], full.tables[key], obj=f"{key} {incremental.day}"
        )
    for entity in ENTITIES:
        pd.testing.assert_frame_equal(
            incremental.tombstones[entity], full.tombstones[entity], obj=f"{entity} tombstones"
        )


def _opportunity(opp_id, stage, amount, updated_at, deleted=False) -> dict:
    return {
        "opportunity_id": opp_id,
        "account_id": None,
        "stage": stage,
        "amount": amount,
        "amount_local": amount,
        "currency": "USD",
        "probability": 50.0,
        "created_at": pd.Timestamp("2024-01-02", tz="UTC"),
        "updated_at": pd.Timestamp(updated_at, tz="UTC"),
        "is_deleted": deleted,
        "_source_file": "hand/opportunities.csv",
        "_source_row": 1,
    }


def _plant(root, day: date, rows: list[dict]) -> None:
    """Append hand-written opportunity versions to a day's clean partition."""
    from schemas import TABLES, conform

    frame = (
        warehouse.read_partition(root, "opportunities", day)
        if warehouse.has_partition(root, "opportunities", day)
        else TABLES["opportunities"].empty_frame()  # a blocked day: its first good version
    )
    extra = conform(pd.DataFrame(rows), TABLES["opportunities"])
    warehouse.write_partition(root, "opportunities", day, pd.concat([frame, extra]))


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    base = tmp_path_factory.mktemp("incremental")
    landing, root = base / "landing", base / "warehouse"
    generate(landing, days=DAYS, accounts=30, fmt="canonical", seed=3, start=START)
    settings_file = base / "settings.toml"
    # The generator writes accounts as daily deltas: declared snapshots, each one "deletes" most
    # live accounts, which is what the snapshot-drop guard (issue 11) blocks by default. This
    # test needs those deletions and revivals applied, so it allows any drop but a total one
    # (an accounts file carrying no live account is still blocked as an empty snapshot).
    settings_file.write_text(
        'pii_key = "k"\n[entities.accounts]\nload_mode = "snapshot"\n'
        "[thresholds]\nmax_snapshot_drop = 1.0\n",
        encoding="utf-8",
    )
    settings = PipelineSettings(
        landing=str(landing), warehouse=str(root), settings_file=str(settings_file)
    )
    ingest_days(settings, START, DAYS)
    # A tombstone, then a re-send of the older version in a later increment: stays deleted.
    _plant(root, date(2024, 1, 5), [_opportunity("hand-1", "lead", 10.0, "2024-01-05")])
    _plant(root, date(2024, 1, 12), [_opportunity("hand-1", "lead", 10.0, "2024-01-12", True)])
    _plant(root, date(2024, 1, 25), [_opportunity("hand-1", "proposal", 30.0, "2024-01-06")])
    # The same updated_at re-sent with other content on a later day: one version, later content.
    _plant(root, date(2024, 1, 8), [_opportunity("hand-2", "lead", 10.0, "2024-01-08")])
    _plant(root, date(2024, 1, 30), [_opportunity("hand-2", "qualified", 99.0, "2024-01-08")])
    return root


@pytest.fixture(scope="module")
def committed(zone):
    """Every analytics day's state committed, as the asset leaves it: the tests that look for a
    base must not depend on another test having run first on the same xdist worker."""
    for day in ANALYTICS:
        after = day + timedelta(days=1)
        if find_base(zone, after, input_signatures(zone, after))[0] != day:
            _write_state(zone, incremental_state(zone, day))
    return zone


def test_zone_has_what_the_rule_must_handle(zone):
    records = warehouse.read_window(zone, "accounts", end=ANALYTICS[-1])
    assert records["is_deleted"].any() and (~records["is_deleted"]).any()
    opps = warehouse.read_window(zone, "opportunities", end=ANALYTICS[-1])
    assert opps["is_deleted"].any()
    assert opps.duplicated(["opportunity_id", "updated_at"]).any()  # re-sent versions


def test_incremental_equals_rebuild_across_non_consecutive_days(zone):
    notes, ties = [], []
    for day in ANALYTICS:
        inputs = input_signatures(zone, day)
        built = incremental_state(zone, day)
        full = rebuild(zone, day, inputs, "rebuilt")
        _assert_same(built, full)
        notes.append(built.note)
        ties.append((built.ties["opportunities"], full.ties["opportunities"]))
        _write_state(zone, built)
    assert notes[0].startswith("rebuilt")
    assert notes[1:] == [f"advanced from {d}" for d in ANALYTICS[:-1]]
    # hand-2's same-updated_at version with other content (landed 01-30, after the state of
    # 01-20): the increment that brings it and every rebuild from then on count it.
    assert ties[2][0] >= 1 and ties[2][1] >= 1 and ties[3][1] >= 1


def test_planted_versions(zone):
    built = incremental_state(zone, ANALYTICS[-1])
    opps = built.tables["opportunities"]
    assert "hand-1" not in set(opps["opportunity_id"])  # the older re-send does not revive it
    assert opps.loc[opps["opportunity_id"] == "hand-2", "amount"].tolist() == [99.0]
    history = built.tables[HISTORY]
    assert history.loc[history["opportunity_id"] == "hand-2", "stage"].tolist() == ["qualified"]
    hand1 = history[history["opportunity_id"] == "hand-1"]
    assert hand1["valid_to"].notna().sum() == 2 and hand1["is_deleted"].tolist()[-1]


def test_a_rewritten_earlier_partition_makes_the_base_stale(committed):
    zone = committed
    last = ANALYTICS[-1]
    assert find_base(zone, last, input_signatures(zone, last))[0] == ANALYTICS[-2]
    # A re-run of an earlier day (a blocked day fixed): same content, new file.
    day = ANALYTICS[-2] - timedelta(days=3)
    frame = warehouse.read_partition(zone, "opportunities", day)
    warehouse.write_partition(zone, "opportunities", day, frame.iloc[: len(frame) // 2])
    base, note = find_base(zone, last, input_signatures(zone, last))
    assert base is None and "changed" in note
    built = incremental_state(zone, last)
    _assert_same(built, rebuild(zone, last, input_signatures(zone, last), "rebuilt"))


def test_a_replaced_state_file_is_not_a_base(committed):
    zone = committed
    day = ANALYTICS[1]
    name = state_table_name("accounts")
    warehouse.write_partition(zone, name, day, warehouse.read_partition(zone, name, day))
    base, note = find_base(zone, ANALYTICS[2], input_signatures(zone, ANALYTICS[2]))
    assert base is None and "replaced" in note
