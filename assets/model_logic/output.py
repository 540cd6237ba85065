"""The result type every model builder returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class ModelOutput:
    """Conformed tables by warehouse name, JSON-able metadata for the UI, and PNG charts."""

    tables: dict[str, pd.DataFrame]
    metadata: dict[str, object] = field(default_factory=dict)
    charts: dict[str, bytes] = field(default_factory=dict)
