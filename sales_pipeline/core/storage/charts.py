"""PNG charts next to the tables: `<root>/_charts/<table>/date=D/<name>.png`.

'_' folders are not tables, so BI globs skip them. Written atomically like every warehouse file.
"""

from __future__ import annotations

import os
from datetime import date

from sales_pipeline.core.storage import fs
from sales_pipeline.core.storage.partitions import PARTITION_FIELD, day_text

CHARTS = "_charts"


def chart_path(
    root: str | os.PathLike | fs.Root, table: str, day: str | date, name: str
) -> fs.Root:
    return fs.as_root(root) / CHARTS / table / f"{PARTITION_FIELD}={day_text(day)}" / f"{name}.png"


def write_chart(
    root: str | os.PathLike | fs.Root, table: str, day: str | date, name: str, png: bytes
) -> fs.Root:
    return fs.write_bytes(chart_path(root, table, day, name), png)
