"""Stale writer temporaries are found by their exact name pattern and deleted by age only."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sales_pipeline.core.storage.sweep import MAX_AGE_SECONDS, is_temporary, sweep_temporaries


def _touch(path: Path, age_seconds: float, now: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (now - age_seconds, now - age_seconds))
    return path


def test_names_of_both_writers_and_the_commit_backup_are_temporaries() -> None:
    hex_ = uuid.uuid4().hex
    assert is_temporary(f".part-0.parquet.{hex_}.tmp")
    assert is_temporary(f".part-0.parquet.{hex_}.bak")
    assert is_temporary(f".manifest.json.{hex_}.tmp")
    for name in ("part-0.parquet", f"part-0.parquet.{hex_}.tmp", ".keep", f".x.{hex_[:8]}.tmp"):
        assert not is_temporary(name), name


def test_only_stale_regular_temporaries_are_removed(tmp_path: Path) -> None:
    now = time.time()
    old = MAX_AGE_SECONDS + 60
    part = tmp_path / "accounts" / "date=2024-01-01"
    stale_tmp = _touch(part / f".part-0.parquet.{uuid.uuid4().hex}.tmp", old, now)
    stale_bak = _touch(part / f".part-0.parquet.{uuid.uuid4().hex}.bak", old, now)
    fresh = _touch(part / f".part-0.parquet.{uuid.uuid4().hex}.tmp", 5, now)
    data = _touch(part / "part-0.parquet", old, now)
    other = _touch(tmp_path / "_state" / ".notes.tmp", old, now)  # not a writer's name
    outside = _touch(tmp_path.parent / f"outside_{uuid.uuid4().hex}" / "f", old, now)
    link = part / f".part-0.parquet.{uuid.uuid4().hex}.tmp"
    link.symlink_to(outside)
    os.utime(link, (now - old, now - old), follow_symlinks=False)

    removed = sweep_temporaries(tmp_path, now=now)

    assert sorted(removed) == sorted([stale_tmp, stale_bak])
    assert not stale_tmp.exists() and not stale_bak.exists()
    assert fresh.exists() and data.exists() and other.exists()
    assert link.is_symlink() and outside.exists()


def test_a_missing_root_sweeps_nothing(tmp_path: Path) -> None:
    assert sweep_temporaries(tmp_path / "absent") == []
