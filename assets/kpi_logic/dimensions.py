"""Dimension attribution: which region, owner, product and segment each fact belongs to.

All values come from the state as of D (contract): an order's region and owner are its account's,
an opportunity's owner is its own and its region its account's, an activity's owner is its own;
product comes from the order or opportunity (activities have none). Segments come from the
`customer_segments` frame; without it every account is in segment `__unknown__`. Anything missing
is `__unknown__`, so `overall` equals the sum over the values of any dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from assets.kpi_logic.common import ALL, DIMENSION_COLUMNS, UNKNOWN, fill_unknown
from assets.state_logic import Snapshot


@dataclass(frozen=True)
class Dimensions:
    """Lookups for attributing facts. `accounts`: one row per account_id with region,
    account_owner and segment (already `__unknown__`-filled)."""

    accounts: pd.DataFrame
    rep_names: pd.Series
    segment_names: pd.Series

    @classmethod
    def from_snapshot(cls, snap: Snapshot, segments: pd.DataFrame | None = None) -> Dimensions:
        acc = snap.accounts[["account_id", "region", "owner_id"]].drop_duplicates("account_id")
        if segments is not None and len(segments):
            seg = segments[["account_id", "segment_id"]].drop_duplicates("account_id")
            acc = acc.merge(seg, on="account_id", how="left")
        else:
            acc = acc.assign(segment_id=pd.Series(pd.NA, index=acc.index, dtype="str"))
        accounts = pd.DataFrame(
            {
                "account_id": acc["account_id"].astype("str"),
                "region": fill_unknown(acc["region"]),
                "account_owner": fill_unknown(acc["owner_id"]),
                "segment": fill_unknown(acc["segment_id"]),
            }
        )
        reps = snap.reps.drop_duplicates("rep_id")
        rep_names = pd.Series(
            reps["rep_name"].to_numpy(), index=reps["rep_id"].to_numpy(), dtype="str"
        )
        if segments is not None and len(segments):
            seg = segments.drop_duplicates("segment_id")
            segment_names = pd.Series(
                seg["segment_name"].to_numpy(), index=seg["segment_id"].to_numpy(), dtype="str"
            )
        else:
            segment_names = pd.Series(dtype="str")
        return cls(accounts=accounts, rep_names=rep_names, segment_names=segment_names)

    def _with_account(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Left-join the account's region, owner and segment (unknown account -> `__unknown__`)."""
        keyed = frame.assign(account_id=frame["account_id"].astype("str"))
        out = keyed.merge(self.accounts, on="account_id", how="left", sort=False)
        for col in ("region", "account_owner", "segment"):
            out[col] = out[col].fillna(UNKNOWN).astype("str")
        return out

    def orders(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Facts of an order (account_id, product): region, owner and segment of the account."""
        out = self._with_account(frame)
        out["owner"] = out["account_owner"]
        out["product"] = fill_unknown(out["product"])
        return out.drop(columns="account_owner")

    def opportunities(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Facts of an opportunity (account_id, owner_id, product): its own owner, its account's
        region and segment."""
        out = self._with_account(frame)
        out["owner"] = fill_unknown(out["owner_id"])
        out["product"] = fill_unknown(out["product"])
        return out.drop(columns="account_owner")

    def activities(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Facts of an activity (account_id, owner_id): its own owner, no product."""
        out = self._with_account(frame)
        out["owner"] = fill_unknown(out["owner_id"])
        out["product"] = pd.Series(UNKNOWN, index=out.index, dtype="str")
        return out.drop(columns="account_owner")

    def label(self, dimension: str, values: pd.Series) -> pd.Series:
        """Readable label: rep name (the rep ID when the rep is unknown), segment name, else the
        value itself; `all` for overall."""
        values = values.astype("str")
        if dimension == "overall":
            return pd.Series(ALL, index=values.index, dtype="str")
        if dimension == "owner":
            names = values.map(self.rep_names).astype("str")
        elif dimension == "segment":
            names = values.map(self.segment_names).astype("str")
        else:
            return values
        return names.fillna(values).where(values != UNKNOWN, UNKNOWN).astype("str")


def known_values(snap: Snapshot, dims: Dimensions) -> dict[str, set[str]]:
    """Dimension values known in the state as of D, even without any fact (a rep who sold nothing,
    a region with only prospects, a target's region). `__unknown__` is added by facts that need it."""

    def clean(*series: pd.Series) -> set[str]:
        values = pd.concat([s.astype("str") for s in series], ignore_index=True).dropna()
        return {v for v in values.unique().tolist() if v.strip()}

    targets = snap.targets
    return {
        "region": clean(snap.accounts["region"], targets.loc[targets["rep_id"].isna(), "region"]),
        "owner": clean(
            snap.reps["rep_id"],
            snap.accounts["owner_id"],
            snap.opportunities["owner_id"],
            snap.activities["owner_id"],
            targets["rep_id"],
        ),
        "product": clean(snap.orders["product"], snap.opportunities["product"]),
        "segment": set(dims.segment_names.index.astype("str")) - {UNKNOWN},
    }


def values_from_facts(*frames: pd.DataFrame) -> dict[str, set[str]]:
    """Every dimension value used by the given fact frames (includes `__unknown__` where needed)."""
    out: dict[str, set[str]] = {d: set() for d in DIMENSION_COLUMNS}
    for frame in frames:
        for dim in DIMENSION_COLUMNS:
            if dim in frame.columns and len(frame):
                out[dim].update(frame[dim].unique().tolist())
    return out
