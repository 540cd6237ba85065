"""Shared fixtures: isolated settings (no real data dir, no secrets) and a temp warehouse."""

from __future__ import annotations

import pytest

from sales_pipeline.core.config import ENV_VARS

# `s3_endpoint` / `s3_bucket`: a moto S3 server on loopback for the object-storage tests.
pytest_plugins = ["tests.s3_server"]


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """Tests never see the developer's settings; DAGSTER_HOME lives in the test's temp dir."""
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    yield


@pytest.fixture
def warehouse_root(tmp_path):
    root = tmp_path / "warehouse"
    root.mkdir()
    return root
