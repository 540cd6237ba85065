"""Resume: which days a rerun may skip because they were materialised from the same inputs.

A simpler mechanism than Dagster's data versions, kept with the data it describes: after a day's
ingest (or analytics) run succeeds, the runner writes `<warehouse>/_runs/<phase>/date=D/ledger.json`
with the day's input key and the signature (size, mtime, inode) of every partition it wrote.
A rerun skips the day when the key is the same and every one of those partitions is still the
file that run wrote. The key of a landing day D hashes the code version (every source file of
`assets/`, `schemas/` and `sales_pipeline/core/`), the settings, the content of every file in
the landing folder of D, and the key of D-1 (so a changed earlier day, whose prior state cleaning
reads, changes every later key). The analytics key of D is the ingest key of D (it covers every
day <= D) under another name. `--force` ignores the ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from sales_pipeline.core import warehouse
from sales_pipeline.core.config import Settings
from schemas import ENTITIES, TABLES

LEDGER = "ledger.json"
RUNS = "_runs"
INGEST_TABLES = (*ENTITIES, "quarantine", "ingest_audit")
_SOURCE_PACKAGES = ("assets", "schemas", "sales_pipeline/core")


@cache
def code_version() -> str:
    """sha256 over the pipeline's source files: any code change is a new version."""
    top = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _SOURCE_PACKAGES:
        for path in sorted((top / package).rglob("*.py")):
            digest.update(str(path.relative_to(top)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def settings_fingerprint(config: Settings) -> str:
    """The settings that shape outputs; the PII key only as a keyed digest, never in clear."""
    text = repr(config)
    key = getattr(config, "pii_key", None)
    if key is not None:
        secret = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
        text += hmac.new(secret.encode(), b"sales_pipeline resume", hashlib.sha256).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()


def landing_digest(landing: Path, day: date) -> str:
    """sha256 over (relative path, content) of every file in the day's landing folder."""
    folder = Path(landing) / day.isoformat()
    digest = hashlib.sha256()
    if not folder.is_dir():
        return "no landing folder"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


class Ledger:
    """What earlier runs materialised, and the input key of each day of this run."""

    def __init__(self, config: Settings, *, force: bool = False) -> None:
        self.config = config
        self.root = warehouse.as_root(config.warehouse)
        self.force = force
        self._base = hashlib.sha256(
            (code_version() + settings_fingerprint(config)).encode()
        ).hexdigest()
        self._keys: dict[date, str] = {}

    def _path(self, phase: str, day: date) -> warehouse.Root:
        return warehouse.partition_dir(self.root / RUNS, phase, day) / LEDGER

    def _read(self, phase: str, day: date) -> dict | None:
        try:
            return json.loads(warehouse.read_bytes(self._path(phase, day)))
        except FileNotFoundError:
            return None

    def ingest_key(self, day: date) -> str:
        if day not in self._keys:
            before = day - timedelta(days=1)
            if before in self._keys:
                previous = self._keys[before]
            else:
                recorded = self._read("ingest", before)
                previous = recorded["key"] if recorded else f"unknown {before}"
            text = f"{self._base} {previous} {landing_digest(self.config.landing, day)}"
            self._keys[day] = hashlib.sha256(text.encode()).hexdigest()
        return self._keys[day]

    def adopt_ingest_key(self, day: date, key: str) -> None:
        """Take the key of `day` from another process's ledger (the analytics worker's caller)."""
        self._keys[day] = key

    def _key(self, phase: str, day: date) -> str:
        key = self.ingest_key(day)
        return key if phase == "ingest" else hashlib.sha256(f"{phase} {key}".encode()).hexdigest()

    @staticmethod
    def _tables(phase: str) -> list[str]:
        if phase == "ingest":
            return list(INGEST_TABLES)
        return [name for name in TABLES if name not in INGEST_TABLES]

    def done(self, phase: str, day: date) -> bool:
        """True when this phase of the day was materialised from the same inputs and is intact."""
        if self.force:
            return False
        recorded = self._read(phase, day)
        if recorded is None or recorded["key"] != self._key(phase, day):
            return False
        return all(
            warehouse.partition_signature(self.root, table, day) == signature
            for table, signature in recorded["outputs"].items()
        )

    def record(self, phase: str, day: date) -> None:
        """After a successful run: the key and the signature of every partition of the day."""
        outputs = {
            table: signature
            for table in self._tables(phase)
            if (signature := warehouse.partition_signature(self.root, table, day))
        }
        payload = {"key": self._key(phase, day), "outputs": outputs}
        warehouse.write_bytes(self._path(phase, day), json.dumps(payload, sort_keys=True).encode())
