"""Benchmark: ingest one 1,000,000-row canonical opportunities export.

Prints, from the same run, the pipeline's time (read + detect + parse + validate + dedup +
atomic Parquet write) and the time of a raw `pyarrow.csv.read_csv` + `pyarrow.parquet.write_table`
of the same file, and their ratio (goal: at most 3x).

    .venv/bin/python benchmarks/ingest_1m.py [--rows 1000000] [--dir /tmp/bench]
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

    started = time.perf_counter()
    table = pacsv.read_csv(path)
    pq.write_table(table, base / "raw.parquet", compression="zstd")
    raw_seconds = time.perf_counter() - started

    settings = load_settings({"landing": str(landing), "warehouse": str(out)}, environ={})
    empty = PriorState(fx_rates=TABLES["fx_rates"].empty_frame(), reps=TABLES["reps"].empty_frame())
    started = time.perf_counter()
    result = ingest_day(DAY, settings, empty)
    for entity, frame in result.clean.items():
        warehouse.write_partition(out, entity, DAY, frame)
    warehouse.write_partition(out, "quarantine", DAY, result.quarantine)
    warehouse.write_partition(out, "ingest_audit", DAY, result.audit)
    ours = time.perf_counter() - started

    audit = result.audit.iloc[0]
    print(
        f"rows read {audit['rows_read']:,}  clean {audit['rows_clean']:,}  "
        f"quarantined {audit['rows_quarantined']:,}  duplicate {audit['rows_duplicate']:,}"
    )
    print(f"pyarrow read_csv + write_table: {raw_seconds:.2f}s")
    print(f"sales_pipeline ingest:          {ours:.2f}s")
    print(f"ratio: {ours / raw_seconds:.2f}x")


if __name__ == "__main__":
    main()
