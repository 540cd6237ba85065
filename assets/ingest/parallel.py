"""Column-by-column work of a large file, side by side on the machine's cores.

Arrow's compute kernels release the GIL, so the per-column parses and profiles of a large file
(and the duplicate counts of its key buckets) run in parallel threads; a small daily file is
not worth a thread pool (its work per column is shorter than handing it to a thread).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

PARALLEL_MIN_ROWS = 50_000
THREADS = max(1, min(4, os.cpu_count() or 1))

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_columns(work: Callable[[Item], Result], items: Iterable[Item], rows: int) -> list[Result]:
    """`[work(item) for item in items]`, in order; on a thread pool when the file is large."""
    items = list(items)
    if rows < PARALLEL_MIN_ROWS or THREADS == 1 or len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(work, items))
