"""The state layer: every entity as of day D and `opportunity_history`, built incrementally.

`assets.py` is the Dagster asset, `gate.py` the per-day gate (no state, hence no analytics, for a
blocked day), `store.py` the incremental build and what it keeps between analytics days, and
`snapshot.py` assembles the `Snapshot` analytics assets receive.
"""

from assets.state.assets import build_state_assets
from assets.state.gate import DayBlocked, day_gate
from assets.state.snapshot import orders_ever_landed, snapshot_ins, to_snapshot
from assets.state.store import HISTORY, STATE_ASSETS, build_state_tables, incremental_state

__all__ = [
    "HISTORY",
    "STATE_ASSETS",
    "DayBlocked",
    "build_state_assets",
    "build_state_tables",
    "day_gate",
    "incremental_state",
    "orders_ever_landed",
    "snapshot_ins",
    "to_snapshot",
]
