"""Benchmark: ingest one 1,000,000-row canonical opportunities export.

Prints, from the same run, the pipeline's time (read + detect + parse + validate + dedup +
atomic Parquet write) and the time of a raw `pyarrow.csv.read_csv` + `pyarrow.parquet.write_table`
of the same file, and their ratio (goal: at most 3x). Both are timed `--repeat` times, interleaved,
and the best of each is kept (a shared machine only ever makes a run slower); wall and CPU time
(all threads) are both reported. One small ingest runs first, untimed, so one-off costs of the
process (pandera registers its backends on the first validation) are not billed to the file.

    .venv/bin/python benchmarks/ingest_1m.py [--rows 1000000] [--dir /tmp/bench] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from assets.ingest.day import PriorState, ingest_day
from crm_generator import write_opportunities_benchmark
from sales_pipeline.core import warehouse
from sales_pipeline.core.config import load_settings
from schemas import TABLES

DAY = date(2024, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="sales_bench_"))
    landing, out = base / "landing", base / "warehouse"
    day_dir = landing / DAY.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    path = write_opportunities_benchmark(day_dir / "opportunities.csv", rows=args.rows, seed=0)
    print(
        f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s"
    )

    settings = load_settings({"landing": str(landing), "warehouse": str(out)}, environ={})
    empty = PriorState(fx_rates=TABLES["fx_rates"].empty_frame(), reps=TABLES["reps"].empty_frame())
    _warm_up(base, empty)

    def raw() -> None:
        pq.write_table(pacsv.read_csv(path), base / "raw.parquet", compression="zstd")

    def ours() -> None:
        nonlocal result
        result = ingest_day(DAY, settings, empty)
        for entity, frame in result.clean.items():
            warehouse.write_partition(out, entity, DAY, frame)
        warehouse.write_partition(out, "quarantine", DAY, result.quarantine)
        warehouse.write_partition(out, "ingest_audit", DAY, result.audit)

    result = None
    raw_times, our_times = [], []
    for _ in range(args.repeat):
        raw_times.append(_timed(raw))
        our_times.append(_timed(ours))
    raw_wall, raw_cpu = min(t[0] for t in raw_times), min(t[1] for t in raw_times)
    our_wall, our_cpu = min(t[0] for t in our_times), min(t[1] for t in our_times)

    audit = result.audit.iloc[0]
    print(
        f"rows read {audit['rows_read']:,}  clean {audit['rows_clean']:,}  "
        f"quarantined {audit['rows_quarantined']:,}  duplicate {audit['rows_duplicate']:,}"
    )
    print(f"best of {args.repeat}         wall s   cpu s")
    print(f"pyarrow read + write  {raw_wall:7.2f} {raw_cpu:7.2f}")
    print(f"sales_pipeline ingest {our_wall:7.2f} {our_cpu:7.2f}")
    print(f"ratio                 {our_wall / raw_wall:6.2f}x {our_cpu / raw_cpu:6.2f}x")


def _timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _warm_up(base: Path, empty: PriorState) -> None:
    """One tiny ingest, untimed: imports and pandera's backend registration happen once."""
    landing = base / "warm" / "landing"
    write_opportunities_benchmark(landing / DAY.isoformat() / "opportunities.csv", rows=100, seed=1)
    settings = load_settings({"landing": str(landing), "warehouse": str(base / "warm")}, environ={})
    ingest_day(DAY, settings, empty)


if __name__ == "__main__":
    main()
