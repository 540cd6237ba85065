"""The bottom layer of the orchestration package: settings, the warehouse and its IO manager,
partitions, check and metadata helpers.

Assets import from here; this package imports nothing from `assets`, from the rest of
`sales_pipeline` (definitions, jobs, schedules, sensors, runner, CLI) or from `crm_generator`
(`tests/unit/test_layering.py` enforces it).
"""
