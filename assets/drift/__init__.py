"""Schema drift: `profile` (one landing file's columns), `compare` (a day's profiles against the
last good ones of each source) and `gate` (apply the result to a day's ingest: drift rows, and
blocking where the settings say so). Pure functions, no Dagster."""
