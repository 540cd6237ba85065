"""The pandera check of a multi-day ingest run: primary keys hold within each day's partition."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_pipeline.core.checks import pandera_days_check_result as days_check_result
from schemas import TABLES, conform
from tests.unit.test_schemas import _good_row


def _accounts(*ids: str) -> pd.DataFrame:
    table = TABLES["accounts"]
    rows = pd.concat([_good_row(table)] * len(ids), ignore_index=True)
    return conform(rows.assign(account_id=list(ids)), table)


def pandera_days_check_result(table: str, frames: list[tuple[str, pd.DataFrame]]):
    """The check over the days' frames as the ingest passes them: concatenated, a day per row."""
    parts = [frame for _, frame in frames]
    combined = pd.concat(parts, ignore_index=True) if parts else TABLES[table].empty_frame()
    days = np.repeat([day for day, _ in frames], [len(frame) for frame in parts])
    return days_check_result(table, combined, days)


def test_a_record_updated_on_the_next_day_is_not_a_duplicate():
    valid = pandera_days_check_result(
        "accounts", [("2024-01-01", _accounts("a1", "a2")), ("2024-01-02", _accounts("a1"))]
    )
    assert valid.passed, valid.metadata
    assert valid.metadata["rows"].value == 3


def test_a_duplicate_within_a_day_fails_and_names_the_day():
    result = pandera_days_check_result(
        "accounts", [("2024-01-01", _accounts("a1")), ("2024-01-02", _accounts("a1", "a1"))]
    )
    assert not result.passed
    assert result.metadata["failed_day"].value == "2024-01-02"
    assert result.metadata["rows"].value == 3


def test_a_row_failure_on_any_day_fails_and_names_that_day():
    bad = _accounts("a3")
    bad["account_id"] = pd.Series([None], dtype=bad["account_id"].dtype)  # a required key missing
    result = pandera_days_check_result(
        "accounts", [("2024-01-01", _accounts("a1")), ("2024-01-02", bad)]
    )
    assert not result.passed
    assert result.metadata["failed_day"].value == "2024-01-02"


def test_no_days_is_an_empty_valid_table():
    assert pandera_days_check_result("accounts", []).passed
