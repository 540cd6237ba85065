"""Settings precedence: explicit > environment > settings file > default."""

from __future__ import annotations

from datetime import date

import pytest

from sales_pipeline.core.config import SettingsError, load_settings


def test_defaults():
    s = load_settings(environ={})
    assert (str(s.landing), str(s.warehouse), s.start_date, s.timezone, s.currency) == (
        "data/landing",
        "data/warehouse",
        date(2024, 1, 1),
        "UTC",
        "USD",
    )
    assert s.pii_key is None and s.max_quarantine == 0.05 and s.revenue_source == "auto"
    assert (
        s.dagster_home.name == "dagster_home"
        and s.dagster_home.parent == s.warehouse.resolve().parent
    )


def test_env_beats_file_beats_default(tmp_path):
    file = tmp_path / "settings.toml"
    file.write_text(
        'currency = "EUR"\ntimezone = "Europe/Berlin"\nmax_quarantine = 0.1\n'
        '[entities.opportunities]\nfile_patterns = ["deals_*"]\naliases = { "Deal Name" = "opportunity_id" }\n'
        '[stages]\nWon = "closed_won"\n[thresholds]\nwin_rate_min = 0.3\n'
    )
    env = {"SALES_PIPELINE_SETTINGS": str(file), "SALES_PIPELINE_CURRENCY": "gbp"}
    s = load_settings(environ=env)
    assert s.currency == "GBP" and s.timezone == "Europe/Berlin" and s.max_quarantine == 0.1
    assert s.entity("opportunities").file_patterns == ("deals_*",)
    assert s.stages == {"Won": "closed_won"} and s.thresholds.win_rate_min == 0.3
    assert load_settings({"currency": "JPY"}, environ=env).currency == "JPY"


def test_yaml_settings_and_relative_paths(tmp_path):
    file = tmp_path / "conf" / "settings.yaml"
    file.parent.mkdir()
    file.write_text("landing: landing\nrevenue_source: won_opportunities\n")
    s = load_settings(environ={"SALES_PIPELINE_SETTINGS": str(file)})
    assert (
        s.landing == file.parent.resolve() / "landing" and s.revenue_source == "won_opportunities"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SALES_PIPELINE_MAX_QUARANTINE": "2"}, "max_quarantine"),
        ({"SALES_PIPELINE_REVENUE_SOURCE": "invoices"}, "revenue_source"),
        ({"SALES_PIPELINE_TIMEZONE": "Mars/Olympus"}, "timezone"),
        ({"SALES_PIPELINE_START_DATE": "yesterday"}, "start_date"),
        ({"SALES_PIPELINE_SETTINGS": "/nonexistent.toml"}, "does not exist"),
    ],
)
def test_bad_settings_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=env)
