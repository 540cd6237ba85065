"""Orchestration of sales_pipeline, in two layers.

- `sales_pipeline.core`: the bottom layer the assets build on (settings, warehouse, IO manager,
  partitions, check and metadata helpers). It imports nothing above it.
- this package's other modules: the top layer that assembles and runs the assets
  (`definitions`, `jobs`, `schedules`, `sensors`, `runner`, `cli`).
"""
