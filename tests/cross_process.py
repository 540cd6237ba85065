"""Determinism across processes: run a model in a fresh interpreter with another hash seed and
compare a digest of its output with this process's (f(x) == f(x) in one process proves little)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def output_digest(out) -> str:
    """sha256 over every output table, sorted by name, as CSV (metadata holds timings)."""
    h = hashlib.sha256()
    for name in sorted(out.tables):
        h.update(name.encode())
        h.update(out.tables[name].to_csv(index=False).encode())
    return h.hexdigest()


def digest_in_subprocess(setup: str, expr: str) -> str:
    """`output_digest(<expr>)` computed by a new Python process with a different PYTHONHASHSEED."""
    seed = "54321" if os.environ.get("PYTHONHASHSEED") == "12345" else "12345"
    code = f"{setup}\nfrom tests.cross_process import output_digest\nprint(output_digest({expr}))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]
