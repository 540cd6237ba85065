"""The warehouse's public face: `from sales_pipeline.core import warehouse` for every caller.

The work is split by job under `sales_pipeline/core/storage/`: `fs` (local folder or object store
through fsspec, atomic file writes), `partitions` (Hive partition I/O and windowed reads),
`read_cache`, `charts` and `memo`. This module only re-exports their public names.
"""

from __future__ import annotations

import os  # noqa: F401  (tests patch `warehouse.os.replace`)

import pyarrow.parquet as pq  # noqa: F401  (tests patch `warehouse.pq.write_table`)

from sales_pipeline.core.storage.charts import write_chart
from sales_pipeline.core.storage.fs import (
    Root,
    as_root,
    is_remote,
    read_bytes,
    signature,
    write_bytes,
)
from sales_pipeline.core.storage.memo import JsonCache
from sales_pipeline.core.storage.models import ModelFiles
from sales_pipeline.core.storage.partitions import (
    PART_FILE,
    PARTITION_FIELD,
    Committed,
    StagedPartition,
    WarehouseWriteError,
    commit,
    discard,
    has_partition,
    list_partitions,
    partition_dir,
    partition_path,
    partition_signature,
    partition_signatures,
    read_partition,
    read_window,
    stage_partition,
    write_partition,
    write_partitions,
)
from sales_pipeline.core.storage.read_cache import CACHE as READ_CACHE

__all__ = [
    "PART_FILE",
    "PARTITION_FIELD",
    "READ_CACHE",
    "Committed",
    "JsonCache",
    "ModelFiles",
    "Root",
    "StagedPartition",
    "WarehouseWriteError",
    "as_root",
    "commit",
    "discard",
    "has_partition",
    "is_remote",
    "list_partitions",
    "partition_dir",
    "partition_path",
    "partition_signature",
    "partition_signatures",
    "read_bytes",
    "read_partition",
    "read_window",
    "signature",
    "stage_partition",
    "write_bytes",
    "write_chart",
    "write_partition",
    "write_partitions",
]
