"""Tests for the vectorised value parsers (CONTRACT section 2, "Values")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.values import (
    Parsed,
    detect_day_first,
    is_null,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_id,
    parse_int,
    parse_number,
    parse_text,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def col(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def one(parsed: Parsed) -> object:
    """The single parsed value, or 'INVALID' / None."""
    if parsed.invalid.iloc[0]:
        return "INVALID"
    value = parsed.values.iloc[0]
    return None if pd.isna(value) else value


# ---------------------------------------------------------------------------------------------
# Nulls and text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "  ", "NULL", "null", "None", "N/A", "n/a", "#N/A", "nan", "-", "NA", " NULL "]
)
def test_null_tokens(text: str) -> None:
    assert is_null(col(text)).iloc[0]
    assert pd.isna(parse_text(col(text)).iloc[0])


def test_na_is_not_null_in_country() -> None:
    assert not is_null(col("NA"), na_is_null=False).iloc[0]
    assert parse_text(col(" NA "), na_is_null=False).iloc[0] == "NA"
    assert is_null(col(None, "-"), na_is_null=False).all()


def test_parse_text_trims_and_keeps_index() -> None:
    raw = pd.Series([" a ", None, "b"], index=[10, 11, 12], dtype="str")
    out = parse_text(raw)
    assert out.dtype == "str"
    assert list(out.index) == [10, 11, 12]
    assert out.iloc[0] == "a" and pd.isna(out.iloc[1])


def test_non_str_input_is_accepted() -> None:
    assert parse_number(pd.Series([1, None], dtype=object)).values.iloc[0] == 1.0


# ---------------------------------------------------------------------------------------------
# IDs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 00123 ", "00123"),
        ("A-1", "A-1"),
        ("1.23457E+17", "INVALID"),
        ("1.2e5", "INVALID"),
        ("1E+17", "INVALID"),
        ("12E45", "12E45"),
        ("NULL", None),
    ],
)
def test_parse_id(text: str, expected: object) -> None:
    assert one(parse_id(col(text))) == expected


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001000000000001", "001000000000001AAA"),
        ("001A00000abcdeF", "001A00000abcdeFIAQ"),
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("006Dn00000ABCDE", "006Dn00000ABCDEIA5"),
    ],
)
def test_salesforce_15_to_18(id15: str, id18: str) -> None:
    out = parse_id(col(id15, id18, "short"), salesforce=True).values
    assert out.tolist() == [id18, id18, "short"]
    assert parse_id(col(id15)).values.iloc[0] == id15  # only with the Salesforce preset


def _sf_checksum(id15: str) -> str:
    """Reference (scalar) implementation of Salesforce's case-safe suffix."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    out = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        out += alphabet[bits]
    return id15 + out


@FAST
@given(st.lists(st.text("abcXYZ019", min_size=15, max_size=15), min_size=1, max_size=20))
def test_salesforce_matches_reference(ids: list[str]) -> None:
    out = parse_id(col(*ids), salesforce=True).values.tolist()
    assert out == [_sf_checksum(i) for i in ids]


@FAST
@given(st.lists(st.from_regex(r"\A0{1,4}[0-9]{1,8}\Z"), min_size=1, max_size=20))
def test_parse_id_keeps_leading_zeros(ids: list[str]) -> None:
    parsed = parse_id(col(*[f" {i} " for i in ids]))
    assert parsed.values.tolist() == ids
    assert not parsed.invalid.any()


# ---------------------------------------------------------------------------------------------
# Numbers, integers, booleans
# ---------------------------------------------------------------------------------------------

NUMBER_CASES = [
    ("1234.5", 1234.5),
    ("1,234.50", 1234.5),
    ("1.234,50", 1234.5),
    ("1234,5", 1234.5),
    ("1,234", 1234.0),
    ("1.234.567", 1234567.0),
    ("1 234,50", 1234.5),
    ("$10", 10.0),
    ("€ 1.234,50", 1234.5),
    ("¥1,000", 1000.0),
    ("£3.5", 3.5),
    ("USD 10", 10.0),
    ("10 EUR", 10.0),
    ("US$ 12", 12.0),
    ("(1,234.50)", -1234.5),
    ("($5)", -5.0),
    ("-5", -5.0),
    ("-$5", -5.0),
    ("$-5", -5.0),
    ("10-", -10.0),
    ("  7  ", 7.0),
    ("1e3", 1000.0),
    ("0", 0.0),
    ("abc", "INVALID"),
    ("1,2,3", "INVALID"),
    ("(5", "INVALID"),
    ("--5", "INVALID"),
    ("-(5)", "INVALID"),
    ("$", "INVALID"),
    ("1e400", "INVALID"),
    ("inf", "INVALID"),
    ("N/A", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_parse_number(text: str | None, expected: object) -> None:
    assert one(parse_number(col(text))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("12.0", 12), ("1,200", 1200), (" -3 ", -3), ("12.5", "INVALID"), ("", None)],
)
def test_parse_int(text: str, expected: object) -> None:
    parsed = parse_int(col(text))
    assert parsed.values.dtype == "Int64"
    assert one(parsed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ["true", "TRUE", "1", "yes", "Y", "t", "x", "X"]],
        *[(t, False) for t in ["false", "False", "0", "no", "N", "f"]],
        ("", None),
        ("maybe", "INVALID"),
    ],
)
def test_parse_bool(text: str, expected: object) -> None:
    parsed = parse_bool(col(text))
    assert parsed.values.dtype == "boolean"
    assert one(parsed) == expected


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2))


