"""Settings are validated once, up front: every bad value, wrong type or unknown key is an error
naming the key and where its value came from; the PII key never leaves the process."""

import dagster as dg
import pandas as pd
import pytest
from click.testing import CliRunner

from sales_pipeline.cli import main
from sales_pipeline.core.config import (
    ENV_VARS,
    Settings,
    SettingsError,
    load_settings,
    require_landing,
)
from sales_pipeline.core.resources import PipelineSettings, Warehouse
from sales_pipeline.definitions import build_defs
from schemas.thresholds import Thresholds


def _file(tmp_path, text: str, name: str = "settings.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load_file(path, **env):
    return load_settings(environ={"SALES_PIPELINE_SETTINGS": str(path), **env})


def test_env_var_names_are_the_contracts():
    assert ENV_VARS == {
        "landing": "SALES_PIPELINE_LANDING",
        "warehouse": "SALES_PIPELINE_WAREHOUSE",
        "start_date": "SALES_PIPELINE_START_DATE",
        "timezone": "SALES_PIPELINE_TIMEZONE",
        "currency": "SALES_PIPELINE_CURRENCY",
        "pii_key": "SALES_PIPELINE_PII_KEY",
        "max_quarantine": "SALES_PIPELINE_MAX_QUARANTINE",
        "revenue_source": "SALES_PIPELINE_REVENUE_SOURCE",
        "settings_file": "SALES_PIPELINE_SETTINGS",
    }


def test_each_layer_wins_over_the_next_and_is_named_as_origin(tmp_path):
    file = _file(tmp_path, 'currency = "EUR"\ntimezone = "Europe/Berlin"\nmax_quarantine = 0.1\n')
    env = {"SALES_PIPELINE_SETTINGS": str(file), "SALES_PIPELINE_TIMEZONE": "Asia/Tokyo"}
    s = load_settings({"max_quarantine": 0.3}, environ=env)
    assert (s.currency, s.timezone, s.max_quarantine, s.revenue_source) == (
        "EUR",
        "Asia/Tokyo",
        0.3,
        "auto",
    )
    assert s.origin("currency") == f"settings file {file}"
    assert s.origin("timezone") == "$SALES_PIPELINE_TIMEZONE"
    assert s.origin("max_quarantine") == "override"
    assert s.origin("revenue_source") == "default"


def test_an_empty_environment_variable_counts_as_unset():
    assert load_settings(environ={"SALES_PIPELINE_CURRENCY": ""}).currency == "USD"


@pytest.mark.parametrize(
    ("toml", "key", "reason"),
    [
        ("[thresholds]\nwin_rate_min = -0.1\n", "thresholds.win_rate_min", "greater than or equal"),
        ("[thresholds]\nforecast_horizon = -5\n", "thresholds.forecast_horizon", "greater than"),
        ("[thresholds]\nsegments_k_min = -1\n", "thresholds.segments_k_min", "greater than"),
        ("[thresholds]\nchurn_high = 1.5\n", "thresholds.churn_high", "less than or equal"),
        ("[thresholds]\nmin_closed_deals = 0\n", "thresholds.min_closed_deals", "greater than"),
        ("[thresholds]\nsales_cycle_max_days = 0\n", "thresholds.sales_cycle_max_days", "greater"),
        ("[thresholds]\nkey_account_revenue = -1\n", "thresholds.key_account_revenue", "greater"),
        ("[thresholds]\nforecast_horizon = 2.7\n", "thresholds.forecast_horizon", "integer"),
        ("[thresholds]\nattainment_months = 2.5\n", "thresholds.attainment_months", "integer"),
        ("[thresholds]\nwin_rate_min = true\n", "thresholds.win_rate_min", "boolean"),
        ("[thresholds]\nmin_closed_deals = true\n", "thresholds.min_closed_deals", "boolean"),
        ("[thresholds]\nwin_rate_min = nan\n", "thresholds.win_rate_min", "finite"),
        ('[thresholds]\nwin_rate_min = "high"\n', "thresholds.win_rate_min", "number"),
        (
            "[thresholds]\nsegments_k_min = 6\nsegments_k_max = 4\n",
            "segments_k_min (6) must not exceed segments_k_max (4)",
            "",
        ),
        (
            "[thresholds]\nchurn_medium = 0.6\n",
            "churn_medium (0.6) must not exceed churn_high (0.5)",
            "",
        ),
        ("max_quarantine = true\n", "max_quarantine", "boolean"),
        ("max_quarantine = 1.5\n", "max_quarantine", "less than or equal"),
        ('revenue_source = "invoices"\n', "revenue_source", "orders"),
        ("start_date = 20240101\n", "start_date", "expected text"),
        ("currency = 978\n", "currency", "expected text"),
        ('currency = "EURO"\n', "currency", "3-letter"),
        ('timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
        ('[entities.orders]\nload_mode = "full"\n', "entities.orders.load_mode", "delta"),
        ('[entities.orders]\ndate_order = { order_date = "ymd" }\n', "date_order", "day_first"),
        ('[stages]\nWon = "closed_wonn"\n', "stages.Won", "closed_won"),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path, toml, key, reason):
    file = _file(tmp_path, toml)
    with pytest.raises(SettingsError) as caught:
        _load_file(file)
    message = str(caught.value)
    assert key in message and reason in message and f"settings file {file}" in message


@pytest.mark.parametrize(
    ("toml", "hint"),
    [
        ("max_quarantin = 0.1\n", "unknown setting 'max_quarantin'.*did you mean 'max_quarantine'"),
        (
            '[entities.oportunities]\nfile_patterns = ["deals_*"]\n',
            "unknown setting 'oportunities'.*did you mean 'opportunities'",
        ),
        (
            '[entities.orders]\nload_mod = "snapshot"\n',
            "'entities.orders.load_mod'.*did you mean 'entities.orders.load_mode'",
        ),
        (
            "[thresholds]\nwin_rate = 0.3\n",
            "'thresholds.win_rate'.*did you mean 'thresholds.win_rate_min'",
        ),
        ("[nonsense]\nx = 1\n", "unknown setting 'nonsense'.*known: landing"),
    ],
)
def test_unknown_keys_anywhere_are_errors_with_a_hint(tmp_path, toml, hint):
    with pytest.raises(SettingsError, match=hint):
        _load_file(_file(tmp_path, toml))


def test_yaml_is_validated_the_same_way(tmp_path):
    file = _file(tmp_path, "thresholds:\n  forecast_horizon: 2.7\n", "settings.yaml")
    with pytest.raises(SettingsError, match="thresholds.forecast_horizon.*integer"):
        _load_file(file)


def test_several_errors_are_reported_together(tmp_path):
    file = _file(tmp_path, "max_quarantin = 0.1\n[thresholds]\nwin_rate_min = -1\n")
    with pytest.raises(SettingsError) as caught:
        _load_file(file)
    assert "max_quarantin" in str(caught.value) and "win_rate_min" in str(caught.value)


@pytest.mark.parametrize(
    ("var", "value", "key"),
    [
        ("SALES_PIPELINE_MAX_QUARANTINE", "true", "max_quarantine"),
        ("SALES_PIPELINE_MAX_QUARANTINE", "-0.1", "max_quarantine"),
        ("SALES_PIPELINE_START_DATE", "yesterday", "start_date"),
    ],
)
def test_bad_environment_values_name_the_variable(var, value, key):
    with pytest.raises(SettingsError, match=rf"setting {key} .*\(from \${var}\)"):
        load_settings(environ={var: value})


def test_unknown_override_is_an_error():
    with pytest.raises(SettingsError, match="did you mean 'warehouse'"):
        load_settings({"warehose": "/tmp/w"}, environ={})


def test_valid_thresholds_are_typed_exactly(tmp_path):
    file = _file(tmp_path, "[thresholds]\nsales_cycle_max_days = 120\nsegments_k_max = 6\n")
    t = _load_file(file).thresholds
    assert t.sales_cycle_max_days == 120.0 and isinstance(t.sales_cycle_max_days, float)
    assert t.segments_k_max == 6 and t == Thresholds(sales_cycle_max_days=120, segments_k_max=6)


def test_the_pii_key_never_leaves_the_process(tmp_path):
    secret = "s3cr3t-pii-key-value"
    s = load_settings(environ={"SALES_PIPELINE_PII_KEY": secret})
    assert s.pii_key == secret
    assert secret not in repr(s) and secret not in str(s)
    assert "pii_key" not in s.model_dump() and secret not in s.model_dump_json()
    # Not part of the run-config surface, so it cannot reach the launchpad or run records.
    assert "pii_key" not in PipelineSettings.model_fields
    # A wrong type in the file is reported without echoing the value.
    file = _file(tmp_path, "pii_key = 1234567890123\n")
    with pytest.raises(SettingsError) as caught:
        _load_file(file)
    assert "pii_key" in str(caught.value) and "1234567890123" not in str(caught.value)


def test_run_config_fields_are_settings_fields():
    """The resource is the run-config surface of the one declaration, not a second list."""
    assert set(PipelineSettings.model_fields) <= set(Settings.model_fields)


def test_a_missing_landing_root_is_a_settings_error(tmp_path):
    s = load_settings({"landing": str(tmp_path / "nope")}, environ={})
    with pytest.raises(
        SettingsError, match=r"landing = .*nope.* \(from override\): .*does not exist"
    ):
        require_landing(s)
    require_landing(load_settings({"landing": str(tmp_path)}, environ={}))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--landing", "{tmp}/missing"], "does not exist"),
        (["--landing", "{tmp}", "--settings", "{tmp}/bad.toml"], "did you mean 'max_quarantine'"),
    ],
)
def test_run_exits_2_on_bad_settings(tmp_path, extra, expected):
    (tmp_path / "bad.toml").write_text("max_quarantin = 0.1\n", encoding="utf-8")
    args = ["run", "--from", "2024-01-01", "--to", "2024-01-01"]
    args += [a.format(tmp=tmp_path) for a in extra] + ["--warehouse", str(tmp_path / "w")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "w").exists()


def test_settings_are_resolved_once_per_run(tmp_path, monkeypatch):
    """Every asset, the warehouse and the IO manager of a run share one resolution."""
    from sales_pipeline.core import resources

    defs = build_defs(settings=PipelineSettings(landing=str(tmp_path), warehouse=str(tmp_path)))
    calls = []
    real = resources.load_settings
    monkeypatch.setattr(
        resources, "load_settings", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    partitions = dg.DailyPartitionsDefinition("2024-01-01")

    @dg.asset(partitions_def=partitions)
    def first(settings: PipelineSettings) -> None:
        assert settings.resolve().landing == tmp_path

    @dg.asset(name="fx_rates", deps=[first], partitions_def=partitions)
    def second(settings: PipelineSettings, warehouse: Warehouse) -> pd.DataFrame:
        assert settings.resolve().landing == warehouse.root == tmp_path
        return pd.DataFrame(
            {
                "rate_date": [pd.Timestamp("2024-01-02")],
                "currency": ["EUR"],
                "rate": [1.1],
                "updated_at": pd.Timestamp("2024-01-02", tz="UTC"),
                "is_deleted": False,
                "_source_file": "2024-01-02/fx_rates.csv",
                "_source_row": 1,
            }
        )

    result = dg.materialize([first, second], partition_key="2024-01-02", resources=defs.resources)
    assert result.success and (tmp_path / "fx_rates" / "date=2024-01-02").is_dir()
    assert len(calls) == 1
