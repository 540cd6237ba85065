"""Customer segments: K-means on as-of RFM + engagement features, named from centroid profiles.

Accounts with at least one completed order are clustered; the others are `prospect`. The features
(`SEGMENT_FEATURES`) are log1p'd (heavy tails) and robust-scaled (median/IQR, so a few giant
accounts do not squash everyone else), plus the log of the last year's average order value
(monetary / frequency: a derived column, not a new input); tenure and win rate enter at reduced
weight (`WEIGHTS`). K-means (n_init=10, fixed random_state) then runs for each k in k_range and the
k with the best Calinski-Harabasz variance ratio wins (see `choose_k`).

Segment IDs carry no stored state: each cluster is *named* from the medians of its members with
fixed rules (`segment_name`), and the ID is the slug of the name. The same kind of customer thus
gets the same ID day after day, whatever the arbitrary K-means label numbers are. Names:
`dormant` (no order in a year), `at risk` (silent for much longer than usual, or ordering at less
than half the previous quarter's pace), `new`, `high value, active`, `frequent, active` (about
weekly or more), `regular, active`, `occasional` (less than quarterly). Two clusters with the same
name are told apart by value: the higher-revenue one keeps the plain name, the next is
`<name>, lower value` (then `<name>, lower value (3)`, ...).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import RobustScaler

from assets.model_logic import charts
from assets.model_logic.clv import customer_lifetime_value, key_accounts
from assets.model_logic.features import SEGMENT_FEATURES, FeatureInputs, features_at
from assets.model_logic.output import ModelOutput
from assets.model_logic.training import sample_positions
from assets.state_logic import Snapshot
from schemas import TABLES, conform

PROSPECT = "prospect"
DORMANT_DAYS = 365
"""No completed order in the last year: dormant."""
AT_RISK_MIN_DAYS = 30
AT_RISK_GAPS = 3.0
"""At risk: the last order is older than AT_RISK_MIN_DAYS and than AT_RISK_GAPS times the usual
gap between orders (365 / orders in the last year) ..."""
DECLINE_RATIO = 0.5
DECLINE_MIN_ORDERS = 3.0
"""... or the last 90 days brought at most DECLINE_RATIO of the orders of the 90 days before, when
those were at least DECLINE_MIN_ORDERS (so 1 -> 0 orders of a rare buyer is not a decline)."""
OCCASIONAL_MAX_ORDERS = 4
"""Active customers with fewer orders a year than this (less than quarterly) are occasional."""
FREQUENT_MIN_ORDERS = 52
"""Active customers with at least this many orders a year (about weekly) are frequent."""
NEW_TENURE_DAYS = 180
HIGH_VALUE_QUANTILE = 0.8
"""A segment is high value when its median last-year revenue reaches this quantile of the
last-year revenue of all customers who bought in the last year."""
OUTLIER_QUANTILE = 0.95
"""DBSCAN eps = this quantile of the distances to the min_samples-th nearest neighbour."""
SILHOUETTE_SAMPLE = 3000
OUTLIER_SAMPLE = 20_000
"""DBSCAN runs on at most this many customers (seeded sample); the rest are noise when no core
point of the sample lies within eps. Its radius queries grow with n x neighbours: on 100,000
customers they were ~75 s of the 2-core night's 141 s segments step (41 s with the sample)."""
OUTLIER_SALT = 5
"""`sample_positions` salt of the outlier sample (the training caps use 1-4)."""
AOV_FEATURE = "avg_order_value_365d"
"""Derived clustering column: log1p(monetary / frequency), the last year's average order value."""
WEIGHTS = {
    "recency_days": 1.0,
    "frequency": 1.0,
    "monetary": 1.0,
    "tenure_days": 0.25,
    "activities_90d": 1.0,
    "win_rate": 0.5,
    AOV_FEATURE: 1.0,
}
"""Column weights after scaling. Win rate at half weight: with the few closed deals a customer
usually has it moves in big discrete steps (1/4 -> 2/4) that, robust-scaled, would otherwise split
behaviourally identical customers. Tenure at a quarter: how long ago an account was opened says
little about how it buys now, and at full weight it split one buying pattern into old and young
halves. The average order value is explicit because the log of monetary alone mixes 'many small
orders' with 'few big ones' (it is log frequency + log order value); with it, a fading big-ticket
buyer no longer falls in with steady small-ticket ones."""


