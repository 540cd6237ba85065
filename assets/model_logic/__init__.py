"""Models as pure functions of an as-of Snapshot (no Dagster, no I/O, no pickles).

Each builder reads only the snapshot as of D (events dated after D are ignored), is deterministic
(fixed random_state, same inputs -> identical outputs), and returns its conformed tables with its
honest evaluation, JSON-able metadata and PNG charts in a `ModelOutput`.
"""

from __future__ import annotations

from assets.model_logic.churn import build_churn
from assets.model_logic.forecasts import build_sales_forecast
from assets.model_logic.output import ModelOutput
from assets.model_logic.probabilistic_clv import build_customer_clv
from assets.model_logic.propensity import build_propensity
from assets.model_logic.segments import build_customer_segments

__all__ = [
    "ModelOutput",
    "build_churn",
    "build_customer_clv",
    "build_customer_segments",
    "build_propensity",
    "build_sales_forecast",
]
