"""Keep a large file's ingest within its memory bound: freed memory goes back to the OS.

Two allocators hold on to freed memory by default, and a large file's phases (parse, clean,
profile, write) each stack their peak on what the previous one freed but kept:

- glibc raises its mmap threshold to the size of each large block freed (up to 32 MB), after
  which column-sized numpy buffers live on the heap and are not returned when freed. Fixing the
  threshold (as `MALLOC_MMAP_THRESHOLD_` would, but from inside the process, so it holds for the
  CLI, `dagster dev` run workers and tests alike) keeps every large buffer an mmap of its own.
- Arrow's allocator (mimalloc) keeps freed pages cached until asked to release them.

One 2,000,000-row CSV (315 MB) peaked at 1,863 MB before, 1,339-1,373 MB with these and the
readers' and cleaning's own savings (docs/performance.md, the 1.5 GB bound).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def return_large_frees_to_os() -> bool:
    """Fix glibc's mmap threshold at 1 MB for this process (once); False off glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError, TypeError):
        return False


def release_arrow_memory() -> None:
    """Hand the pages Arrow's allocator cached back to the OS (cheap; call between phases)."""
    pa.default_memory_pool().release_unused()
