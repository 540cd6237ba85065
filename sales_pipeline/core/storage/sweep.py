"""Writer temporaries left by a killed run: found by name, deleted once they are stale.

Every atomic writer stages next to its target under a hidden name ending in a uuid4 hex and
`.tmp` (`fs.write_bytes`, `partitions.stage_partition`); a commit keeps the partition it
replaces as a `.bak` hard link until its last swap succeeded. A SIGKILL between the two leaves
them behind. Readers never see them (hidden names: no `*.parquet` glob and no pyarrow dataset
discovery matches), but they hold disk.

Nothing reads them back: no recovery uses a `.bak` (the commit's rollback runs in the process
that made it, and a rerun rewrites the day), and a `.tmp` is only renamed by the process that
staged it. So a temporary is stale once no writer can still own it. A writer holds one for the
seconds its stage and commit take; `MAX_AGE` (one hour) is far beyond that. Even a live one
deleted early costs no data: its commit fails, rolls back and names the path.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}\.(tmp|bak)$")
MAX_AGE_SECONDS = 3600.0


@dataclass(frozen=True)
class Temporary:
    path: Path
    age_seconds: float


def is_temporary(name: str) -> bool:
    return TEMPORARY.match(name) is not None


def stale(temporaries: Iterable[Temporary], max_age_seconds: float) -> list[Path]:
    """The temporaries older than `max_age_seconds`."""
    return [t.path for t in temporaries if t.age_seconds > max_age_seconds]


def find_temporaries(root: Path, now: float | None = None) -> list[Temporary]:
    """Every writer temporary under `root` (regular files only; links are not followed)."""
    now = time.time() if now is None else now
    found: list[Temporary] = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not is_temporary(name):
                continue
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue  # its writer just renamed or removed it
            if not stat.S_ISREG(info.st_mode):  # lstat: a link is not a regular file
                continue
            found.append(Temporary(path, now - info.st_mtime))
    return sorted(found, key=lambda t: t.path)


def sweep_temporaries(
    root: Path, *, max_age_seconds: float = MAX_AGE_SECONDS, now: float | None = None
) -> list[Path]:
    """Delete the stale writer temporaries under a local warehouse root; returns what went."""
    if not Path(root).is_dir():
        return []
    removed = []
    for path in stale(find_temporaries(Path(root), now), max_age_seconds):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
