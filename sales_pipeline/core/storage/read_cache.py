"""The process-wide LRU cache of partition reads.

Partition files are immutable until replaced (which changes their signature: inode and mtime on
disk, ETag and last-modified on an object store), so a long-lived process (a CLI backfill, a code
server) can keep the ones it read: reading "every partition up to D" day after day would otherwise
cost O(days^2) file reads over a backfill. Keys carry the signature, so a replaced file misses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

import pyarrow as pa

LIMIT_BYTES = 512 * 1024 * 1024


class ReadCache:
    """Least-recently-used tables up to `limit_bytes` (always at least the newest one)."""

    def __init__(self, limit_bytes: int = LIMIT_BYTES) -> None:
        self.limit_bytes = limit_bytes
        self._tables: OrderedDict[Hashable, pa.Table] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, load: Callable[[], pa.Table]) -> pa.Table:
        cached = self._tables.get(key)
        if cached is not None:
            self._tables.move_to_end(key)
            return cached
        data = load()
        self._tables[key] = data
        self._bytes += data.nbytes
        while self._bytes > self.limit_bytes and len(self._tables) > 1:
            _, evicted = self._tables.popitem(last=False)
            self._bytes -= evicted.nbytes
        return data

    def clear(self) -> None:
        self._tables.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._tables)


CACHE = ReadCache()
"""The one cache of this process (reads of every warehouse share it)."""
