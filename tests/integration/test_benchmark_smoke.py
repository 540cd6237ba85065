"""The benchmark command runs end to end at the tiny scale and reports (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_benchmark_runs_and_reports(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--scale", "tiny", "--dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ingest / pyarrow:" in done.stdout and "| asset step |" in done.stdout
    result = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    night = result["nightly"]
    assert night["success"] and night["rows_read"] > 0
    assert {"ingest", "state", "churn", "propensity", "segments", "forecasts"} <= set(
        night["steps"]
    )
    assert night["peak_rss_mb"] > 0 and night["reference"]["rows"] > 0
    assert result["machine"]["nproc"] >= 1 and result["machine"]["versions"]["dagster"]
