"""Parquet IO manager: persists each asset partition with its table's Arrow schema, nothing else.

Transforms, renames and validation belong to the assets; this module only writes and reads the
warehouse layout of `warehouse.py`, through the `Warehouse` resource the assets read through too.
"""

import dagster as dg
import pandas as pd

from sales_pipeline.core import warehouse as storage
from sales_pipeline.core.resources import Warehouse


class ParquetIOManager(dg.ConfigurableIOManager):
    """Hive-partitioned Parquet: `<root>/<table>/date=YYYY-MM-DD/part-0.parquet`."""

    warehouse: dg.ResourceDependency[Warehouse]

    def handle_output(
        self, context: dg.OutputContext, obj: pd.DataFrame | dict | storage.Committed
    ) -> None:
        if isinstance(obj, storage.Committed):
            # The asset wrote several tables as one change (`warehouse.write_partitions`).
            context.add_output_metadata(
                {
                    "path": dg.MetadataValue.path(str(obj.paths[0] if obj.paths else "")),
                    "dagster/row_count": obj.rows,
                    "partitions": len(obj.paths),
                }
            )
            return
        if context.has_asset_partitions and len(context.asset_partition_keys) > 1:
            self._handle_range(context, obj)
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}"
            )
        if not context.has_asset_partitions:
            raise ValueError(
                f"{context.asset_key.to_user_string()}: every warehouse table is partitioned by day"
            )
        table = context.asset_key.path[-1]
        path = self.warehouse.write_partition(table, context.asset_partition_key, obj)
        context.add_output_metadata(
            {"path": dg.MetadataValue.path(str(path)), "dagster/row_count": len(obj)}
        )

    def _handle_range(self, context: dg.OutputContext, obj: dict) -> None:
        """A single-run backfill hands one {partition key: frame} for all its days."""
        keys = list(context.asset_partition_keys)
        name = context.asset_key.to_user_string()
        if not isinstance(obj, dict) or sorted(obj) != sorted(keys):
            raise TypeError(
                f"{name}: a run over {len(keys)} partitions must output a frame for each of them"
            )
        table = context.asset_key.path[-1]
        for key in keys:
            if not isinstance(obj[key], pd.DataFrame):
                raise TypeError(
                    f"{name}[{key}]: expected a pandas DataFrame, got {type(obj[key]).__name__}"
                )
            self.warehouse.write_partition(table, key, obj[key])
        rows = sum(len(frame) for frame in obj.values())
        context.add_output_metadata(
            {
                "path": dg.MetadataValue.path(str(self.warehouse.root / table)),
                "dagster/row_count": rows,
                "partitions": len(keys),
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = (
            context.upstream_output.asset_key.path[-1]
            if context.upstream_output
            else context.asset_key.path[-1]
        )
        keys = context.asset_partition_keys
        if len(keys) == 1:
            return self.warehouse.read_partition(table, keys[0])
        return self.warehouse.read_window(table, start=min(keys), end=max(keys))
