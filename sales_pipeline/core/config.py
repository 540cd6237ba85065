"""Settings: contract section 1, resolved as environment variable > settings file > default.

Pure Python (no Dagster): read at run time by the resource in `resources.py`, the CLI and the
definitions factory, never at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from schemas.drift import DRIFT_KINDS

ENV_VARS: dict[str, str] = {
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
REVENUE_SOURCES = ("orders", "won_opportunities", "auto")
LOAD_MODES = ("delta", "snapshot")


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the setting and where it came from."""


@dataclass(frozen=True)
class EntityOptions:
    """Per-entity options from the settings file."""

    file_patterns: tuple[str, ...] = ()
    aliases: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    """their header -> canonical column, or several columns (a name that is also the ID)."""
    load_mode: str = "delta"
    date_order: Mapping[str, str] = field(default_factory=dict)
    """column -> 'month_first' | 'day_first': overrides detection when every value is ambiguous."""


@dataclass(frozen=True)
class Thresholds:
    """Every overridable threshold named in the contract (defaults are the contract's)."""

    attainment_min: float = 0.8
    attainment_months: int = 3
    attainment_streak_max_age_months: int = 0
    """0: attainment_low only for streaks still running in the latest completed month."""
    win_rate_min: float = 0.2
    sales_cycle_max_days: float = 90.0
    churn_high_share_max: float = 0.2
    min_closed_deals: int = 10
    churn_high: float = 0.5
    churn_medium: float = 0.2
    key_account_revenue: float = 5_000_000.0
    key_account_years: int = 3
    forecast_horizon: int = 90
    segments_k_min: int = 3
    segments_k_max: int = 8
    clv_horizon_days: int = 365
    clv_discount_rate: float = 0.10
    """Annual, compounded to each 30-day step of the CLV horizon."""
    drift_alert_days: int = 7
    max_snapshot_drop: float = 0.5
    """A full snapshot deleting more than this share of the live records is blocked."""


@dataclass(frozen=True)
class Settings:
    landing: Path = Path("data/landing")
    warehouse: Path = Path("data/warehouse")
    start_date: date = date(2024, 1, 1)
    timezone: str = "UTC"
    currency: str = "USD"
    pii_key: str | None = field(default=None, repr=False)
    max_quarantine: float = 0.05
    revenue_source: str = "auto"
    settings_file: Path | None = None
    entities: Mapping[str, EntityOptions] = field(default_factory=dict)
    stages: Mapping[str, str] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    drift_block: tuple[str, ...] = ()
    """Schema-drift kinds that block the file's entity for the day (settings file `[drift] block`);
    every other kind is a warning."""

    @property
    def dagster_home(self) -> Path:
        """Next to the warehouse, so CLI runs and the UI share one instance."""
        return self.warehouse.resolve().parent / "dagster_home"

    def entity(self, name: str) -> EntityOptions:
        return self.entities.get(name, EntityOptions())


_SCALARS = (
    "landing",
    "warehouse",
    "start_date",
    "timezone",
    "currency",
    "pii_key",
    "max_quarantine",
    "revenue_source",
)


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve settings: explicit overrides > environment > settings file > defaults."""
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings_file = overrides.get("settings_file") or env.get(ENV_VARS["settings_file"]) or None
    file_values = _read_settings_file(Path(settings_file)) if settings_file else {}

    raw: dict[str, Any] = {}
    for name in _SCALARS:
        if name in overrides:
            raw[name] = (overrides[name], "override")
        elif env.get(ENV_VARS[name]):
            raw[name] = (env[ENV_VARS[name]], f"${ENV_VARS[name]}")
        elif name in file_values:
            raw[name] = (file_values[name], str(settings_file))
    values = {name: _convert(name, value, origin) for name, (value, origin) in raw.items()}
    if settings_file:
        base = Path(settings_file).resolve().parent
        for name in ("landing", "warehouse"):
            # Paths in a settings file are relative to the file, so a committed example works from any cwd.
            if (
                name in values
                and raw[name][1] == str(settings_file)
                and not values[name].is_absolute()
            ):
                values[name] = base / values[name]
    return Settings(
        **values,
        settings_file=Path(settings_file) if settings_file else None,
        entities=_entities(file_values.get("entities", {}), settings_file),
        stages={str(k): str(v) for k, v in (file_values.get("stages") or {}).items()},
        thresholds=_thresholds(file_values.get("thresholds", {}), settings_file),
        drift_block=_drift_block(file_values.get("drift") or {}, settings_file),
    )


def _read_settings_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"settings file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path}: expected a table of settings")
    return data


def _convert(name: str, value: Any, origin: str) -> Any:
    try:
        if name in ("landing", "warehouse"):
            return Path(str(value))
        if name == "start_date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if name == "max_quarantine":
            share = float(value)
            if not 0 <= share <= 1:
                raise ValueError("must be between 0 and 1")
            return share
        if name == "revenue_source":
            if str(value) not in REVENUE_SOURCES:
                raise ValueError(f"must be one of {', '.join(REVENUE_SOURCES)}")
            return str(value)
        if name == "timezone":
            from zoneinfo import ZoneInfo

            ZoneInfo(str(value))
            return str(value)
        if name == "currency":
            code = str(value).strip().upper()
            if len(code) != 3 or not code.isalpha():
                raise ValueError("must be a 3-letter ISO currency code")
            return code
        return str(value)
    except (ValueError, TypeError, LookupError) as exc:
        raise SettingsError(f"setting {name} = {value!r} (from {origin}): {exc}") from exc


def _entities(data: Mapping[str, Any], origin: Any) -> dict[str, EntityOptions]:
    out: dict[str, EntityOptions] = {}
    for entity, opts in (data or {}).items():
        opts = opts or {}
        mode = str(opts.get("load_mode", "delta"))
        if mode not in LOAD_MODES:
            raise SettingsError(
                f"entities.{entity}.load_mode = {mode!r} (from {origin}): must be delta or snapshot"
            )
        patterns = opts.get("file_patterns", [])
        out[str(entity)] = EntityOptions(
            file_patterns=tuple(
                str(p) for p in ([patterns] if isinstance(patterns, str) else patterns)
            ),
            aliases={str(k): _alias_target(v) for k, v in (opts.get("aliases") or {}).items()},
            load_mode=mode,
            date_order={str(k): str(v) for k, v in (opts.get("date_order") or {}).items()},
        )
    return out


def _alias_target(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return str(value)


def _drift_block(data: Mapping[str, Any], origin: Any) -> tuple[str, ...]:
    block = data.get("block", [])
    kinds = tuple(str(k) for k in ([block] if isinstance(block, str) else block))
    unknown = sorted(set(kinds) - set(DRIFT_KINDS))
    if unknown:
        raise SettingsError(
            f"drift.block {unknown} (from {origin}): known kinds are {', '.join(DRIFT_KINDS)}"
        )
    return kinds


def _thresholds(data: Mapping[str, Any], origin: Any) -> Thresholds:
    known = {f.name: f.type for f in fields(Thresholds)}
    unknown = sorted(set(data or {}) - set(known))
    if unknown:
        raise SettingsError(f"unknown thresholds {unknown} (from {origin}); known: {sorted(known)}")
    defaults = Thresholds()
    values = {k: type(getattr(defaults, k))(v) for k, v in (data or {}).items()}
    return Thresholds(**values)
