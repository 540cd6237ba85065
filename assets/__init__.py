"""Asset registry: one module per layer, each building its assets for the daily partitions.

Layers (= asset groups): ingest + clean (`assets/ingest`), state, segments, forecasts, churn, kpis.
Modules hold thin Dagster assets; the work is in pure sibling modules (`*_logic`, `ingest/*`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing a pure sibling (model workers do) must not load Dagster
    import dagster as dg

LayerBuilder = Callable[[Any], list[Any]]


def layer_builders() -> dict[str, LayerBuilder]:
    """Layer name -> builder. Imported lazily so importing a pure module never loads the graph."""
    from assets.ingest.assets import build_ingest_assets
    from assets.state import build_state_assets

    builders: dict[str, LayerBuilder] = {"ingest": build_ingest_assets, "state": build_state_assets}
    for layer in ("segments", "forecasts", "churn", "kpis"):
        try:
            module = __import__(f"assets.{layer}", fromlist=["build_assets"])
        except ModuleNotFoundError as exc:
            if exc.name != f"assets.{layer}":
                raise
            continue
        builders[layer] = module.build_assets
    return builders


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [asset for build in layer_builders().values() for asset in build(partitions_def)]
