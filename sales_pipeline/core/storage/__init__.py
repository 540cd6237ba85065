"""The warehouse's storage, one job per module: `fs` (where it lives: a local folder or an object
store, and writing one file atomically on either), `partitions` (Hive partition I/O), `read_cache`
(the process-wide cache of partition reads), `charts` (PNG files) and `memo` (JSON memos).
`sales_pipeline.core.warehouse` re-exports the public names."""
