"""Benchmark: peak memory of ingesting one large canonical opportunities CSV (default 2,000,000 rows).

The file is generated in this process; the ingest (read, parse, validate, dedup, atomic Parquet
writes) runs in a fresh child process, whose peak resident set size is the figure (goal: under
1.5 GB for 2,000,000 rows). Not a test: it prints what it measured.

    .venv/bin/python benchmarks/ingest_memory.py [--rows 2000000] [--dir /tmp/bench_mem]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2024, 6, 1)


def ingest(landing: Path, out: Path) -> None:
    """The child's work: one landing day ingested and written as the pipeline does it."""
    from assets.ingest.day import PriorState, ingest_day
    from assets.ingest.days import write_days
    from sales_pipeline.core.config import load_settings
    from sales_pipeline.core.resources import Warehouse
    from schemas import TABLES

    settings = load_settings({"landing": str(landing), "warehouse": str(out)}, environ={})
    empty = PriorState(fx_rates=TABLES["fx_rates"].empty_frame(), reps=TABLES["reps"].empty_frame())
    started = time.perf_counter()
    result = ingest_day(DAY, settings, empty)
    write_days(Warehouse.at(out), [result])  # the day's partitions as one all-or-none change
    audit = result.audit.iloc[0]
    print(
        f"rows read {audit['rows_read']:,}  clean {audit['rows_clean']:,}  "
        f"in {time.perf_counter() - started:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ingest(*args.child)
        return
    from crm_generator import write_opportunities_benchmark

    base = args.dir or Path(tempfile.mkdtemp(prefix="sales_bench_mem_"))
    landing, out = base / "landing", base / "warehouse"
    path = landing / DAY.isoformat() / "opportunities.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        write_opportunities_benchmark(path, rows=args.rows, seed=0)
    size_mb = path.stat().st_size / 1e6
    subprocess.run([sys.executable, __file__, "--child", str(landing), str(out)], check=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    print(f"file {size_mb:.0f} MB ({args.rows:,} rows); ingest peak RSS {peak_mb:,.0f} MB")
    print(f"peak RSS / file size: {peak_mb / size_mb:.1f}x (goal: under 1,500 MB)")


if __name__ == "__main__":
    main()
