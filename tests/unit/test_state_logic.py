"""The upsert rule and opportunity history (contract section 3, 'State')."""

from __future__ import annotations

from datetime import date

import pandas as pd

from assets.state_logic import (
    LANDING_DAY,
    apply_upsert,
    build_opportunity_history,
    conflicting_ties,
    new_conflicting_ties,
    resolve_revenue_source,
    revenue_events,
    tie_content,
)
from tests.snapshot_factory import make_snapshot


def _opps(rows):
    """rows: (id, stage, amount, updated_at, landing_day, is_deleted)."""
    frame = pd.DataFrame(
        rows, columns=["opportunity_id", "stage", "amount", "updated_at", LANDING_DAY, "is_deleted"]
    )
    return frame.assign(
        updated_at=pd.to_datetime(frame["updated_at"], utc=True),
        **{LANDING_DAY: pd.to_datetime(frame[LANDING_DAY])},
        probability=50.0,
        amount_local=frame["amount"],
        currency="USD",
        created_at=pd.Timestamp("2024-01-01", tz="UTC"),
        _source_file="f",
        _source_row=range(1, len(frame) + 1),
    )


def test_latest_updated_at_wins_regardless_of_landing_order():
    records = _opps(
        [
            ("o1", "lead", 10.0, "2024-01-05", "2024-01-05", False),
            ("o1", "qualified", 20.0, "2024-01-03", "2024-01-06", False),  # late, older version
        ]
    )
    state = apply_upsert(records, "opportunities")
    assert state["stage"].tolist() == ["lead"]


def test_tie_on_updated_at_takes_the_later_landing_day():
    records = _opps(
        [
            ("o1", "lead", 10.0, "2024-01-05", "2024-01-06", False),
            ("o1", "proposal", 30.0, "2024-01-05", "2024-01-05", False),
        ]
    )
    assert apply_upsert(records, "opportunities")["stage"].tolist() == ["lead"]


def test_tombstone_removes_record_and_later_version_revives_it():
    records = _opps(
        [
            ("o1", "lead", 10.0, "2024-01-01", "2024-01-01", False),
            ("o2", "lead", 5.0, "2024-01-01", "2024-01-01", False),
            ("o1", "lead", 10.0, "2024-01-02", "2024-01-02", True),
        ]
    )
    assert apply_upsert(records, "opportunities")["opportunity_id"].tolist() == ["o2"]
    revived = pd.concat(
        [records, _opps([("o1", "qualified", 11.0, "2024-01-03", "2024-01-03", False)])]
    )
    assert sorted(apply_upsert(revived, "opportunities")["opportunity_id"]) == ["o1", "o2"]


def test_history_has_one_row_per_distinct_updated_at():
    records = _opps(
        [
            ("o1", "lead", 10.0, "2024-01-01", "2024-01-01", False),
            ("o1", "lead", 10.0, "2024-01-01", "2024-01-02", False),  # re-sent copy: same version
            ("o1", "proposal", 30.0, "2024-01-04", "2024-01-04", False),
            ("o1", "proposal", 30.0, "2024-01-09", "2024-01-09", True),
        ]
    )
    history = build_opportunity_history(records)
    assert history["stage"].tolist() == ["lead", "proposal", "proposal"]
    assert history["valid_from"].dt.strftime("%m-%d").tolist() == ["01-01", "01-04", "01-09"]
    assert history["valid_to"].dt.strftime("%m-%d").fillna("open").tolist() == [
        "01-04",
        "01-09",
        "open",
    ]
    assert history["is_deleted"].tolist() == [False, False, True]


def test_same_updated_at_from_later_day_replaces_content():
    records = _opps(
        [
            ("o1", "lead", 10.0, "2024-01-01", "2024-01-01", False),
            ("o1", "qualified", 12.0, "2024-01-01", "2024-01-03", False),
        ]
    )
    history = build_opportunity_history(records)
    assert history["stage"].tolist() == ["qualified"] and history["amount"].tolist() == [12.0]


def test_targets_upsert_key_includes_null_parts():
    frame = pd.DataFrame(
        {
            "period": ["2024-01", "2024-01", "2024-01"],
            "rep_id": [None, "r1", None],
            "region": [None, None, None],
            "target_amount": [100.0, 10.0, 150.0],
            "updated_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"], utc=True),
            LANDING_DAY: pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
            "is_deleted": False,
            "currency": "USD",
            "target_amount_local": [100.0, 10.0, 150.0],
            "_source_file": "t",
            "_source_row": [1, 2, 1],
        }
    )
    state = apply_upsert(frame, "targets")
    assert sorted(state["target_amount"].tolist()) == [10.0, 150.0]


