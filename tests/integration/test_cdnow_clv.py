"""Probabilistic CLV on the CDNOW benchmark, through the pipeline (issue 14, part 3).

The calibration period (1997-01-01 .. 1997-09-30) lands as one canonical orders file on
1997-09-30; `sales-pipeline run` ingests it and builds the analytics for that day. The fitted
parameters must match the published ones to three significant digits: BG/NBD (Fader, Hardie and
Lee 2005, time in weeks) and Gamma-Gamma on the repeat buyers (Fader and Hardie's note; the
Lifetimes documentation reproduces both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sales_pipeline.cli import main
from sales_pipeline.core import warehouse

DATA = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "CDNOW_sample.txt"
DAY = "1997-09-30"
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}
"""FHL 2005 report LL = -9582.4 for the BG/NBD fit."""

pytestmark = pytest.mark.slow


def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": "str", "customer_id": "str", "date": "str"},
    )
    raw["order_date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.date
    calibration = raw[raw["order_date"] <= pd.Timestamp(DAY).date()].reset_index(drop=True)
    return pd.DataFrame(
        {
            "order_id": [f"O{i:05d}" for i in range(len(calibration))],
            "account_id": calibration["customer_id"],
            "order_date": calibration["order_date"].astype("str"),
            "amount": calibration["amount"].map("{:.2f}".format),
            "quantity": calibration["cds"],
        }
    )


@pytest.fixture(scope="module")
def cdnow_warehouse(tmp_path_factory):
    base = tmp_path_factory.mktemp("cdnow")
    folder = base / "landing" / DAY
    folder.mkdir(parents=True)
    cdnow_orders().to_csv(folder / "orders.csv", index=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("SALES_PIPELINE_START_DATE", DAY)
    mp.setenv("DAGSTER_HOME", str(base / "dagster_home"))
    args = ["run", "--from", DAY, "--to", DAY, "--landing", str(base / "landing")]
    result = CliRunner().invoke(
        main, [*args, "--warehouse", str(base / "wh")], catch_exceptions=False
    )
    mp.undo()
    assert result.exit_code == 0, result.output
    return base / "wh"


def _sig3(value: float) -> str:
    return f"{value:.3g}"


def test_bgnbd_and_gamma_gamma_match_the_published_parameters(cdnow_warehouse):
    report = warehouse.read_partition(cdnow_warehouse, "clv_model_report", DAY)
    report = report.set_index("model")
    assert set(report.index) == {"bgnbd", "gamma_gamma"}
    for model, params in PUBLISHED.items():
        for name, published in params.items():
            assert _sig3(report.loc[model, name]) == _sig3(published), (model, name)
    assert report.loc["bgnbd", "n"] == 2357
    assert report.loc["gamma_gamma", "n"] == 946
    assert report.loc["bgnbd", "log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert bool(report["converged"].all())


def test_gamma_gamma_independence_is_checked(cdnow_warehouse):
    report = warehouse.read_partition(cdnow_warehouse, "clv_model_report", DAY)
    corr = report.set_index("model").loc["gamma_gamma", "spend_frequency_corr"]
    assert corr == pytest.approx(0.11, abs=0.01)  # FHL's "RFM and CLV" paper reports 0.11


def test_customer_clv_rows_follow_the_models(cdnow_warehouse):
    clv = warehouse.read_partition(cdnow_warehouse, "customer_clv", DAY)
    assert len(clv) == 2357 and clv["account_id"].is_unique
    assert int(clv["frequency"].sum()) == 2457  # repeat purchase days in the calibration period
    one_timers = clv[clv["frequency"] == 0]
    assert np.allclose(one_timers["p_alive"], 1.0)  # BG/NBD: no repeat purchase, no death yet
    assert clv["p_alive"].between(0, 1).all()
    assert (clv["expected_purchases"] > 0).all() and (clv["clv"] >= 0).all()
    assert set(clv["model"]) == {"bgnbd+gamma_gamma"}
    # Customer 1 of the sample: first purchase 1997-01-01, x = 2, t_x = 30.43 weeks, T = 38.86.
    first = clv.set_index("account_id").loc["0001"]
    assert (first["frequency"], first["recency_days"], first["tenure_days"]) == (2, 213.0, 272.0)
    assert first["p_alive"] == pytest.approx(0.7266, abs=1e-3)
