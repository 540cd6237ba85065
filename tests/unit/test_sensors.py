"""The landing sensor: new and changed folders run, unchanged ones do not; run keys hash content."""

from __future__ import annotations

import json

import dagster as dg

from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs


def _tick(defs, cursor=None):
    sensor = defs.resolve_sensor_def("landing_folders")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=defs,
            resources={"settings": defs.resources["settings"]},
        )
        result = sensor.evaluate_tick(context)
    return result


def test_new_folder_then_unchanged_then_changed(tmp_path):
    landing = tmp_path / "landing"
    (landing / "2024-01-02").mkdir(parents=True)
    (landing / "2024-01-02" / "orders.csv").write_text("order_id\n1\n")
    (landing / "not-a-day").mkdir()
    defs = build_defs(
        settings=PipelineSettings(landing=str(landing), warehouse=str(tmp_path / "w"))
    )

    first = _tick(defs)
    assert [r.partition_key for r in first.run_requests] == ["2024-01-02"]
    key = first.run_requests[0].run_key
    assert key.startswith("2024-01-02:") and len(key.split(":")[1]) == 16

    again = _tick(defs, first.cursor)
    assert again.run_requests == [] or again.run_requests is None or not again.run_requests

    (landing / "2024-01-02" / "orders.csv").write_text("order_id\n1\n2\n")
    changed = _tick(defs, first.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2024-01-02"]
    assert changed.run_requests[0].run_key != key
    assert "2024-01-02" in json.loads(changed.cursor)
