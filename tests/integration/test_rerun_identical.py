"""Reruns of the same inputs are byte-identical across processes (issue: p_purchase_90d differed).

Each run is a fresh Python process (its own thread pools, hash seeds and import order) that builds
the churn and propensity tables from the same generated snapshot and writes them as warehouse
partitions; the two runs get different BLAS/OpenMP thread counts and hash seeds. The Parquet files
must be equal byte for byte. (Comparing f(x) with f(x) inside one process cannot see the cause
this guards against: scikit-learn's threaded forest prediction added the trees in the order the
threads finished.)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pathlib import Path
from assets.model_logic import build_churn, build_propensity
from sales_pipeline.core import warehouse
from tests.unit.model_fixtures import AS_OF, churn_world

root = Path(sys.argv[1])
snap, _ = churn_world(n=90)
store = warehouse.ModelFiles(root)
for out in (build_churn(snap, store=store), build_propensity(snap, store=store)):
    for table, frame in out.tables.items():
        warehouse.write_partition(root, table, AS_OF, frame)
"""

TABLES = ("churn_scores", "churn_model_report", "customer_propensity", "propensity_model_report")


def _run(root: Path, threads: str, hash_seed: str) -> dict[str, str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONHASHSEED": hash_seed,
    }
    subprocess.run([sys.executable, "-c", SCRIPT, str(root)], cwd=ROOT, env=env, check=True)
    return {
        table: hashlib.sha256(
            next((root / table).glob("date=*/part-0.parquet")).read_bytes()
        ).hexdigest()
        for table in TABLES
    }


@pytest.mark.slow
def test_two_processes_write_identical_model_partitions(tmp_path):
    first = _run(tmp_path / "a", threads="1", hash_seed="1")
    second = _run(tmp_path / "b", threads="2", hash_seed="2")
    assert first == second