def clustering_matrix(features: pd.DataFrame) -> np.ndarray:
    """log1p of the non-negative features and of the last year's average order value (0 without
    orders in the last year), win rate filled with the median (no closed deal is no evidence, not
    a zero win rate), robust-scaled, then weighted (WEIGHTS)."""
    frame = features[SEGMENT_FEATURES].astype("float64").copy()
    for name in SEGMENT_FEATURES:
        if name != "win_rate":
            frame[name] = np.log1p(frame[name].fillna(0.0).clip(lower=0))
    median = frame["win_rate"].median()
    frame["win_rate"] = frame["win_rate"].fillna(0.0 if pd.isna(median) else median)
    frequency = features["frequency"].astype("float64")
    aov = features["monetary"].astype("float64").clip(lower=0) / frequency.where(frequency > 0)
    frame[AOV_FEATURE] = np.log1p(aov.fillna(0.0))
    x = RobustScaler().fit_transform(frame.to_numpy())
    return x * np.array([WEIGHTS[name] for name in frame.columns])


def choose_k(
    x: np.ndarray, k_range: tuple[int, int], random_state: int
) -> tuple[np.ndarray, int, float]:
    """K-means labels for the k in k_range with the best Calinski-Harabasz score (ties: the
    smaller k), and that k's silhouette (reported, not used to choose).

    Silhouette, used before, rewards the coarsest clear split: on four planted behaviour groups
    it chose k = 3 and merged two active groups that differ in order rate and size (ARI 0.67 on
    `tests/unit/planted_groups.py`, 0.90 with the same features at k = 4). The variance ratio
    finds k = 4 there and k = 5 on the five archetypes of the segment tests."""
    n_distinct = len(np.unique(x.round(9), axis=0))
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(k_range[0], k_range[1] + 1):
        if k >= n_distinct:
            break
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(x)
        score = float(calinski_harabasz_score(x, labels))
        if best is None or score > best[0] * (1 + 1e-12):
            best = (score, k, labels)
    if best is None:  # too few distinct customers to cluster: one segment
        return np.zeros(len(x), dtype=int), 1, float("nan")
    sample = min(len(x), SILHOUETTE_SAMPLE)
    silhouette = float(silhouette_score(x, best[2], sample_size=sample, random_state=random_state))
    return best[2], best[1], silhouette


def segment_name(profile: pd.Series, high_value: float) -> str:
    """Readable name from a cluster's medians (recency_days, frequency, monetary, tenure_days,
    orders_90d, orders_prev_90d)."""
    recency, frequency, monetary = (
        profile["recency_days"],
        profile["frequency"],
        profile["monetary"],
    )
    if recency > DORMANT_DAYS:
        return "dormant"
    usual_gap = 365.0 / max(frequency, 1.0)
    silent = recency > max(AT_RISK_MIN_DAYS, AT_RISK_GAPS * usual_gap)
    previous = profile["orders_prev_90d"]
    declining = previous >= DECLINE_MIN_ORDERS and profile["orders_90d"] <= DECLINE_RATIO * previous
    if silent or declining:
        return "at risk"
    if profile["tenure_days"] < NEW_TENURE_DAYS:
        return "new"
    if monetary >= high_value > 0:
        return "high value, active"
    if frequency < OCCASIONAL_MAX_ORDERS:
        return "occasional"
    if frequency >= FREQUENT_MIN_ORDERS:
        return "frequent, active"
    return "regular, active"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def name_clusters(features: pd.DataFrame, labels: np.ndarray) -> dict[int, str]:
    """Cluster label -> unique name. Duplicate names are told apart deterministically: the
    cluster with the higher median revenue keeps the plain name, the next gets ', lower value',
    the ones after ', lower value (3)', ..."""
    active = features.loc[features["monetary"] > 0, "monetary"]
    high_value = float(active.quantile(HIGH_VALUE_QUANTILE)) if len(active) else 0.0
    medians = features.groupby(labels)[
        ["recency_days", "frequency", "monetary", "tenure_days", "orders_90d", "orders_prev_90d"]
    ].median()
    medians["name"] = [segment_name(row, high_value) for _, row in medians.iterrows()]
    medians = medians.sort_values(
        ["name", "monetary", "frequency", "recency_days"], ascending=[True, False, False, True]
    )
    names: dict[int, str] = {}
    for name, group in medians.groupby("name", sort=True):
        for rank, label in enumerate(group.index):
            suffix = "" if rank == 0 else ", lower value" + ("" if rank == 1 else f" ({rank + 1})")
            names[int(label)] = f"{name}{suffix}"
    return names


