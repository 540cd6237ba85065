"""A small JSON memo (e.g. chosen forecast orders) under `<root>/_cache/<name>.json`.

It only memoises deterministic results, so losing it changes speed, never output.
"""

from __future__ import annotations

import json
import os

from sales_pipeline.core.storage import fs

MEMOS = "_cache"


class JsonCache(dict):
    """A dict loaded from the memo file (empty if absent), saved atomically by `save()`."""

    def __init__(self, root: str | os.PathLike | fs.Root, name: str) -> None:
        self.path = fs.as_root(root) / MEMOS / f"{name}.json"
        try:
            data = json.loads(fs.read_bytes(self.path).decode("utf-8"))
        except FileNotFoundError:
            data = {}
        super().__init__(data)

    def save(self) -> None:
        payload = json.dumps(dict(sorted(self.items())), indent=0).encode("utf-8")
        fs.write_bytes(self.path, payload)
