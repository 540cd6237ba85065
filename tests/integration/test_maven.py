"""The public Maven CRM dataset end to end, through the committed settings file (issue: KPIs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sales_pipeline.cli import main
from sales_pipeline.core import warehouse

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "examples" / "maven_crm" / "data"  # shipped; see PROVENANCE.md there
SETTINGS = REPO / "examples" / "maven_crm" / "settings.toml"
DAY = "2017-12-31"


@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    assert DATASET.is_dir(), f"the Maven CRM dataset ships in the repository at {DATASET}"
    base = tmp_path_factory.mktemp("maven")
    folder = base / "landing" / DAY
    folder.mkdir(parents=True)
    for csv in DATASET.glob("*.csv"):
        shutil.copy(csv, folder / csv.name)  # unmodified
    mp = pytest.MonkeyPatch()
    mp.setenv("SALES_PIPELINE_SETTINGS", str(SETTINGS))
    mp.setenv("DAGSTER_HOME", str(base / "dagster_home"))
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--from",
            DAY,
            "--to",
            DAY,
            "--landing",
            str(base / "landing"),
            "--warehouse",
            str(base / "wh"),
        ],
        catch_exceptions=False,
    )
    mp.undo()
    return result, base / "wh"


def test_run_succeeds(maven):
    result, _ = maven
    assert result.exit_code == 0, result.output


def test_every_row_accounted_for(maven):
    _, wh = maven
    audit = warehouse.read_partition(wh, "ingest_audit", DAY).set_index("entity")
    assert audit.loc["opportunities", "rows_read"] == 8800
    assert (
        audit.loc["opportunities", "rows_quarantined"] == 500
    )  # 'Prospecting' deals have no engage_date
    assert audit.loc["accounts", "rows_clean"] == 85 and audit.loc["reps", "rows_clean"] == 35
    assert audit.loc["unknown", "source_file"].endswith("products.csv")
    assert (
        audit["rows_read"]
        == audit["rows_clean"] + audit["rows_quarantined"] + audit["rows_duplicate"]
    ).all()


def test_kpis_match_the_raw_csv(maven):
    _, wh = maven
    raw = pd.read_csv(DATASET / "sales_pipeline.csv")
    won = raw[raw["deal_stage"] == "Won"]
    lost = raw[raw["deal_stage"] == "Lost"]
    kpi = warehouse.read_partition(wh, "kpi_summary", DAY)
    months = kpi[(kpi["period_grain"] == "month") & (kpi["dimension"] == "overall")]
    assert months["opportunities_won"].sum() == len(won)
    assert months["opportunities_lost"].sum() == len(lost)
    assert months["revenue"].sum() == pytest.approx(won["close_value"].sum(), abs=0.01)
    december = months[months["period_start"] == pd.Timestamp("2017-12-01")].iloc[0]
    dec_won = won[won["close_date"].str.startswith("2017-12")]
    dec_lost = lost[lost["close_date"].str.startswith("2017-12")]
    assert december["revenue"] == pytest.approx(dec_won["close_value"].sum(), abs=0.01)
    assert december["win_rate"] == pytest.approx(len(dec_won) / (len(dec_won) + len(dec_lost)))
    # Reps are referenced by name: revenue per owner sums to the total.
    owners = kpi[(kpi["period_grain"] == "month") & (kpi["dimension"] == "owner")]
    assert owners["revenue"].sum() == pytest.approx(months["revenue"].sum(), abs=0.01)
    assert "__unknown__" not in set(owners.loc[owners["revenue"] > 0, "dimension_value"])
