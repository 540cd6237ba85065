"""Benchmark: peak memory of ingesting one large canonical opportunities CSV (default 2,000,000 rows).

The file is generated in this process; the ingest (read, parse, validate, dedup, atomic Parquet
writes) runs in a fresh child process, whose peak resident set size is the figure (goal: under
1.5 GB for 2,000,000 rows). A second child ingests a 1,000-row file first: its peak is the fixed
cost of the process (imports, pandera's backends), so the difference is what the file costs.
Not a test: it prints what it measured (`tests/integration/test_memory_bound.py` holds a smaller
file to the same per-MB bound).

    .venv/bin/python benchmarks/ingest_memory.py [--rows 2000000] [--dir /tmp/bench_mem]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DAY = date(2024, 6, 1)
GOAL_MB = 1_500
GOAL_ROWS = 2_000_000


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


@dataclass(frozen=True)
class Measurement:
    rows: int
    file_mb: float
    peak_mb: float
    """Peak RSS of the child that ingested the file."""
    fixed_mb: float
    """Peak RSS of the same child ingesting a 1,000-row file."""

    @property
    def per_file_mb(self) -> float:
        """Peak RSS above the fixed cost, per MB of file."""
        return (self.peak_mb - self.fixed_mb) / self.file_mb


def child_peak_mb(landing: Path, out: Path) -> float:
    """Peak RSS of one child ingesting `landing` (its own figure, not the max over children)."""
    script = Path(__file__).resolve()
    proc = subprocess.Popen([sys.executable, str(script), "--child", str(landing), str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    return usage.ru_maxrss / 1024  # Linux: KiB


def measure(rows: int, base: Path) -> Measurement:
    """Generate (once) and ingest a `rows`-row file and a 1,000-row one under `base`."""
    from crm_generator import write_opportunities_benchmark

    peaks = {}
    for n in (1_000, rows):
        landing = base / f"rows_{n}" / "landing"
        path = landing / DAY.isoformat() / "opportunities.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file():
            write_opportunities_benchmark(path, rows=n, seed=0)
        peaks[n] = (path.stat().st_size / 1e6, child_peak_mb(landing, base / f"rows_{n}" / "wh"))
    (file_mb, peak_mb), (_, fixed_mb) = peaks[rows], peaks[1_000]
    return Measurement(rows=rows, file_mb=file_mb, peak_mb=peak_mb, fixed_mb=fixed_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=GOAL_ROWS)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ingest(*args.child)
        return
    m = measure(args.rows, args.dir or Path(tempfile.mkdtemp(prefix="sales_bench_mem_")))
    print(f"file {m.file_mb:.0f} MB ({m.rows:,} rows); ingest peak RSS {m.peak_mb:,.0f} MB")
    print(f"fixed cost (1,000-row file) {m.fixed_mb:,.0f} MB; {m.per_file_mb:.2f} MB per file MB")
    print(f"goal: under {GOAL_MB:,} MB for {GOAL_ROWS:,} rows")


if __name__ == "__main__":
    main()
