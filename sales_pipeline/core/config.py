"""Settings (contract section 1): one typed declaration, resolved as explicit override >
environment variable > settings file (TOML or YAML) > default, and validated once, up front.

`Settings` declares every setting with its type, default, bounds and environment variable; the
thresholds are `schemas.thresholds.Thresholds`. `load_settings` gathers the layers and validates
them in one pass: an invalid value, a wrong type (`2.7` for a count, `true` for a number) or an
unknown key anywhere is a `SettingsError` naming the key and where its value came from, with a
"did you mean" hint for a misspelt name. Pure Python (no Dagster): the resource in
`resources.py`, the CLI and the definitions factory call it at run time, never at import time.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from sales_pipeline.core.storage.fs import Root, as_root, is_remote, is_url
from schemas.columns import ENTITIES, STAGES
from schemas.drift import DRIFT_KINDS
from schemas.thresholds import MAX_QUARANTINE_DEFAULT, Share, Thresholds


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the setting and where it came from."""


@dataclass(frozen=True)
class Env:
    """Field metadata: the environment variable that sets this field (contract section 1)."""

    name: str


def _only_text(value: Any) -> Any:
    # pydantic would read an integer as a Unix timestamp (date) or refuse it with a vaguer message.
    if not isinstance(value, str | date | Path) or isinstance(value, bool):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value


def _warehouse_root(value: Any) -> Root:
    # A folder stays a plain `Path`; a URL (`s3://bucket/prefix`) becomes an fsspec `UPath`,
    # which `Path` would mangle (`s3:/bucket`).
    return as_root(_only_text(value))


WarehouseRoot = Annotated[
    Any, PlainValidator(_warehouse_root), PlainSerializer(str, return_type=str)
]
"""The warehouse setting: `pathlib.Path` for a local folder, `upath.UPath` for an object store URL."""


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_only_text)]
EntityName = Literal[ENTITIES]  # type: ignore[valid-type]
StageName = Literal[STAGES]  # type: ignore[valid-type]
REVENUE_SOURCES = ("orders", "won_opportunities", "auto")
LOAD_MODES = ("delta", "snapshot")


class EntityOptions(BaseModel):
    """Per-entity options from the settings file's `[entities.<entity>]` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file_patterns: Annotated[tuple[Text, ...], BeforeValidator(_as_list)] = ()
    """Extra fnmatch patterns on the lower-cased file stem (one string or a list)."""
    aliases: dict[str, Text | tuple[Text, ...]] = Field(default_factory=dict)
    """their header -> canonical column, or several columns (a name that is also the ID)."""
    load_mode: Literal[LOAD_MODES] = "delta"  # type: ignore[valid-type]
    """`snapshot`: a record absent from a file is deleted as of that day."""
    date_order: dict[str, Literal["month_first", "day_first"]] = Field(default_factory=dict)
    """column -> order: overrides detection when every value is ambiguous."""


class DriftOptions(BaseModel):
    """The settings file's `[drift]` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    block: Annotated[
        tuple[Literal[DRIFT_KINDS], ...],  # type: ignore[valid-type]
        BeforeValidator(_as_list),
    ] = ()
    """Schema-drift kinds that block the file's entity for the day; every other kind is a warning."""


class Settings(BaseModel):
    """Every setting of contract section 1, the settings file's tables, and the thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)

    landing: Annotated[Path, BeforeValidator(_only_text), Env("SALES_PIPELINE_LANDING")] = Path(
        "data/landing"
    )
    warehouse: Annotated[WarehouseRoot, Env("SALES_PIPELINE_WAREHOUSE")] = Path("data/warehouse")
    """A folder, or an object store URL such as `s3://bucket/prefix` (README, object storage)."""
    start_date: Annotated[date, BeforeValidator(_only_text), Env("SALES_PIPELINE_START_DATE")] = (
        date(2024, 1, 1)
    )
    timezone: Annotated[Text, Env("SALES_PIPELINE_TIMEZONE")] = "UTC"
    currency: Annotated[Text, Env("SALES_PIPELINE_CURRENCY")] = "USD"
    pii_key: Annotated[
        Text | None, Env("SALES_PIPELINE_PII_KEY"), Field(repr=False, exclude=True)
    ] = None
    """Secret: from the environment or the settings file only, never run config, repr or logs."""
    max_quarantine: Annotated[Share, Env("SALES_PIPELINE_MAX_QUARANTINE")] = MAX_QUARANTINE_DEFAULT
    revenue_source: Annotated[
        Literal[REVENUE_SOURCES],  # type: ignore[valid-type]
        Env("SALES_PIPELINE_REVENUE_SOURCE"),
    ] = "auto"
    settings_file: Annotated[Path | None, Env("SALES_PIPELINE_SETTINGS")] = None
    entities: dict[EntityName, EntityOptions] = Field(default_factory=dict)
    stages: dict[str, StageName] = Field(default_factory=dict)
    """Extra stage names: their label -> canonical stage."""
    thresholds: Thresholds = Field(default_factory=Thresholds)
    drift: DriftOptions = Field(default_factory=DriftOptions)

    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as UTC)") from None
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError("must be a 3-letter ISO currency code")
        return code

    @property
    def dagster_home(self) -> Path:
        """Next to the warehouse, so CLI runs and the UI share one instance (next to the landing
        folder when the warehouse is on an object store)."""
        if is_remote(self.warehouse):
            return self.landing.resolve().parent / "dagster_home"
        return self.warehouse.resolve().parent / "dagster_home"

    @property
    def drift_block(self) -> tuple[str, ...]:
        return self.drift.block

    def entity(self, name: str) -> EntityOptions:
        return self.entities.get(name, EntityOptions())

    def origin(self, name: str) -> str:
        """Where a top-level setting's value came from: an override, `$VAR`, the file, or default."""
        return self._origins.get(name, "default")


