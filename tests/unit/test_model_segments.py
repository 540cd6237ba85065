"""Customer segments: planted archetypes recovered, stable names, key accounts, determinism."""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from assets.model_logic import build_customer_segments
from assets.model_logic.segments import slug
from schemas import SCHEMAS
from tests.cross_process import digest_in_subprocess, output_digest
from tests.snapshot_factory import make_snapshot
from tests.unit.model_fixtures import AS_OF, segment_world


@pytest.fixture(scope="module")
def world():
    snap, truth = segment_world()
    return snap, truth, build_customer_segments(snap)


def test_segments_recover_planted_archetypes(world):
    _, truth, out = world
    table = out.tables["customer_segments"].set_index("account_id").join(truth)
    buyers = table[table["archetype"] != "prospect"]
    ari = adjusted_rand_score(buyers["archetype"], buyers["segment_id"])
    assert ari >= 0.8, (ari, out.metadata["sizes"])
    # Readable names follow the profiles.
    majority = buyers.groupby("archetype")["segment_name"].agg(lambda s: s.mode().iloc[0])
    assert majority["dormant"] == "dormant"
    assert majority["at_risk"] == "at risk"
    assert majority["vip"] == "high value, active"
    assert majority["occasional"] == "occasional"
    assert majority["regular"] == "regular, active"
    assert majority.is_unique  # each archetype its own readable segment, no '(2)' suffixes


def test_prospects_ids_and_schema(world):
    _, truth, out = world
    table = out.tables["customer_segments"]
    SCHEMAS["customer_segments"].validate(table)
    prospects = table[table["account_id"].isin(truth[truth == "prospect"].index)]
    assert (prospects["segment_id"] == "prospect").all() and (prospects["clv"] == 0).all()
    assert (table["segment_id"] == table["segment_name"].map(slug)).all()
    assert table["account_id"].is_monotonic_increasing
    assert out.metadata["k"] >= 3 and isinstance(out.metadata["profile"], str)
    assert out.charts["segment_profiles"].startswith(b"\x89PNG")
    dormant = table[table["segment_id"] == "dormant"]
    assert (dormant["clv"] == 0).all()  # no orders in the last year: no expected future value


@pytest.mark.slow
def test_same_inputs_give_identical_outputs_in_another_process(world):
    _, _, out = world
    setup = (
        "from assets.model_logic import build_customer_segments\n"
        "from tests.unit.model_fixtures import segment_world"
    )
    expr = "build_customer_segments(segment_world()[0])"
    assert digest_in_subprocess(setup, expr) == output_digest(out)


def _segment_ids(snap) -> pd.Series:
    return (
        build_customer_segments(snap)
        .tables["customer_segments"]
        .set_index("account_id")["segment_id"]
    )


def _scrambled(account_id: str) -> str:
    """A new ID whose sort order is unrelated to the old one (rows reach K-means reordered)."""
    return hashlib.sha256(account_id.encode()).hexdigest()[:6] + "-" + account_id


def _changed_world():
    """Another draw of every account's history, amounts up 15%, 20% new accounts, and every
    account renamed so the feature matrix's row order is shuffled."""
    again, truth = segment_world(seed=2, n_per=30)
    extra, extra_truth = segment_world(seed=3, n_per=6)
    extra_ids = {a: f"new-{a}" for a in extra_truth.index}
    truth = pd.concat([extra_truth.rename(index=extra_ids), truth])
    frames = {}
    for name in ("accounts", "orders", "activities", "opportunities"):
        new = getattr(extra, name).replace({"account_id": extra_ids})
        if name in ("orders", "opportunities"):
            id_col = "order_id" if name == "orders" else "opportunity_id"
            new = new.assign(**{id_col: "new-" + new[id_col].astype(str)})
        frame = pd.concat([new, getattr(again, name)], ignore_index=True)
        frames[name] = frame.assign(account_id=frame["account_id"].map(_scrambled))
    frames["orders"] = frames["orders"].assign(amount=frames["orders"]["amount"] * 1.15)
    return make_snapshot(AS_OF, **frames), truth


