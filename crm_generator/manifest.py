"""The generator's record of what it wrote: per-file row accounting and every planted bad row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FileRecord:
    """One landing file (or archive member), counted as the contract's 'Rows in = rows out'."""

    source_file: str
    entity: str
    vendor_format: str
    rows_read: int
    rows_clean: int
    rows_quarantined: int
    rows_duplicate: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    status: str = "ok"
    """the `ingest_audit` status the contract expects for the file: ok or blocked."""
    file_error: str | None = None
    encoding: str | None = None


@dataclass
class Manifest:
    seed: int
    format: str
    start: str
    days: int
    currency: str
    files: list[FileRecord] = field(default_factory=list)
    planted: list[dict] = field(default_factory=list)
    truth: dict = field(default_factory=dict)
    drift: list[dict] = field(default_factory=list)
    """Planted schema drift: source_file, entity, drift_kind, column, previous_column."""

    def __getitem__(self, key: str):
        """Dict-style access to the JSON form (`manifest["files"]`)."""
        return self.to_dict()[key]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = sorted(data["files"], key=lambda f: f["source_file"])
        data["planted"] = sorted(data["planted"], key=lambda p: (p["source_file"], p["source_row"]))
        return data

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_dict(), indent=1, ensure_ascii=False, sort_keys=False) + "\n",
            encoding="utf-8",
        )