@FAST
@given(st.lists(finite, min_size=1, max_size=30))
def test_parse_number_round_trips_styles(numbers: list[float]) -> None:
    styles = [
        lambda v: f"{v:.2f}",
        lambda v: f"{v:,.2f}",
        lambda v: (
            ("-" if v < 0 else "")
            + f"{abs(v):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
        ),
        lambda v: f"({abs(v):,.2f})" if v < 0 else f"{v:,.2f}",
        lambda v: ("-" if v < 0 else "") + f"${abs(v):,.2f}",
        lambda v: f" EUR {v:.2f} ",
    ]
    for style in styles:
        parsed = parse_number(col(*[style(v) for v in numbers]))
        assert not parsed.invalid.any(), [style(v) for v in numbers]
        np.testing.assert_allclose(parsed.values.to_numpy(), numbers, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Dates and datetimes
# ---------------------------------------------------------------------------------------------

UTC = dt.UTC
DATETIME_CASES = [
    ("2024-01-31T10:00:00.000+0000", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024-01-31T10:00:00Z", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024-01-31T12:00:00+02:00", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024-01-31 05:00:00-0500", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024-01-31T10:00:00.123456789Z", dt.datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2024-01-31", dt.datetime(2024, 1, 31, tzinfo=UTC)),
    ("2024-1-5", dt.datetime(2024, 1, 5, tzinfo=UTC)),
    ("2024-01-31 10:00", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024/01/31", dt.datetime(2024, 1, 31, tzinfo=UTC)),
    ("2024/01/31 10:00", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("31.01.2024", dt.datetime(2024, 1, 31, tzinfo=UTC)),
    ("31.01.2024 10:00:05", dt.datetime(2024, 1, 31, 10, 0, 5, tzinfo=UTC)),
    ("01/31/2024", dt.datetime(2024, 1, 31, tzinfo=UTC)),
    ("1/31/2024 3:15 PM", dt.datetime(2024, 1, 31, 15, 15, tzinfo=UTC)),
    ("1/31/2024 12:05 AM", dt.datetime(2024, 1, 31, 0, 5, tzinfo=UTC)),
    ("1706695200000", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ("2024-02-29", dt.datetime(2024, 2, 29, tzinfo=UTC)),
    ("2024-02-30", "INVALID"),
    ("2023-02-29", "INVALID"),
    ("02/30/2024", "INVALID"),
    ("2024-13-01", "INVALID"),
    ("2024-01-31 25:00", "INVALID"),
    ("garbage", "INVALID"),
    ("45321", "INVALID"),  # a plain number is only a date in Excel-serial mode
    ("", None),
    ("NULL", None),
]


@pytest.mark.parametrize(("text", "expected"), DATETIME_CASES)
def test_parse_datetime(text: str, expected: object) -> None:
    parsed = parse_datetime(col(text))
    assert str(parsed.values.dtype) == "datetime64[us, UTC]"
    assert one(parsed) == expected


def test_parse_datetime_mixed_column() -> None:
    texts = [t for t, _ in DATETIME_CASES if "/" not in t or t.startswith("2024/")]
    expected = [e for t, e in DATETIME_CASES if "/" not in t or t.startswith("2024/")]
    parsed = parse_datetime(col(*texts))
    got = [
        "INVALID" if bad else (None if pd.isna(v) else v)
        for v, bad in zip(parsed.values, parsed.invalid, strict=True)
    ]
    assert got == expected


def test_day_first_decided_per_column() -> None:
    assert detect_day_first(col("01/02/2024", "13/02/2024")) is True
    assert detect_day_first(col("01/02/2024", "02/13/2024")) is False
    assert detect_day_first(col("01/02/2024", None)) is None
    assert detect_day_first(col("2024-01-01")) is None
    day_first = parse_datetime(col("01/02/2024", "13/02/2024")).values
    assert day_first.iloc[0] == dt.datetime(2024, 2, 1, tzinfo=UTC)
    month_first = parse_datetime(col("01/02/2024")).values
    assert month_first.iloc[0] == dt.datetime(2024, 1, 2, tzinfo=UTC)
    forced = parse_datetime(col("01/02/2024"), day_first=True).values
    assert forced.iloc[0] == dt.datetime(2024, 2, 1, tzinfo=UTC)


def test_naive_values_are_local_time_dst_safe() -> None:
    out = parse_datetime(
        col("2024-07-01 12:00", "2024-03-10 02:30", "2024-11-03 01:30", "2024-07-01T12:00:00Z"),
        tz="America/New_York",
    ).values
    assert out.iloc[0] == dt.datetime(2024, 7, 1, 16, tzinfo=UTC)
    assert out.iloc[1] == dt.datetime(2024, 3, 10, 7, tzinfo=UTC)  # gap: shifted forward to 03:00
    assert out.iloc[2] == dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # overlap: earlier (EDT)
    assert out.iloc[3] == dt.datetime(2024, 7, 1, 12, tzinfo=UTC)  # explicit offset wins


def test_excel_serials() -> None:
    parsed = parse_datetime(col("45321", "45321.5", "0", "2024-01-31"), excel_serial=True)
    assert parsed.values.iloc[0] == dt.datetime(2024, 1, 30, tzinfo=UTC)
    assert parsed.values.iloc[1] == dt.datetime(2024, 1, 30, 12, tzinfo=UTC)
    assert parsed.invalid.tolist() == [False, False, True, False]
    local = parse_datetime(col("45321.5"), excel_serial=True, tz="Europe/Berlin").values
    assert local.iloc[0] == dt.datetime(2024, 1, 30, 11, tzinfo=UTC)


def test_parse_date() -> None:
    parsed = parse_date(
        col("2024-01-31T23:30:00-05:00", "2024-01-31", "01/31/2024 10:00", "45321", "x"),
        excel_serial=True,
    )
    assert str(parsed.values.dtype) == "datetime64[s]"
    assert parsed.values.iloc[:4].tolist() == [
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-01-30"),
    ]
    assert parsed.invalid.tolist() == [False, False, False, False, True]
    in_new_york = parse_date(col("2024-02-01T03:00:00Z"), tz="America/New_York").values
    assert in_new_york.iloc[0] == pd.Timestamp("2024-01-31")


moments = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def _epoch_ms(moment: dt.datetime) -> str:
    """13-digit epoch milliseconds where the instant has 13 digits (2001..2286), else ISO."""
    text = str(int(moment.timestamp() * 1000))
    return text if len(text) == 13 else moment.isoformat()


@FAST
@given(st.lists(moments, min_size=1, max_size=20), st.sampled_from(range(6)))
def test_parse_datetime_round_trips(values: list[dt.datetime], style: int) -> None:
    formatters = [
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        lambda d: d.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat(),
        lambda d: d.astimezone(dt.timezone(dt.timedelta(hours=-8))).strftime(
            "%Y-%m-%dT%H:%M:%S.%f%z"
        ),
        lambda d: _epoch_ms(d),
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f"),  # naive: local time in UTC
        lambda d: d.strftime("%m/%d/%Y %H:%M:%S.%f")[:-3],
    ]
    parsed = parse_datetime(col(*[formatters[style](v) for v in values]))
    assert not parsed.invalid.any()
    assert parsed.values.tolist() == values


# ---------------------------------------------------------------------------------------------
# Every parser: never raises, and each row is exactly one of value / invalid / null
# ---------------------------------------------------------------------------------------------

PARSERS = {
    "id": lambda s: parse_id(s, salesforce=True),
    "number": parse_number,
    "int": parse_int,
    "bool": parse_bool,
    "datetime": lambda s: parse_datetime(s, tz="Europe/Berlin"),
    "datetime_excel": lambda s: parse_datetime(s, excel_serial=True),
    "date": lambda s: parse_date(s, tz="Asia/Tokyo", excel_serial=True),
}


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=0, max_size=25))
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_total_on_arbitrary_text(name: str, texts: list[str | None]) -> None:
    raw = pd.Series(texts, dtype="str", index=range(100, 100 + len(texts)))
    parsed = PARSERS[name](raw)
    null = is_null(raw)
    has_value = parsed.values.notna()
    assert parsed.values.index.equals(raw.index) and parsed.invalid.index.equals(raw.index)
    assert (has_value.astype(int) + parsed.invalid.astype(int) + null.astype(int) == 1).all()


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=25))
def test_parse_text_and_day_first_total(texts: list[str | None]) -> None:
    raw = pd.Series(texts, dtype="str")
    assert len(parse_text(raw)) == len(raw)
    assert detect_day_first(raw) in (True, False, None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=40),
    st.integers(0, 5),
    st.booleans(),
)
def test_trim_whitespace_equals_arrows_trim(
    cells: list[str | None], skip: int, large: bool
) -> None:
    """The shortcut (no copy when no cell can need trimming) trims exactly as Arrow does, on
    any text (every Unicode space, control characters) and on sliced arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from assets.ingest.values import trim_whitespace

    arr = pa.array(cells, pa.large_string() if large else pa.string())[skip:]
    assert trim_whitespace(arr).equals(pc.utf8_trim_whitespace(arr))
    chunked = pa.chunked_array([arr])
    assert trim_whitespace(chunked).equals(pc.utf8_trim_whitespace(chunked))