ENV_VARS: dict[str, str] = {
    name: meta.name
    for name, info in Settings.model_fields.items()
    for meta in info.metadata
    if isinstance(meta, Env)
}
"""setting -> environment variable, read from the declaration above."""


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve and validate: explicit overrides > environment > settings file > defaults.

    `overrides` are explicit values (CLI flags, run config, tests); None means "not given".
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(_unknown_message(unknown[0], "override", list(Settings.model_fields)))
    layers: list[tuple[str, dict[str, Any]]] = [
        ("override", given),
        ("environment", {n: env[v] for n, v in ENV_VARS.items() if env.get(v)}),
    ]
    file = given.get("settings_file") or layers[1][1].get("settings_file")
    if file:
        layers.append((f"settings file {file}", _read_settings_file(Path(file))))
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for source, layer in reversed(layers):
        for name, value in layer.items():
            values[name] = value
            origins[name] = f"${ENV_VARS[name]}" if source == "environment" else source
    if file:
        values["settings_file"] = Path(file)
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, values, origins)) from None
    settings._origins.update(origins)
    return settings


def require_landing(settings: Settings) -> None:
    """A landing root that does not exist is a usage error, not one failed day per day."""
    if not settings.landing.is_dir():
        raise SettingsError(
            f"setting landing = {str(settings.landing)!r} (from {settings.origin('landing')}): "
            "the folder does not exist"
        )


def _read_settings_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"settings file {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path}: expected a table of settings")
    if "settings_file" in data:
        raise SettingsError(f"settings file {path}: settings_file cannot be set inside it")
    base = path.resolve().parent
    for name in ("landing", "warehouse"):
        # Paths in a settings file are relative to the file, so a committed example works from any cwd.
        value = data.get(name)
        if isinstance(value, str) and not is_url(value) and not Path(value).is_absolute():
            data[name] = str(base / data[name])
    return data


# Where a nested key's names come from, for "did you mean" hints.
def _names_at(loc: tuple) -> list[str]:
    if not loc:
        return list(Settings.model_fields)
    if loc[0] == "thresholds":
        return list(Thresholds.model_fields)
    if loc[0] == "entities":
        return list(ENTITIES) if len(loc) == 1 else list(EntityOptions.model_fields)
    return []


def _unknown_message(key: str, origin: str, names: list[str]) -> str:
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(names)}"
    return f"unknown setting {key!r} (from {origin}){hint}"


def _describe(exc: ValidationError, values: Mapping[str, Any], origins: Mapping[str, str]) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        origin = origins.get(str(loc[0]), "default") if loc else "settings"
        if loc and loc[-1] == "[key]":
            # An unknown dict key (an entity name that is not the contract's).
            lines.append(_unknown_message(str(loc[-2]), origin, list(ENTITIES)))
            continue
        dotted = ".".join(str(part) for part in loc)
        if error["type"] == "extra_forbidden":
            parent = loc[:-1]
            names = _names_at(parent)
            lines.append(
                _unknown_message(dotted, origin, [".".join([*map(str, parent), n]) for n in names])
            )
            continue
        message = error["msg"].removeprefix("Value error, ")
        if loc and loc[0] == "pii_key":
            lines.append(f"setting pii_key (from {origin}): {message}")
        elif error["type"].startswith("model_") or loc == ("thresholds",) or not loc:
            lines.append(f"setting {dotted} (from {origin}): {message}")
        else:
            lines.append(f"setting {dotted} = {error['input']!r} (from {origin}): {message}")
    return "invalid settings:\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0]
