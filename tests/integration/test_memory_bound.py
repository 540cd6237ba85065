"""A large file's ingest stays within its memory bound (issue 11: 2,000,000 rows under 1.5 GB).

`benchmarks/ingest_memory.py` measures the goal itself at 2,000,000 rows (315 MB): peak RSS
1,863 MB before this bound was enforced, 1,339 MB after (docs/performance.md). CI runs a
smaller file, `SALES_PIPELINE_MEMORY_ROWS` rows (default 1,000,000, 158 MB), and holds what the
file costs above the process's fixed cost (a child ingesting a 1,000-row file: imports and
pandera's backends, ~200 MB) to 4.5 MB of peak RSS per MB of CSV. The code before measured 5.4
MB/MB at this size, the code after 3.8-4.0; the 2,000,000-row goal is 4.1 MB/MB. The figure is
peak RSS, not time: the machine's load does not move it.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.ingest_memory import measure

ROWS = int(os.environ.get("SALES_PIPELINE_MEMORY_ROWS", "1000000"))
MAX_MB_PER_FILE_MB = 4.5


@pytest.mark.slow
def test_a_large_csv_is_ingested_within_the_memory_bound(tmp_path):
    m = measure(ROWS, tmp_path)
    assert m.peak_mb > m.fixed_mb > 0
    assert m.per_file_mb <= MAX_MB_PER_FILE_MB, (
        f"{ROWS:,}-row CSV ({m.file_mb:.0f} MB): peak RSS {m.peak_mb:,.0f} MB, fixed cost "
        f"{m.fixed_mb:,.0f} MB, so {m.per_file_mb:.2f} MB per file MB "
        f"(bound {MAX_MB_PER_FILE_MB})"
    )