def test_same_kind_of_customer_keeps_its_id_when_the_data_change():
    """Raw cluster labels would be renumbered by changed data; IDs named from profiles are not."""
    before_snap, truth = segment_world(seed=1, n_per=30)
    after_snap, after_truth = _changed_world()
    before = _segment_ids(before_snap)
    scrambled = _segment_ids(after_snap)
    after = scrambled.set_axis(scrambled.index.str.split("-", n=1).str[1])
    assert set(before.index) < set(after.index) and len(after) >= 1.2 * len(before)
    common = before.index
    assert (truth.reindex(common) == after_truth.reindex(common)).all()  # same kind of customer
    assert (before.reindex(common) == after.reindex(common)).mean() >= 0.9
    # Each kind of customer is found under the same ID before and after, new accounts included.
    kind_before = before.groupby(truth.reindex(before.index)).agg(lambda s: s.mode().iloc[0])
    kind_after = after.groupby(after_truth.reindex(after.index)).agg(lambda s: s.mode().iloc[0])
    pd.testing.assert_series_equal(kind_before, kind_after)
    new = after.index.difference(before.index)
    expected = after_truth.reindex(new).map(kind_before)
    assert (after.reindex(new) == expected).mean() >= 0.9


def test_key_account_needs_revenue_and_three_years():
    d = date(2025, 6, 30)
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "account_id": ["old", "old", "young", "small"],
            "order_date": pd.to_datetime(["2022-06-30", "2025-03-01", "2025-03-01", "2020-01-01"]),
            "amount": [100.0, 5_000_000.0, 6_000_000.0, 10.0],
            "status": "completed",
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["old", "young", "small"],
            "account_name": ["a", "b", "c"],
            "created_at": pd.Timestamp("2020-01-01", tz="UTC"),
        }
    )
    table = build_customer_segments(make_snapshot(d, accounts=accounts, orders=orders)).tables[
        "customer_segments"
    ]
    flags = table.set_index("account_id")["is_key_account"]
    assert bool(flags["old"]) and not bool(flags["young"]) and not bool(flags["small"])


def test_no_orders_at_all_gives_only_prospects():
    accounts = pd.DataFrame(
        {
            "account_id": ["a"],
            "account_name": ["a"],
            "created_at": pd.Timestamp("2025-01-01", tz="UTC"),
        }
    )
    out = build_customer_segments(make_snapshot(date(2025, 6, 30), accounts=accounts))
    assert out.tables["customer_segments"]["segment_id"].tolist() == ["prospect"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_four_planted_behaviour_groups_are_recovered(seed):
    """An independent data set (order rate, order size, activity rate, dormancy differ): the
    Calinski-Harabasz k choice finds 4 groups; silhouette chose 3 and merged two active ones."""
    from tests.unit.planted_groups import planted_groups

    snap, truth = planted_groups(seed=seed)
    out = build_customer_segments(snap)
    table = out.tables["customer_segments"].set_index("account_id")
    ari = adjusted_rand_score(truth.reindex(table.index), table["segment_id"])
    assert out.metadata["k"] == 4, out.metadata["sizes"]
    assert ari >= 0.9, (ari, out.metadata["sizes"])


def test_outliers_of_a_large_base_come_from_a_bounded_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above OUTLIER_SAMPLE customers DBSCAN runs on a seeded sample: the sample's points keep
    DBSCAN's own labels, and planted isolated customers outside the sample are still noise."""
    import numpy as np
    from sklearn.cluster import DBSCAN

    from assets.model_logic import segments
    from assets.model_logic.training import sample_positions

    rng = np.random.default_rng(4)
    dense = rng.normal(0, 1, size=(3000, 4))
    far = rng.normal(0, 1, size=(12, 4)) + 25  # a planted, isolated little group
    x = np.vstack([dense, far])
    whole, info = segments.dbscan_outliers(x)
    expected = DBSCAN(eps=info["eps"], min_samples=info["min_samples"]).fit_predict(x) == -1
    assert (whole == expected).all()  # under the bound: DBSCAN itself

    monkeypatch.setattr(segments, "OUTLIER_SAMPLE", 1000)
    noise, info = segments.dbscan_outliers(x, random_state=0)
    sample = sample_positions(len(x), 1000, 0, segments.OUTLIER_SALT)
    on_sample = DBSCAN(eps=info["eps"], min_samples=info["min_samples"]).fit_predict(x[sample])
    assert (noise[sample] == (on_sample == -1)).all()
    assert noise[len(dense) :].all()  # every planted point, sampled or not
    assert noise[: len(dense)].mean() < 0.1
    assert (segments.dbscan_outliers(x, random_state=0)[0] == noise).all()  # reproducible
