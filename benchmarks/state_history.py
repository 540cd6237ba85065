"""State cost per analytics day vs history length: full rebuild vs the incremental state.

Writes synthetic clean partitions (not through the ingest, so 24 months take seconds to set up):
every day updates records of fixed account/contact/rep pools, creates and updates opportunities,
appends orders and activities, with 1% deletions. Then, for each history length, it commits the
state of the previous month-end and times (a) a rebuild from every partition <= D and (b) the
incremental state of D (the month since the previous month-end).

    python -m benchmarks.state_history [--months 6,12,24] [--dir /tmp/state_bench]
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from assets.state.store import (
    HISTORY,
    STATE_ASSETS,
    commit,
    incremental_state,
    input_signatures,
    rebuild,
)
from sales_pipeline.core import warehouse
from schemas import ENTITIES, TABLES, conform

START = date(2024, 1, 1)
PER_DAY = {
    "accounts": 20,
    "contacts": 30,
    "opportunities": 60,
    "orders": 40,
    "activities": 200,
    "reps": 1,
    "campaigns": 1,
    "targets": 1,
    "fx_rates": 3,
}
POOL = {"accounts": 2000, "contacts": 5000, "reps": 50, "campaigns": 100, "targets": 200}


def _frame(entity: str, day: date, n: int, rng: np.random.Generator, serial: int) -> pd.DataFrame:
    spec = TABLES[entity]
    ts = pd.Timestamp(day, tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    data: dict[str, object] = {}
    for col in spec.columns:
        kind = col.type
        if kind == "string":
            data[col.name] = [f"{col.name[:3]}{i}" for i in rng.integers(0, 500, n)]
        elif kind == "timestamp":
            data[col.name] = ts
        elif kind == "date":
            data[col.name] = [day] * n
        elif kind == "float64":
            data[col.name] = rng.random(n) * 1000
        elif kind == "int64":
            data[col.name] = rng.integers(1, 10, n)
        elif kind == "bool":
            data[col.name] = rng.random(n) < 0.01
    frame = pd.DataFrame(data)
    key = spec.primary_key
    if entity in POOL:
        ids = rng.integers(0, POOL[entity], n)
    elif entity == "opportunities":  # half new deals, half updates of recent ones
        ids = np.where(
            rng.random(n) < 0.5, serial + np.arange(n), rng.integers(0, max(serial, 1), n)
        )
    else:
        ids = serial + np.arange(n)
    frame[key[0]] = [f"{entity[:3]}-{i}" for i in ids]
    if entity == "fx_rates":
        frame["currency"] = ["EUR", "GBP", "JPY"][:n]
        frame["rate_date"] = [day] * n
    if "stage" in frame:
        frame["stage"] = rng.choice(
            ["lead", "qualified", "proposal", "closed_won", "closed_lost"], n
        )
    frame["is_deleted"] = rng.random(n) < 0.01
    frame["_source_row"] = np.arange(1, n + 1)
    return conform(frame.drop_duplicates(list(key), keep="last"), spec)


def write_zone(root: Path, days: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for offset in range(days):
        day = START + timedelta(days=offset)
        for entity in ENTITIES:
            n = PER_DAY[entity]
            warehouse.write_partition(root, entity, day, _frame(entity, day, n, rng, offset * n))


def _month_end(months: int) -> date:
    first = date(
        START.year + (START.month - 1 + months) // 12, (START.month - 1 + months) % 12 + 1, 1
    )
    return first - timedelta(days=1)


def _commit(root: Path, build) -> None:
    for name in STATE_ASSETS:
        key = HISTORY if name == HISTORY else name.removesuffix("_state")
        warehouse.write_partition(root, name, build.day, build.tables[key])
    commit(root, build)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", default="6,12,24")
    parser.add_argument("--dir", default="/tmp/state_bench", type=Path)
    args = parser.parse_args()
    months = sorted(int(m) for m in args.months.split(","))
    shutil.rmtree(args.dir, ignore_errors=True)
    root = args.dir / "warehouse"
    started = time.perf_counter()
    write_zone(root, (_month_end(months[-1]) - START).days + 1)
    print(f"zone: {months[-1]} months written in {time.perf_counter() - started:.1f} s")
    print(
        "| history | rebuild s | incremental s | partitions read (rebuild / incremental) | state rows |"
    )
    print("|---|---|---|---|---|")
    for m in months:
        day, previous = _month_end(m), _month_end(m - 1)
        _commit(root, rebuild(root, previous, input_signatures(root, previous), "rebuilt"))
        t0 = time.perf_counter()
        full = rebuild(root, day, input_signatures(root, day), "rebuilt")
        t1 = time.perf_counter()
        inc = incremental_state(root, day)
        t2 = time.perf_counter()
        assert inc.base == previous, inc.note
        rows = sum(len(f) for f in inc.tables.values())
        print(
            f"| {m} months | {t1 - t0:.2f} | {t2 - t1:.2f} | {full.increment_partitions} / "
            f"{inc.increment_partitions} | {rows} |"
        )


if __name__ == "__main__":
    main()
