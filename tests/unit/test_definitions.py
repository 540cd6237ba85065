"""Guards on the asset graph: names, groups, checks, jobs, schedule, sensor (runs offline)."""

from __future__ import annotations

import dagster as dg
import pytest

from sales_pipeline.definitions import build_defs
from schemas import SCHEMAS, TABLES

EXPECTED_GROUPS = {
    "ingest": {"quarantine", "ingest_audit", "schema_profile", "schema_drift"},
    "clean": {
        "accounts",
        "contacts",
        "opportunities",
        "orders",
        "activities",
        "reps",
        "campaigns",
        "targets",
        "fx_rates",
    },
    "state": {
        f"{e}_state"
        for e in (
            "accounts",
            "contacts",
            "opportunities",
            "orders",
            "activities",
            "reps",
            "campaigns",
            "targets",
            "fx_rates",
        )
    }
    | {"opportunity_history"},
    "segments": {"customer_segments", "customer_clv", "clv_model_report"},
    "forecasts": {"sales_forecast", "forecast_backtest"},
    "churn": {
        "churn_scores",
        "churn_model_report",
        "customer_propensity",
        "propensity_model_report",
    },
    "kpis": {"kpi_summary", "kpi_funnel", "campaign_roi", "kpi_alerts"},
}


@pytest.fixture(scope="module")
def defs():
    return build_defs()


def _specs(defs):
    return {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}


def test_groups_and_names_follow_the_contract(defs):
    groups: dict[str, set[str]] = {}
    for name, spec in _specs(defs).items():
        groups.setdefault(spec.group_name, set()).add(name)
    assert groups == EXPECTED_GROUPS


def test_every_asset_is_a_declared_table_with_a_schema_check(defs):
    specs = _specs(defs)
    assert set(specs) <= set(TABLES) and set(specs) <= set(SCHEMAS)
    checked = {
        key.asset_key.to_user_string()
        for key in defs.resolve_asset_graph().asset_check_keys
        if key.name == "schema_valid"
    }
    assert checked == set(specs)


def test_assets_have_descriptions_kinds_owners(defs):
    for name, spec in _specs(defs).items():
        assert spec.description, name
        assert "parquet" in spec.kinds, name
        assert spec.owners, name


def test_jobs_schedule_and_sensor_resolve(defs):
    for job in ("ingest_job", "analytics_job", "daily_job"):
        assert defs.resolve_job_def(job)
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("landing_folders")


def test_partitions_follow_settings(monkeypatch):
    monkeypatch.setenv("SALES_PIPELINE_START_DATE", "2023-05-01")
    monkeypatch.setenv("SALES_PIPELINE_TIMEZONE", "Europe/Berlin")
    defs = build_defs()
    partitions = defs.resolve_job_def("daily_job").partitions_def
    assert partitions.get_first_partition_key() == "2023-05-01"
    assert partitions.timezone == "Europe/Berlin"
    assert defs.resolve_schedule_def("nightly").execution_timezone == "Europe/Berlin"


def test_definitions_module_is_lazy(monkeypatch):
    """Importing the module builds nothing: the settings are read when Dagster loads `defs`."""
    import importlib

    import sales_pipeline.definitions as module

    monkeypatch.setenv("SALES_PIPELINE_START_DATE", "not a date")
    importlib.reload(module)  # would raise if the import read the settings
    monkeypatch.setenv("SALES_PIPELINE_START_DATE", "2024-02-01")
    loaded = module.defs() if callable(module.defs) else module.defs
    assert isinstance(loaded, dg.Definitions)
