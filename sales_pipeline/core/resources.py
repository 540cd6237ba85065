"""Dagster resources: the settings of contract section 1, and the warehouse every read and write
goes through.

`PipelineSettings` is the run-config surface of `config.Settings` (no secret in it) and resolves
the settings once per run, in `setup_for_execution`. `Warehouse` owns the warehouse root: the IO
manager writes and loads through it, and assets that read more than their inputs (windows of
earlier days, charts, memos) read through the same instance, so a root cannot differ between
reads and writes.
"""

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from sales_pipeline.core import warehouse as storage
from sales_pipeline.core.config import Settings, load_settings


class PipelineSettings(dg.ConfigurableResource):
    """Explicit settings (CLI flags, tests, run config); unset fields fall back to the
    environment, the settings file, then the defaults (see `config.load_settings`).

    The PII key is not a field: a secret comes from the environment or the settings file only,
    so it never appears in the launchpad, run config or run records.
    """

    landing: str | None = None
    warehouse: str | None = None
    start_date: str | None = None
    timezone: str | None = None
    currency: str | None = None
    max_quarantine: float | None = None
    revenue_source: str | None = None
    settings_file: str | None = None

    _resolved: Settings | None = PrivateAttr(default=None)

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object]) -> "PipelineSettings":
        """The CLI's overrides as settings (a None value is a flag not given)."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Once per run: assets then share one validated Settings instead of re-reading the
        # environment and re-parsing the settings file in every step.
        self._resolved = load_settings(self.model_dump())

    def resolve(self) -> Settings:
        """The run's settings (resolved at setup), or a fresh resolution outside a run."""
        if self._resolved is not None:
            return self._resolved
        return load_settings(self.model_dump())


class Warehouse(dg.ConfigurableResource):
    """The Parquet warehouse (contract section 3): `root` is the warehouse setting."""

    settings: dg.ResourceDependency[PipelineSettings]

    @classmethod
    def at(cls, root: str | Path) -> "Warehouse":
        """A warehouse at `root` with every other setting from the environment (tests, tools)."""
        return cls(settings=PipelineSettings(warehouse=str(root)))

    @property
    def root(self) -> storage.Root:
        """A `Path` for a local warehouse, a `UPath` for an object store URL (`s3://...`)."""
        settings = self.settings
        if not isinstance(settings, PipelineSettings):
            # Outside a run the dependency is still the definitions' launch-time binding
            # (`configure_at_launch`); inside a run it is the run's set-up settings instance.
            settings = PipelineSettings(**settings.data)
        return settings.resolve().warehouse

    def write_partition(self, table: str, day: str | date, frame: pd.DataFrame) -> storage.Root:
        return storage.write_partition(self.root, table, day, frame)

    def write_partitions(
        self, frames: list[tuple[str, str | date, pd.DataFrame]]
    ) -> list[storage.StagedPartition]:
        """Several partitions as one all-or-none change (see `warehouse.write_partitions`)."""
        return storage.write_partitions(self.root, frames)

    def read_partition(self, table: str, day: str | date) -> pd.DataFrame:
        return storage.read_partition(self.root, table, day)

    def has_partition(self, table: str, day: str | date) -> bool:
        return storage.has_partition(self.root, table, day)

    def list_partitions(self, table: str) -> list[str]:
        return storage.list_partitions(self.root, table)

    def read_window(
        self,
        table: str,
        *,
        start: str | date | None = None,
        end: str | date | None = None,
        columns: list[str] | None = None,
        day_column: str | None = None,
        missing_ok: bool = False,
    ) -> pd.DataFrame:
        """See `warehouse.read_window`; a table never written raises unless `missing_ok`."""
        return storage.read_window(
            self.root,
            table,
            start=start,
            end=end,
            columns=columns,
            day_column=day_column,
            missing_ok=missing_ok,
        )

    def write_chart(self, table: str, day: str | date, name: str, png: bytes) -> storage.Root:
        return storage.write_chart(self.root, table, day, name, png)

    def path(self, *parts: str) -> storage.Root:
        """`<root>/<parts...>`, for files of a `_` folder (not a table), e.g. model files."""
        return storage.as_root(self.root).joinpath(*parts)

    def write_file(self, relative: str, payload: bytes) -> storage.Root:
        """Write `<root>/<relative>` atomically (rename on disk, one PUT on an object store).
        Keep such files under a `_` folder (e.g. `_models/`): those are not tables."""
        return storage.write_bytes(self.path(*relative.split("/")), payload)

    def read_file(self, relative: str) -> bytes | None:
        """The bytes of `<root>/<relative>`, or None if it was never written."""
        try:
            return storage.read_bytes(self.path(*relative.split("/")))
        except FileNotFoundError:
            return None

    def json_memo(self, name: str) -> storage.JsonCache:
        return storage.JsonCache(self.root, name)

    def model_files(self) -> storage.ModelFiles:
        """Fitted churn/propensity models under `_models/` (weekly fits, `training.fitted_model`)."""
        return storage.ModelFiles(self.root)
