"""The day gate through `dg.materialize`: a landing day with a blocked file gets no state and no
analytics at all (every analytics asset of that day fails or is skipped, nothing is written),
while a good day's state builds; a day never ingested is gated the same way."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sales_pipeline.core import warehouse
from sales_pipeline.core.resources import PipelineSettings
from sales_pipeline.definitions import build_defs
from sales_pipeline.jobs import ANALYTICS_GROUPS
from tests.integration.landing_fixture import DAY1

GOOD, BLOCKED, NEVER = "2024-01-01", "2024-01-02", "2024-01-03"


@pytest.fixture
def defs(tmp_path: Path) -> dg.Definitions:
    landing = tmp_path / "landing"
    for day, files in ((GOOD, DAY1), (BLOCKED, {"orders.csv": ""})):  # zero bytes: empty_file
        (landing / day).mkdir(parents=True)
        for name, text in files.items():
            (landing / day / name).write_text(text, encoding="utf-8")
    return build_defs(
        settings=PipelineSettings(
            landing=str(landing), warehouse=str(tmp_path / "warehouse"), max_quarantine=0.5
        )
    )


def _analytics(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []),
        selection=dg.AssetSelection.groups(*ANALYTICS_GROUPS),
        partition_key=day,
        resources=defs.resources,
        raise_on_error=False,
    )


def _analytics_keys(defs: dg.Definitions) -> list[str]:
    graph = defs.resolve_asset_graph()
    return sorted(
        k.to_user_string() for k in dg.AssetSelection.groups(*ANALYTICS_GROUPS).resolve(graph)
    )


def _failure_text(event: dg.DagsterEvent) -> str:
    error, texts = event.event_specific_data.error, []
    while error is not None:
        texts.append(error.message)
        error = error.cause
    return " ".join(texts)


def _ingest(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("ingest_job").execute_in_process(
        partition_key=day, raise_on_error=False
    )


def test_a_blocked_day_gets_no_analytics(defs: dg.Definitions, tmp_path: Path) -> None:
    assert _ingest(defs, GOOD).success
    assert not _ingest(defs, BLOCKED).success  # the empty orders file blocks the day
    root = tmp_path / "warehouse"
    audit = warehouse.read_partition(root, "ingest_audit", BLOCKED)
    assert audit["status"].tolist() == ["blocked"]

    result = _analytics(defs, BLOCKED)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["state"]
    assert "2024-01-02 is blocked" in _failure_text(failures[0])
    assert result.get_asset_materialization_events() == []
    for name in _analytics_keys(defs):
        assert not warehouse.has_partition(root, name, BLOCKED), name

    # The gate is about the day, not the pipeline: the good day's state builds.
    state = dg.materialize(
        [a for a in defs.assets or [] if a.node_def.name == "state"],
        partition_key=GOOD,
        resources=defs.resources,
    )
    assert state.success and warehouse.has_partition(root, "opportunities_state", GOOD)


def test_a_day_never_ingested_gets_no_analytics(defs: dg.Definitions, tmp_path: Path) -> None:
    assert _ingest(defs, GOOD).success
    result = _analytics(defs, NEVER)
    assert not result.success
    assert result.get_asset_materialization_events() == []
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not ingested" in _failure_text(failure)
    assert not any(
        warehouse.has_partition(tmp_path / "warehouse", name, NEVER)
        for name in _analytics_keys(defs)
    )
