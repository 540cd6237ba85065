"""Fitted models under `<root>/_models/<name>/<key>.npz`: named numpy arrays plus their JSON
metadata, never a pickle."""

from __future__ import annotations

import io
import json
import os

import numpy as np

from sales_pipeline.core.storage import fs


class ModelFiles:
    """Named numpy arrays plus their JSON metadata (stored as UTF-8 bytes in the `__meta__`
    array), read with `allow_pickle=False`.

    Keys name the refit Monday and hash the parameters and caps (`training.fitted_model`), not
    the data: a key is written once per week. Losing the folder costs a refit on the data cut at
    that Monday as it is now, so data dated <= Monday that landed later in the week can then
    change the week's remaining outputs (a rerun with the folder intact is byte-identical).
    """

    META = "__meta__"

    def __init__(self, root: str | os.PathLike | fs.Root) -> None:
        self.base = fs.as_root(root) / "_models"

    def _path(self, name: str, key: str) -> fs.Root:
        return self.base / name / f"{key}.npz"

    def get(self, name: str, key: str):
        try:
            payload = fs.read_bytes(self._path(name, key))
        except FileNotFoundError:
            return None
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != self.META}
            meta = json.loads(bytes(data[self.META]).decode("utf-8"))
        return meta, arrays

    def put(self, name: str, key: str, model) -> None:
        meta, arrays = model
        buffer = io.BytesIO()
        text = json.dumps(meta, sort_keys=True, default=str).encode("utf-8")
        np.savez_compressed(
            buffer,
            **{self.META: np.frombuffer(text, dtype=np.uint8)},
            **dict(sorted(arrays.items())),
        )
        fs.write_bytes(self._path(name, key), buffer.getvalue())
