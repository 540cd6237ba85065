"""Every table declaration: Arrow and pandera agree, good frames pass, bad frames fail."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from schemas import ROW_SCHEMAS, SCHEMAS, TABLES, conform, from_arrow, to_arrow

SAMPLE = {
    "string": "x",
    "float64": 1.5,
    "int64": 3,
    "bool": True,
    "timestamp": pd.Timestamp("2024-01-02T03:04:05Z"),
    "date": pd.Timestamp("2024-01-02"),
    "list<string>": ["a"],
}


def _good_row(table) -> pd.DataFrame:
    row = {}
    for col in table.columns:
        value = SAMPLE[col.type]
        for check in col.checks:  # pick a value the column's own checks accept
            stats = check.statistics or {}
            if "allowed_values" in stats:
                value = sorted(stats["allowed_values"])[0]
            elif "pattern" in stats:
                value = "2024-01"
            elif "min_value" in stats and "max_value" in stats:
                value = float(stats["min_value"])
        row[col.name] = [value]
    return conform(pd.DataFrame(row), table)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_empty_and_good_frames_validate_and_round_trip(name):
    table = TABLES[name]
    SCHEMAS[name].validate(table.empty_frame())
    good = _good_row(table)
    SCHEMAS[name].validate(good)
    back = from_arrow(to_arrow(good, table), table)
    pd.testing.assert_frame_equal(back, good)
    assert to_arrow(good, table).schema.equals(table.arrow_schema())


@pytest.mark.parametrize("name", sorted(TABLES))
def test_null_in_a_required_column_fails(name):
    table = TABLES[name]
    required = [c for c in table.columns if not c.nullable and c.type != "list<string>"]
    good = _good_row(table)
    bad = good.copy()
    bad[required[0].name] = pd.Series([None], dtype=good[required[0].name].dtype)
    with pytest.raises(pa.errors.SchemaErrors):
        SCHEMAS[name].validate(bad, lazy=True)


def test_checks_carry_reason_codes():
    orders = TABLES["orders"]
    bad = _good_row(orders).assign(amount=-1.0)
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        SCHEMAS["orders"].validate(bad, lazy=True)
    assert exc.value.failure_cases["column"].tolist() == ["amount"]
    assert orders.column("amount").checks[0].name == "negative_amount"


def test_strict_schema_rejects_extra_and_wrong_dtype():
    good = _good_row(TABLES["fx_rates"])
    with pytest.raises(pa.errors.SchemaErrors):
        SCHEMAS["fx_rates"].validate(good.assign(extra=1), lazy=True)
    with pytest.raises(pa.errors.SchemaErrors):
        SCHEMAS["fx_rates"].validate(good.assign(rate=good["rate"].astype("str")), lazy=True)


@pytest.mark.parametrize("name", [n for n, t in TABLES.items() if t.primary_key])
def test_declared_primary_keys_are_enforced(name: str) -> None:
    """Every table's pandera schema fails on a duplicate primary key (issue 11)."""
    one = _good_row(TABLES[name])
    SCHEMAS[name].validate(one, lazy=True)
    two = conform(pd.concat([one, one], ignore_index=True), TABLES[name])
    with pytest.raises(pa.errors.SchemaErrors) as err:
        SCHEMAS[name].validate(two, lazy=True)
    assert "unique" in " ".join(map(str, err.value.failure_cases["check"]))
    # The row-level schema (records before deduplication) ignores the key.
    ROW_SCHEMAS[name].validate(two, lazy=True)