def test_revenue_events_by_source():
    snap = make_snapshot(
        date(2024, 3, 1),
        orders=pd.DataFrame(
            {
                "order_id": ["a", "b", "c"],
                "account_id": ["x", "x", "y"],
                "order_date": ["2024-02-01", "2024-02-02", "2024-03-05"],
                "amount": [10.0, 20.0, 5.0],
                "status": ["completed", "refunded", "completed"],
            }
        ),
        opportunities=pd.DataFrame(
            {
                "opportunity_id": ["o1", "o2"],
                "account_id": ["x", "y"],
                "stage": ["closed_won", "closed_lost"],
                "amount": [99.0, 50.0],
                "probability": [100.0, 0.0],
                "created_at": pd.to_datetime(["2024-01-01", "2024-01-01"], utc=True),
                "close_date": ["2024-02-10", "2024-02-11"],
            }
        ),
    )
    assert revenue_events(snap)["order_id"].tolist() == ["a"]
    won = revenue_events(
        make_snapshot(date(2024, 3, 1), "won_opportunities", opportunities=snap.opportunities)
    )
    assert won["order_id"].tolist() == ["o1"] and won["amount"].tolist() == [99.0]
    assert resolve_revenue_source("auto", True) == "orders"
    assert resolve_revenue_source("auto", False) == "won_opportunities"


def test_ties_across_landing_days_with_different_content_are_counted() -> None:
    """Issue 11: the upsert keeps one of two same-`updated_at` versions; losing a different
    content is reported (a warning check), a re-sent identical copy is not."""
    key = ("opportunity_id",)
    records = _opps(
        [
            ("o1", "qualified", 10, "2024-01-01", "2024-01-01", False),
            ("o1", "proposal", 10, "2024-01-01", "2024-01-02", False),  # tie, different stage
            ("o2", "lead", 5, "2024-01-01", "2024-01-01", False),
            ("o2", "lead", 5, "2024-01-01", "2024-01-03", False),  # re-sent copy
            ("o3", "lead", 5, "2024-01-01", "2024-01-01", False),
            ("o3", "lead", 5, "2024-01-02", "2024-01-02", False),  # a new version
        ]
    )
    assert conflicting_ties(records, key) == 1
    assert conflicting_ties(records[records["opportunity_id"] != "o1"], key) == 0
    assert conflicting_ties(records.iloc[:0], key) == 0


def test_ties_an_increment_adds_are_counted_against_the_kept_versions() -> None:
    """The incremental state counts the ties its partitions add: against every version of the
    history before it (a tie with an old version loses stage history too), not re-sent copies."""
    base = _opps(
        [
            ("o1", "lead", 10, "2024-01-01", "2024-01-01", False),
            ("o1", "qualified", 10, "2024-01-02", "2024-01-02", False),
            ("o2", "lead", 5, "2024-01-01", "2024-01-01", False),
        ]
    )
    history = build_opportunity_history(base).assign(updated_at=lambda h: h["valid_from"])
    increment = _opps(
        [
            ("o1", "proposal", 10, "2024-01-01", "2024-01-05", False),  # ties an old version
            ("o2", "lead", 5, "2024-01-01", "2024-01-05", False),  # a re-sent copy
            ("o3", "lead", 5, "2024-01-01", "2024-01-05", False),  # new
        ]
    )
    assert new_conflicting_ties(history, increment, "opportunities") == 1
    assert new_conflicting_ties(history, increment.iloc[1:], "opportunities") == 0
    assert new_conflicting_ties(history, increment.iloc[:0], "opportunities") == 0
    # The same records all at once, as a rebuild counts them.
    everything = pd.concat([base, increment], ignore_index=True)
    key = ("opportunity_id",)
    assert conflicting_ties(everything, key, tie_content("opportunities")) == 1


def test_advancing_only_the_touched_keys_equals_the_upsert_over_every_record() -> None:
    """advance_latest re-ranks only the keys a delta touches; over random versions (older and
    newer than the kept one, ties, deletions, revivals) it must equal the rule over all records."""
    import numpy as np

    from assets.state_logic import advance_latest, split_latest

    rng = np.random.default_rng(7)
    for _ in range(20):
        rows = [
            (
                f"O{rng.integers(0, 12)}",
                str(rng.choice(["prospecting", "closed_won"])),
                float(rng.integers(1, 5) * 100),
                f"2024-01-{rng.integers(1, 6):02d}",
                f"2024-02-{day:02d}",
                bool(rng.random() < 0.2),
            )
            for day in (1, 2, 3)
            for _ in range(int(rng.integers(1, 10)))
        ]
        records = _opps(rows)
        before = records[records[LANDING_DAY] < pd.Timestamp("2024-02-03")]
        delta = records[records[LANDING_DAY] == pd.Timestamp("2024-02-03")]
        state, tombstones = split_latest(before, "opportunities")
        advanced = advance_latest(state, tombstones, delta, "opportunities")
        expected = split_latest(records, "opportunities")
        pd.testing.assert_frame_equal(advanced[0], expected[0])
        pd.testing.assert_frame_equal(advanced[1], expected[1])
