"""Dagster resources: the settings of contract section 1, and the default resources dict."""

from __future__ import annotations

from typing import Any

import dagster as dg

from sales_pipeline.core.config import Settings, load_settings


class PipelineSettings(dg.ConfigurableResource):
    """Pipeline settings. Unset fields fall back to the environment, the settings file, then defaults.

    Explicit values (CLI flags, tests) win over the environment; see `config.load_settings`.
    """

    landing: str | None = None
    warehouse: str | None = None
    start_date: str | None = None
    timezone: str | None = None
    currency: str | None = None
    max_quarantine: float | None = None
    revenue_source: str | None = None
    settings_file: str | None = None

    def resolve(self) -> Settings:
        overrides: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "landing",
                "warehouse",
                "start_date",
                "timezone",
                "currency",
                "max_quarantine",
                "revenue_source",
                "settings_file",
            )
        }
        # The PII key is a secret: it only ever comes from the environment (or settings file),
        # never from run config, so it cannot appear in the UI's launchpad or run records.
        return load_settings(overrides)
