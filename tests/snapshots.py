"""Committed JSON snapshots: compare a test's sorted, readable data with a file under snapshots/.

A mismatch fails with a unified diff and the one command that rewrites the snapshot; review the
diff (it is the change you made to the graph or the generator) and commit the new file with it.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

UPDATE_ENV = "UPDATE_SNAPSHOTS"


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def assert_matches_snapshot(data: object, path: Path, test_file: str) -> None:
    """Fail with a diff unless `data` (as sorted JSON) equals the file at `path`.

    With UPDATE_SNAPSHOTS=1 the file is rewritten instead and the test is reported as skipped,
    so a run that regenerated snapshots never reads as green by accident.
    """
    expected = _dump(data)
    command = f"{UPDATE_ENV}=1 .venv/bin/pytest {test_file} -q"
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        pytest.skip(f"rewrote {path.name}; review `git diff` and commit it")
    if not path.exists():
        pytest.fail(f"no snapshot {path.name} yet; create it with:\n    {command}", pytrace=False)
    stored = path.read_text(encoding="utf-8")
    if stored != expected:
        diff = "".join(
            difflib.unified_diff(
                stored.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"{path.name} (committed)",
                tofile=f"{path.name} (now)",
            )
        )
        pytest.fail(
            f"{path.name} differs from what the code produces now.\n{diff}\n"
            f"If the change is intended, regenerate the snapshot and commit it with your change:\n"
            f"    {command}",
            pytrace=False,
        )
