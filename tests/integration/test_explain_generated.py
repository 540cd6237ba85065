"""`explain` on a generated zone: a seeded sample of kpi_summary cells of every metric and
dimension is reproduced exactly by the rows the explanation lists, and those rows trace back to
real landing rows. Also the CLI command end to end on the written warehouse."""

from __future__ import annotations

import shlex

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from assets.kpi_logic import build_kpi_summary
from assets.kpi_logic.explain import METRICS, Cell, Explainer, command_for
from assets.state import HISTORY, build_state_tables
from assets.state_logic import LANDING_DAY
from sales_pipeline.cli import main
from sales_pipeline.core import warehouse
from schemas import ENTITIES, state_table_name
from schemas.kpis import DIMENSIONS
from tests.integration.pipeline_fixture import build_generated_warehouse

pytestmark = pytest.mark.slow

MONEY = {"revenue", "won_amount", "pipeline_amount", "weighted_pipeline", "target_amount"}
COUNTS = {"orders", "new_customers", "opportunities_created", "opportunities_won"}
COUNTS |= {"opportunities_lost", "activities"}
PER_CELL = 3


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    base = tmp_path_factory.mktemp("explain")
    wh = build_generated_warehouse(base, days=4, accounts=80, fmt="mixed", seed=7)
    snap = wh.snapshot()
    accounts = snap.accounts["account_id"]
    rng = np.random.default_rng(5)
    segments = pd.DataFrame(
        {
            "account_id": accounts,
            "segment_id": rng.choice(["s1", "s2", "s3"], size=len(accounts)),
        }
    ).assign(segment_name=lambda f: "Segment " + f["segment_id"])
    tz = wh.settings.timezone
    summary = build_kpi_summary(snap, tz=tz, segments=segments)
    root = wh.settings.warehouse
    records = warehouse.read_window(root, "opportunities", end=wh.last_day, day_column=LANDING_DAY)
    explainer = Explainer(
        snap,
        tz=tz,
        segments=segments,
        currency=wh.settings.currency,
        opportunity_records=records,
    )
    return wh, summary, explainer


def _sample(summary: pd.DataFrame, metric: str, dimension: str, rng) -> pd.DataFrame:
    """Cells with a value (non-zero where possible) plus one random cell of the dimension."""
    rows = summary[summary["dimension"] == dimension]
    filled = rows[rows[metric].notna() & (rows[metric] != 0)]
    picks = [filled.iloc[rng.integers(len(filled))] for _ in range(min(PER_CELL, len(filled)))]
    picks.append(rows.iloc[rng.integers(len(rows))])
    return pd.DataFrame(picks)


def _cell(row: pd.Series, metric: str) -> Cell:
    return Cell(
        row["period_grain"],
        row["period_start"].date(),
        row["dimension"],
        row["dimension_value"],
        metric,
    )


def test_a_sample_of_every_metric_and_dimension_is_reproduced_exactly(zone):
    _wh, summary, explainer = zone
    rng = np.random.default_rng(2024)
    checked = nonzero = 0
    for metric in METRICS:
        for dimension in DIMENSIONS:
            for _, row in _sample(summary, metric, dimension, rng).iterrows():
                explanation = explainer.explain(_cell(row, metric))
                stored = row[metric]
                where = f"{metric} {dimension}={row['dimension_value']} {row['period_start']}"
                if pd.isna(stored):
                    assert explanation.value is None, where
                    continue
                assert explanation.value == stored, where  # exact, not approximate
                rows = explanation.rows
                if metric in MONEY:
                    column = "weighted_cents" if metric == "weighted_pipeline" else "cents"
                    assert int(rows[column].sum()) == round(stored * 100), where
                if metric in COUNTS:
                    assert len(rows) == stored, where
                if metric == "active_customers":
                    assert rows["account_id"].nunique() == stored, where
                checked += 1
                nonzero += bool(stored)
    assert checked >= len(METRICS) * len(DIMENSIONS)
    assert nonzero >= len(METRICS) * len(DIMENSIONS) // 2


def test_rows_trace_to_their_landing_rows(zone):
    wh, summary, explainer = zone
    root = wh.settings.warehouse
    month = summary[(summary["period_grain"] == "month") & (summary["dimension"] == "overall")]
    for metric in ("revenue", "won_amount", "pipeline_amount", "activities"):
        row = month[month[metric] > 0].iloc[-1]
        rows = explainer.explain(_cell(row, metric)).rows
        assert rows["_source_file"].notna().all() and (rows["_source_row"] >= 1).all(), metric
        sample = rows.sample(n=min(5, len(rows)), random_state=1)
        for rec in sample.to_dict("records"):
            entity = "opportunities" if rec["entity"] == "opportunity_history" else rec["entity"]
            day = rec["_source_file"].split("/")[0]
            landed = warehouse.read_partition(root, entity, day)
            hit = landed[
                (landed["_source_file"] == rec["_source_file"])
                & (landed["_source_row"] == rec["_source_row"])
            ]
            key = {"orders": "order_id", "activities": "activity_id"}.get(entity, "opportunity_id")
            assert hit[key].tolist() == [rec["record_id"]], (metric, rec)
    money = explainer.explain(_cell(month[month["revenue"] > 0].iloc[-1], "revenue")).rows
    converted = money[money["fx_rate"].notna()]
    assert len(converted) and (converted["fx_date"].notna() | (converted["fx_rate"] == 1)).all()
    recomputed = (converted["amount_local"] * converted["fx_rate"]).round(2)
    assert (recomputed == converted["amount"]).mean() > 0.99


def test_the_cli_explains_a_stored_cell(zone, tmp_path):
    wh, summary, _explainer = zone
    root, day = wh.settings.warehouse, wh.last_day
    tables = build_state_tables(root, day)
    for entity in ENTITIES:
        warehouse.write_partition(root, state_table_name(entity), day, tables[entity])
    warehouse.write_partition(root, HISTORY, day, tables[HISTORY])
    plain = build_kpi_summary(wh.snapshot(), tz=wh.settings.timezone)
    warehouse.write_partition(root, "kpi_summary", day, plain)
    month = plain[(plain["period_grain"] == "month") & (plain["dimension"] == "region")]
    row = month[month["revenue"] > 0].iloc[-1]
    cell = Cell("month", row["period_start"].date(), "region", row["dimension_value"], "revenue")
    args = shlex.split(command_for(day, cell))[1:] + ["--warehouse", str(root)]
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(main, [*args, "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "reproduces the stored cell exactly" in result.output
    assert len(pd.read_csv(out)) == int(row["orders"])
    missing = CliRunner().invoke(main, [*args[:2], "2020-01-01", *args[3:]])
    assert missing.exit_code == 1