def dbscan_outliers(x: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, dict[str, float]]:
    """DBSCAN noise on the clustering matrix. min_samples = 2 x features (the usual rule), at most
    a tenth of the customers (at least 3); eps = the OUTLIER_QUANTILE quantile of the distance to
    the min_samples-th neighbour (the k-distance 'knee' taken as a quantile, so roughly the 5%
    most isolated points can be noise).

    Above OUTLIER_SAMPLE customers, eps and DBSCAN come from a seeded sample of that size (eps
    then fits the sample's density), and a customer outside it is noise when no core point of
    the sample lies within eps, which is DBSCAN's own rule for the points of the sample."""
    n = len(x)
    if n < 4:
        return np.zeros(n, dtype=bool), {"eps": float("nan"), "min_samples": 0}
    sample = sample_positions(n, OUTLIER_SAMPLE, random_state, OUTLIER_SALT)
    xs = x[sample]
    min_samples = int(max(3, min(2 * x.shape[1], len(xs) // 10)))
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(xs).kneighbors(xs)
    eps = max(float(np.quantile(distances[:, -1], OUTLIER_QUANTILE)), 1e-6)
    fitted = DBSCAN(eps=eps, min_samples=min_samples).fit(xs)
    info = {"eps": eps, "min_samples": min_samples}
    if len(xs) == n:
        return fitted.labels_ == -1, info
    noise = np.ones(n, dtype=bool)
    noise[sample] = fitted.labels_ == -1
    rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
    cores = xs[fitted.core_sample_indices_]
    if len(cores) and len(rest):
        nearest, _ = NearestNeighbors(n_neighbors=1).fit(cores).kneighbors(x[rest])
        noise[rest] = nearest[:, 0] > eps
    return noise, info


def build_customer_segments(
    snap: Snapshot,
    *,
    k_range: tuple[int, int] = (3, 8),
    key_account_revenue: float = 5_000_000.0,
    key_account_years: int = 3,
    random_state: int = 0,
) -> ModelOutput:
    """customer_segments as of D (see module docstring), with k, silhouette, sizes and the
    profile table as metadata and a segment-profile heatmap."""
    inputs = FeatureInputs.from_snapshot(snap)
    features = features_at(inputs, inputs.as_of)
    buyers = features[features["orders_total"] > 0]
    segment = pd.Series(PROSPECT, index=features.index, dtype="str")
    outlier = pd.Series(False, index=features.index)
    k, silhouette, dbscan = 0, float("nan"), {"eps": float("nan"), "min_samples": 0}
    if len(buyers):
        x = clustering_matrix(buyers)
        labels, k, silhouette = choose_k(x, k_range, random_state)
        names = name_clusters(buyers, labels)
        segment.loc[buyers.index] = [slug(names[int(label)]) for label in labels]
        names_by_id = {slug(n): n for n in names.values()}
        noise, dbscan = dbscan_outliers(x, random_state)
        outlier.loc[buyers.index] = noise
    else:
        names_by_id = {}
    names_by_id[PROSPECT] = PROSPECT
    clv, lifetimes = customer_lifetime_value(features, segment, inputs)
    clv = clv.where(segment != PROSPECT, 0.0)
    table = features[SEGMENT_FEATURES].assign(
        segment_id=segment,
        segment_name=segment.map(names_by_id),
        clv=clv,
        is_key_account=key_accounts(
            features, inputs.as_of, revenue=key_account_revenue, years=key_account_years
        ),
        is_outlier=outlier,
    )
    table = table.reset_index().sort_values("account_id", kind="stable")
    table = conform(table, TABLES["customer_segments"])

    profile = table.groupby("segment_name")[[*SEGMENT_FEATURES, "clv"]].median()
    profile.insert(0, "customers", table.groupby("segment_name").size())
    profile = profile.sort_values("customers", ascending=False, kind="stable")
    metadata: dict[str, object] = {
        "k": int(k),
        "silhouette": silhouette,
        "customers_clustered": len(buyers),
        "prospects": int((segment == PROSPECT).sum()),
        "sizes": {
            str(s): int(n) for s, n in table["segment_id"].value_counts().sort_index().items()
        },
        "lifetime_years_by_segment": {s: y for s, y in lifetimes.items() if s != PROSPECT},
        "key_accounts": int(table["is_key_account"].sum()),
        "outliers": int(table["is_outlier"].sum()),
        "dbscan_eps": dbscan["eps"],
        "dbscan_min_samples": int(dbscan["min_samples"]),
        "profile": profile.round(2).to_markdown(),
    }
    chart_rows = profile.drop(columns=["customers"])
    chart_rows.index = [
        f"{name} ({int(n)})" for name, n in zip(profile.index, profile["customers"], strict=True)
    ]
    return ModelOutput(
        tables={"customer_segments": table},
        metadata=metadata,
        charts={"segment_profiles": charts.segment_profile_chart(chart_rows)},
    )
