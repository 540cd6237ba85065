"""Unit tests of `clean_frame` on tiny hand-written canonical frames (contract section 2,
"Values" and "Rows in = rows out"). Every frame holds raw text (`str` dtype), as the presets
hand it over."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.cleaning import CleanContext, CleanResult, clean_frame
from assets.ingest.currency import lookup_rates
from schemas.ingest import ROW_REASONS

DAY = date(2024, 3, 4)
SOURCE = "2024-03-04/x.csv"

OPP = {"opportunity_id": "O1", "stage": "lead", "created_at": "2024-03-01", "amount": "10"}
ORDER = {"order_id": "1", "account_id": "A", "order_date": "2024-03-01", "amount": "10"}
ACTIVITY = {"activity_id": "T1", "activity_type": "call", "occurred_at": "2024-03-01"}
ACCOUNT = {"account_id": "A1", "account_name": "Acme"}
CAMPAIGN = {"campaign_id": "C1", "campaign_name": "Spring", "cost": "10"}
BASE = {
    "opportunities": OPP,
    "orders": ORDER,
    "activities": ACTIVITY,
    "accounts": ACCOUNT,
    "campaigns": CAMPAIGN,
    "contacts": {"contact_id": "K1", "created_at": "2024-03-01"},
    "reps": {"rep_id": "R1", "rep_name": "Jane Doe"},
    "targets": {"period": "2024-03", "target_amount": "100"},
    "fx_rates": {"rate_date": "2024-03-01", "currency": "EUR", "rate": "1.1"},
}


def frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype="str")


def clean(
    entity: str, rows: list[dict[str, str]], ctx: CleanContext | None = None, **kw
) -> CleanResult:
    f = frame(rows)
    result = clean_frame(
        entity,
        f,
        pd.Series(range(1, len(f) + 1)),
        source_file=SOURCE,
        ctx=ctx or CleanContext(landing_day=DAY),
        **kw,
    )
    # Rows in = rows out, for every call in this module.
    assert result.rows_read == len(f)
    assert result.rows_read == result.rows_clean + result.rows_quarantined + result.rows_duplicate
    return result


def one_row(entity: str, ctx: CleanContext | None = None, **overrides: str) -> CleanResult:
    return clean(entity, [{**BASE[entity], **overrides}], ctx)


def reasons(result: CleanResult) -> list[tuple[int, str]]:
    q = result.quarantine
    return list(zip(q["source_row"].astype(int), q["reason_code"], strict=True))


# --------------------------------------------------------------------------------------------
# Every base row is clean (so each reason test below changes exactly one thing)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", sorted(BASE))
def test_base_rows_are_clean(entity: str) -> None:
    fx = pd.DataFrame(
        {"rate_date": pd.to_datetime(["2024-01-01"]), "currency": ["EUR"], "rate": [1.1]}
    )
    result = one_row(entity, CleanContext(landing_day=DAY, fx_rates=fx))
    assert result.rows_clean == 1 and result.rows_quarantined == 0, result.quarantine.to_dict()
    row = result.clean.iloc[0]
    assert row["_source_file"] == SOURCE and row["_source_row"] == 1
    assert not row["is_deleted"]


# --------------------------------------------------------------------------------------------
# One test per row reason code
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "overrides", "column"),
    [
        ("opportunities", {"stage": ""}, "stage"),
        ("opportunities", {"opportunity_id": "  "}, "opportunity_id"),
        ("opportunities", {"created_at": "NULL"}, "created_at"),
        ("orders", {"amount": "n/a"}, "amount"),
        ("orders", {"account_id": "-"}, "account_id"),
        ("accounts", {"account_name": "None"}, "account_name"),
        ("campaigns", {"cost": ""}, "cost"),
        # closed deals need amount and close date
        (
            "opportunities",
            {"stage": "Closed Won", "close_date": "2024-03-01", "amount": ""},
            "amount",
        ),
        ("opportunities", {"stage": "closed_lost"}, "close_date"),
    ],
)
def test_missing_required(entity: str, overrides: dict[str, str], column: str) -> None:
    result = one_row(entity, **overrides)
    assert reasons(result) == [(1, "missing_required")]
    assert f"missing_required ({column})" in result.quarantine["reason_detail"].iloc[0]


def test_open_deal_needs_neither_amount_nor_close_date() -> None:
    result = one_row("opportunities", stage="negotiation", amount="", account_id="")
    assert result.rows_clean == 1
    assert pd.isna(result.clean["amount"].iloc[0]) and pd.isna(result.clean["account_id"].iloc[0])


@pytest.mark.parametrize(
    ("entity", "overrides", "column"),
    [
        ("opportunities", {"amount": "12 apples"}, "amount"),
        ("opportunities", {"probability": "likely"}, "probability"),
        ("accounts", {"employees": "many"}, "employees"),
        ("accounts", {"employees": "12.5"}, "employees"),
        ("activities", {"duration_minutes": "1.5x"}, "duration_minutes"),
        ("fx_rates", {"rate": "one"}, "rate"),
    ],
)
def test_invalid_number(entity: str, overrides: dict[str, str], column: str) -> None:
    result = one_row(entity, **overrides)
    assert reasons(result) == [(1, "invalid_number")]
    assert f"invalid_number ({column})" in result.quarantine["reason_detail"].iloc[0]


@pytest.mark.parametrize(
    ("entity", "overrides"),
    [
        ("opportunities", {"amount": "(1,234.50)"}),
        ("orders", {"amount": "-5"}),
        ("campaigns", {"cost": "$-3"}),
        ("targets", {"target_amount": "100-"}),
    ],
)
def test_negative_amount(entity: str, overrides: dict[str, str]) -> None:
    assert reasons(one_row(entity, **overrides)) == [(1, "negative_amount")]


@pytest.mark.parametrize(
    ("entity", "overrides"),
    [
        ("opportunities", {"created_at": "2024-02-30"}),
        ("opportunities", {"close_date": "next week"}),
        ("orders", {"order_date": "31.13.2024"}),
        ("activities", {"occurred_at": "yesterday"}),
        ("targets", {"period": "2024-13"}),
    ],
)
def test_invalid_date(entity: str, overrides: dict[str, str]) -> None:
    assert reasons(one_row(entity, **overrides)) == [(1, "invalid_date")]


def test_future_date_is_after_the_end_of_the_landing_day_in_the_settings_tz() -> None:
    """New York: 2024-03-04 ends at 2024-03-05T05:00Z (exclusive)."""
    ctx = CleanContext(landing_day=DAY, timezone="America/New_York")
    values = [
        "2024-03-04 23:59:59",  # naive = New York wall time: the last second of the day
        "2024-03-05T04:59:59Z",  # the same instant, explicit
        "2024-03-05T05:00:00Z",  # the first instant of the next day
        "2024-03-05 00:00",  # naive midnight, New York
        "2024-03-05",
    ]
    rows = [{"contact_id": f"K{i}", "created_at": v} for i, v in enumerate(values)]
    result = clean("contacts", rows, ctx)
    assert reasons(result) == [(3, "future_date"), (4, "future_date"), (5, "future_date")]
    assert result.quarantine["reason_detail"].tolist() == ["future_date (created_at)"] * 3
    # The same values in UTC: the naive 23:59:59 is still the landing day, the rest is not.
    utc = clean("contacts", rows, CleanContext(landing_day=DAY))
    assert [r for r, _ in reasons(utc)] == [2, 3, 4, 5]


def test_future_date_east_of_utc() -> None:
    """Tokyo: 2024-03-04 ends at 2024-03-04T15:00Z, so 16:00Z the same UTC day is future."""
    ctx = CleanContext(landing_day=DAY, timezone="Asia/Tokyo")
    rows = [
        {**OPP, "opportunity_id": "O1", "created_at": "2024-03-04T14:59:59Z"},
        {**OPP, "opportunity_id": "O2", "created_at": "2024-03-04T16:00:00Z"},
    ]
    assert reasons(clean("opportunities", rows, ctx)) == [(2, "future_date")]
    assert reasons(clean("opportunities", rows)) == []


@pytest.mark.parametrize(
    "timezone", ["America/Santiago", "America/Havana", "Africa/Cairo", "Europe/London"]
)
def test_landing_day_bounds_exist_around_midnight_dst_jumps(timezone: str) -> None:
    """Zones whose clocks jump at midnight: the day still has a start and an end."""
    for day in pd.date_range("2024-01-01", "2024-12-31", freq="D"):
        ctx = CleanContext(landing_day=day.date(), timezone=timezone)
        assert ctx.day_start < ctx.day_end
        assert pd.Timedelta(hours=22) <= ctx.day_end - ctx.day_start <= pd.Timedelta(hours=26)
    # 2024-09-08 00:00 does not exist in Santiago: the day starts at 01:00 local (04:00Z).
    santiago = CleanContext(landing_day=date(2024, 9, 8), timezone="America/Santiago")
    assert santiago.day_start == pd.Timestamp("2024-09-08T04:00:00Z")
    result = one_row("reps", santiago)
    assert result.clean["updated_at"].iloc[0] == santiago.day_start


@pytest.mark.parametrize(
    ("entity", "overrides", "column"),
    [
        ("activities", {"activity_type": "fax"}, "activity_type"),
        ("activities", {"is_deleted": "maybe"}, "is_deleted"),
        ("reps", {"is_active": "sometimes"}, "is_active"),
        ("orders", {"status": "lost"}, "status"),
    ],
)
def test_invalid_value(entity: str, overrides: dict[str, str], column: str) -> None:
    result = one_row(entity, **overrides)
    assert reasons(result) == [(1, "invalid_value")]
    assert result.quarantine["reason_detail"].iloc[0] == f"invalid_value ({column})"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Call", "call"), (" EMAIL ", "email"), ("Meeting", "meeting"), ("demo", "demo")],
)
def test_activity_type_normalised(raw: str, expected: str) -> None:
    assert one_row("activities", activity_type=raw).clean["activity_type"].tolist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("0", False), ("yes", True), ("n", False), ("x", True), ("", False)],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert one_row("activities", is_deleted=raw).clean["is_deleted"].tolist() == [expected]


def test_unknown_stage() -> None:
    result = one_row("opportunities", stage="Mystery Stage")
    assert reasons(result) == [(1, "unknown_stage")]
    custom = one_row(
        "opportunities", CleanContext(landing_day=DAY, stage_aliases={"Mystery Stage": "proposal"})
    )
    assert custom.rows_quarantined == 0


@pytest.mark.parametrize(
    ("raw", "stage"),
    [
        ("Prospecting", "lead"),
        ("Proposal/Price Quote", "proposal"),
        ("CLOSED_WON", "closed_won"),
        ("contractsent", "negotiation"),
        (" needs analysis ", "needs_analysis"),
    ],
)
def test_stage_mapping(raw: str, stage: str) -> None:
    row = {"stage": raw, "close_date": "2024-03-01"}
    assert one_row("opportunities", **row).clean["stage"].tolist() == [stage]


@pytest.mark.parametrize("probability", ["150", "-5", "100.5"])
def test_probability_out_of_range(probability: str) -> None:
    assert reasons(one_row("opportunities", probability=probability)) == [
        (1, "probability_out_of_range")
    ]


@pytest.mark.parametrize(
    ("entity", "column"),
    [
        ("opportunities", "opportunity_id"),
        ("opportunities", "account_id"),
        ("orders", "opportunity_id"),
        ("activities", "contact_id"),
    ],
)
def test_mangled_id(entity: str, column: str) -> None:
    result = one_row(entity, **{column: "1.23457E+17"})
    assert reasons(result) == [(1, "mangled_id")]
    assert result.quarantine["reason_detail"].iloc[0] == f"mangled_id ({column})"


def test_ids_stay_strings() -> None:
    result = one_row("orders", order_id=" 000123 ", account_id="12E45")
    assert result.clean["order_id"].tolist() == ["000123"]
    assert result.clean["account_id"].tolist() == ["12E45"]


def test_no_fx_rate() -> None:
    result = one_row("opportunities", currency="EUR")
    assert reasons(result) == [(1, "no_fx_rate")]
    assert result.quarantine["reason_detail"].iloc[0] == "no_fx_rate (amount)"
    # No amount: nothing to convert, so no rate is needed.
    assert one_row("opportunities", currency="EUR", amount="").rows_clean == 1


def test_first_reason_in_contract_order_wins_and_detail_lists_all() -> None:
    row = {
        "account_id": "1.2E+5",  # mangled_id
        "stage": "Mystery",  # unknown_stage
        "probability": "300",  # would be out of range, but the stage is unknown
        "created_at": "not a date",  # invalid_date
        "amount": "-7",  # negative_amount
        "currency": "EUR",  # no_fx_rate
    }
    result = one_row("opportunities", **row)
    q = result.quarantine.iloc[0]
    assert q["reason_code"] == "negative_amount"
    detail = q["reason_detail"]
    found = [r for r in ROW_REASONS if r in detail]
    assert found == [
        "negative_amount",
        "invalid_date",
        "unknown_stage",
        "probability_out_of_range",
        "mangled_id",
        "no_fx_rate",
    ]
    # The detail lists the problems in contract order.
    positions = [detail.index(r) for r in found]
    assert positions == sorted(positions)
    assert "(account_id)" in detail and "(created_at)" in detail


def test_missing_required_outranks_everything() -> None:
    result = one_row("orders", amount="", order_date="soon", account_id="1E+17")
    assert result.quarantine["reason_code"].tolist() == ["missing_required"]
    detail = result.quarantine["reason_detail"].iloc[0]
    assert detail.startswith("missing_required (amount)")
    assert "invalid_date (order_date)" in detail and "mangled_id (account_id)" in detail


def test_quarantine_columns_and_raw_record() -> None:
    result = clean(
        "opportunities",
        [OPP, {**OPP, "opportunity_id": "O2", "stage": "Mystery", "created_at": ""}],
    )
    q = result.quarantine
    assert list(q.columns) == [
        "entity",
        "source_file",
        "source_row",
        "reason_code",
        "reason_detail",
        "raw_record",
    ]
    row = q.iloc[0]
    assert (row["entity"], row["source_file"], row["source_row"]) == ("opportunities", SOURCE, 2)
    assert json.loads(row["raw_record"])["stage"] == "Mystery"
    assert set(q["reason_code"]) <= set(ROW_REASONS)


# --------------------------------------------------------------------------------------------
# Duplicates: exact copies and older versions of an ID in the same file
# --------------------------------------------------------------------------------------------


def test_exact_duplicates_count_as_duplicates() -> None:
    result = clean("accounts", [ACCOUNT, ACCOUNT, ACCOUNT, {**ACCOUNT, "account_id": "A2"}])
    assert (result.rows_clean, result.rows_duplicate, result.rows_quarantined) == (2, 2, 0)
    assert result.clean["_source_row"].tolist() == [3, 4]


def test_exact_duplicates_of_a_bad_row_quarantine_it_once() -> None:
    bad = {**ACCOUNT, "account_name": ""}
    result = clean("accounts", [bad, bad])
    assert (result.rows_clean, result.rows_duplicate, result.rows_quarantined) == (0, 1, 1)
    assert result.quarantine["source_row"].tolist() == [2]


def test_latest_updated_at_wins() -> None:
    rows = [
        {**ACCOUNT, "account_name": "old", "updated_at": "2024-03-01T10:00:00Z"},
        {**ACCOUNT, "account_name": "newest", "updated_at": "2024-03-03T10:00:00Z"},
        {**ACCOUNT, "account_name": "middle", "updated_at": "2024-03-02T10:00:00Z"},
        {**ACCOUNT, "account_id": "A2"},
    ]
    result = clean("accounts", rows)
    assert (result.rows_clean, result.rows_duplicate) == (2, 2)
    assert result.clean.set_index("account_id")["account_name"].to_dict() == {
        "A1": "newest",
        "A2": "Acme",
    }
    assert result.clean["_source_row"].tolist() == [2, 4]  # file order kept


def test_equal_timestamps_the_later_row_wins() -> None:
    rows = [
        {**ACCOUNT, "account_name": "first", "updated_at": "2024-03-01"},
        {**ACCOUNT, "account_name": "second", "updated_at": "2024-03-01"},
        {**ACCOUNT, "account_name": "third", "updated_at": "2024-03-01T00:00:00Z"},
    ]
    result = clean("accounts", rows)
    assert result.clean["account_name"].tolist() == ["third"] and result.rows_duplicate == 2


def test_versions_without_updated_at_the_later_row_wins() -> None:
    rows = [{**ORDER, "amount": "1"}, {**ORDER, "amount": "2"}]
    result = clean("orders", rows)
    assert result.clean["amount"].tolist() == [2.0] and result.rows_duplicate == 1


def test_a_quarantined_version_is_not_a_duplicate() -> None:
    rows = [
        {**ACCOUNT, "updated_at": "2024-03-01"},
        {**ACCOUNT, "updated_at": "2024-03-02", "employees": "lots"},
    ]
    result = clean("accounts", rows)
    assert (result.rows_clean, result.rows_quarantined, result.rows_duplicate) == (1, 1, 0)


def test_targets_key_is_period_rep_region() -> None:
    rows = [
        {"period": "2024-03", "target_amount": "1"},
        {"period": "2024-3", "target_amount": "2"},  # same company target, later row wins
        {"period": "2024-03", "rep_id": "R1", "target_amount": "3"},
        {"period": "2024-03", "region": "EMEA", "target_amount": "4"},
    ]
    result = clean("targets", rows)
    assert result.rows_duplicate == 1
    assert sorted(result.clean["target_amount"]) == [2.0, 3.0, 4.0]


# --------------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------------

NY = CleanContext(landing_day=DAY, timezone="America/New_York")
NY_MIDNIGHT = pd.Timestamp("2024-03-04T05:00:00Z")


def test_updated_at_falls_back_to_created_at_then_landing_day() -> None:
    rows = [
        {**OPP, "opportunity_id": "O1", "created_at": "2024-03-01 08:00"},
        {**OPP, "opportunity_id": "O2", "updated_at": "2024-03-02T00:00:00Z"},
    ]
    opp = clean("opportunities", rows, NY).clean.set_index("opportunity_id")["updated_at"]
    assert opp["O1"] == pd.Timestamp("2024-03-01T13:00:00Z")  # 08:00 New York (EST)
    assert opp["O2"] == pd.Timestamp("2024-03-02T00:00:00Z")
    # No created_at in the entity: 00:00 of the landing day in the settings time zone.
    for entity in ("reps", "orders", "activities", "campaigns", "targets", "fx_rates"):
        updated = one_row(entity, NY).clean["updated_at"]
        assert updated.tolist() == [NY_MIDNIGHT], entity
        assert str(updated.dtype) == "datetime64[us, UTC]"


def test_accounts_created_at_defaults_to_the_landing_day() -> None:
    result = clean(
        "accounts", [ACCOUNT, {**ACCOUNT, "account_id": "A2", "created_at": "2020-05-01"}], NY
    )
    c = result.clean.set_index("account_id")
    assert c.loc["A1", "created_at"] == NY_MIDNIGHT and c.loc["A1", "updated_at"] == NY_MIDNIGHT
    assert c.loc["A2", "created_at"] == pd.Timestamp("2020-05-01T04:00:00Z")


def test_currency_defaults_to_the_reporting_currency() -> None:
    ctx = CleanContext(landing_day=DAY, currency="EUR")
    result = clean("orders", [ORDER, {**ORDER, "order_id": "2", "currency": "eur"}], ctx)
    assert result.clean["currency"].tolist() == ["EUR", "EUR"]
    assert result.clean["amount"].tolist() == [10.0, 10.0]


def test_probability_defaults_to_the_stage() -> None:
    rows = [
        {**OPP, "opportunity_id": str(i), "stage": stage, "close_date": "2024-03-01"}
        for i, stage in enumerate(
            [
                "lead",
                "qualified",
                "needs_analysis",
                "proposal",
                "negotiation",
                "closed_won",
                "closed_lost",
            ]
        )
    ]
    result = clean("opportunities", rows)
    assert result.clean["probability"].tolist() == [10, 20, 40, 60, 80, 100, 0]


def test_fractional_probability_column_is_scaled() -> None:
    rows = [
        {**OPP, "opportunity_id": "1", "probability": "0.25"},
        {**OPP, "opportunity_id": "2", "probability": "1"},
        {**OPP, "opportunity_id": "3", "probability": ""},
        {**OPP, "opportunity_id": "4", "probability": "0"},
    ]
    result = clean("opportunities", rows)
    assert result.clean["probability"].tolist() == [25.0, 100.0, 10.0, 0.0]


def test_percent_probability_column_is_not_scaled() -> None:
    rows = [
        {**OPP, "opportunity_id": "1", "probability": "0.5"},
        {**OPP, "opportunity_id": "2", "probability": "60"},
    ]
    assert clean("opportunities", rows).clean["probability"].tolist() == [0.5, 60.0]


def test_order_status_defaults_to_completed() -> None:
    rows = [
        ORDER,
        {**ORDER, "order_id": "2", "status": "Cancelled"},
        {**ORDER, "order_id": "3", "status": " REFUNDED "},
    ]
    assert clean("orders", rows).clean["status"].tolist() == ["completed", "cancelled", "refunded"]


def test_country_na_is_namibia_but_other_columns_treat_it_as_null() -> None:
    rows = [
        {**ACCOUNT, "country": "NA", "industry": "NA"},
        {**ACCOUNT, "account_id": "A2", "country": "N/A"},
        {**ACCOUNT, "account_id": "A3", "country": " NA "},
    ]
    c = clean("accounts", rows).clean
    assert c["country"].iloc[0] == "NA" and pd.isna(c["country"].iloc[1])
    assert c["country"].iloc[2] == "NA"
    assert pd.isna(c["industry"].iloc[0])


# --------------------------------------------------------------------------------------------
# FX conversion
# --------------------------------------------------------------------------------------------

FX = pd.DataFrame(
    {
        "rate_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-15"]),
        "currency": ["EUR", "EUR", "EUR", "GBP"],
        "rate": [1.1, 1.2, 1.3, 1.25],
    }
)
FX_CTX = CleanContext(landing_day=DAY, fx_rates=FX)


def test_orders_use_the_latest_rate_on_or_before_order_date() -> None:
    rows = [
        {
            **ORDER,
            "order_id": "1",
            "order_date": "2024-01-31",
            "amount": "10.005",
            "currency": "EUR",
        },
        {
            **ORDER,
            "order_id": "2",
            "order_date": "2024-02-01",
            "amount": "1,234.56",
            "currency": "eur",
        },
        {**ORDER, "order_id": "3", "order_date": "2023-12-31", "amount": "10", "currency": "EUR"},
        {
            **ORDER,
            "order_id": "4",
            "order_date": "2024-03-02",
            "amount": "3.333",
            "currency": "GBP",
        },
        {**ORDER, "order_id": "5", "order_date": "2024-03-02", "amount": "7.777"},
    ]
    result = clean("orders", rows, FX_CTX)
    c = result.clean.set_index("order_id")
    assert c["amount"].to_dict() == {"1": 11.01, "2": 1481.47, "4": 4.17, "5": 7.78}
    assert c["amount_local"].to_dict() == {"1": 10.005, "2": 1234.56, "4": 3.333, "5": 7.777}
    assert c["currency"].to_dict() == {"1": "EUR", "2": "EUR", "4": "GBP", "5": "USD"}
    assert reasons(result) == [(3, "no_fx_rate")]  # before the first EUR rate


def test_opportunities_use_close_date_else_the_local_date_of_created_at() -> None:
    ctx = CleanContext(landing_day=DAY, timezone="Asia/Tokyo", fx_rates=FX)
    rows = [
        # 2024-01-31T23:30Z is 2024-02-01 in Tokyo: the 2024-02-01 rate (1.2), not 1.1.
        {**OPP, "opportunity_id": "1", "created_at": "2024-01-31T23:30:00Z", "currency": "EUR"},
        {**OPP, "opportunity_id": "2", "close_date": "2024-03-01", "currency": "EUR"},
    ]
    c = clean("opportunities", rows, ctx).clean.set_index("opportunity_id")
    assert c["amount"].to_dict() == {"1": 12.0, "2": 13.0}
    utc = clean("opportunities", rows[:1], CleanContext(landing_day=DAY, fx_rates=FX))
    assert utc.clean["amount"].tolist() == [11.0]


def test_campaigns_use_start_date_else_updated_at_and_targets_the_period() -> None:
    campaigns = [
        {**CAMPAIGN, "campaign_id": "1", "currency": "EUR", "updated_at": "2024-02-10"},
        {**CAMPAIGN, "campaign_id": "2", "currency": "EUR", "start_date": "2024-03-01"},
    ]
    c = clean("campaigns", campaigns, FX_CTX).clean.set_index("campaign_id")
    assert c["cost"].to_dict() == {"1": 12.0, "2": 13.0}
    assert c["cost_local"].to_dict() == {"1": 10.0, "2": 10.0}
    targets = [{"period": "2024-02", "target_amount": "100", "currency": "EUR"}]
    assert clean("targets", targets, FX_CTX).clean["target_amount"].tolist() == [120.0]


def test_lookup_rates_directly() -> None:
    dates = pd.Series(
        pd.to_datetime(["2024-02-14", "2024-02-15", "2024-01-01", None, "2024-05-01"])
    )
    currencies = pd.Series(["GBP", "GBP", "USD", "EUR", "JPY"], dtype="str")
    rates = lookup_rates(dates, currencies, FX, "USD")
    assert rates.isna().tolist() == [True, False, False, True, True]
    assert rates.iloc[1] == 1.25 and rates.iloc[2] == 1.0


def test_lookup_rates_follows_each_new_fx_frame() -> None:
    """The prepared rate table is reused only for the same fx frame: rates that arrive later
    (a new frame, as a day's ingest builds one) are used at once."""
    dates = pd.Series(pd.to_datetime(["2024-02-20"]))
    gbp = pd.Series(["GBP"], dtype="str")
    assert lookup_rates(dates, gbp, FX, "USD").tolist() == [1.25]
    newer = pd.concat(
        [
            FX,
            pd.DataFrame(
                {"rate_date": pd.to_datetime(["2024-02-19"]), "currency": ["GBP"], "rate": [1.5]}
            ),
        ],
        ignore_index=True,
    )
    assert lookup_rates(dates, gbp, newer, "USD").tolist() == [1.5]
    assert lookup_rates(dates, gbp, FX, "USD").tolist() == [1.25]


# --------------------------------------------------------------------------------------------
# PII
# --------------------------------------------------------------------------------------------

KEY = "s3cret-key"
PERSON = {
    "contact_id": "K1",
    "created_at": "2024-03-01",
    "email": "  Jane.Doe@Example.COM ",
    "phone": " +1 555 0100 ",
    "first_name": "Jane",
    "last_name": "Doe",
}


def digest(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_pii_is_hmac_sha256_of_the_normalised_value() -> None:
    rows = [PERSON, {**PERSON, "contact_id": "K2", "email": "jane.doe@example.com"}]
    result = clean("contacts", rows, CleanContext(landing_day=DAY, pii_key=KEY))
    c = result.clean
    assert c["email_hash"].tolist() == [digest("jane.doe@example.com")] * 2
    assert c["phone_hash"].iloc[0] == digest("+1 555 0100")
    assert c["first_name_hash"].iloc[0] == digest("Jane")
    assert c["last_name_hash"].iloc[0] == digest("Doe")
    assert not {"email", "phone", "first_name", "last_name"} & set(c.columns)


def test_pii_without_a_key_is_null() -> None:
    c = clean("contacts", [PERSON]).clean
    for column in ("email_hash", "phone_hash", "first_name_hash", "last_name_hash"):
        assert c[column].isna().all()
    assert not {"email", "phone", "first_name", "last_name"} & set(c.columns)
    assert "Jane" not in c.astype("str").to_string()


@pytest.mark.parametrize("key", [KEY, None])
def test_quarantine_never_holds_clear_pii(key: str | None) -> None:
    bad = {**PERSON, "created_at": "garbage"}
    result = clean("contacts", [bad], CleanContext(landing_day=DAY, pii_key=key))
    raw = result.quarantine["raw_record"].iloc[0]
    record = json.loads(raw)
    assert record["contact_id"] == "K1" and record["created_at"] == "garbage"
    for column in ("email", "phone", "first_name", "last_name"):
        assert record[column] == "***"
    for clear in ("Jane", "Doe", "555", "@"):
        assert clear not in raw


def test_quarantine_masks_vendor_pii_headers() -> None:
    """With a vendor raw frame, the file's own PII headers are masked."""
    bad = {**PERSON, "created_at": "garbage"}
    f = frame([bad])
    raw_frame = f.rename(
        columns={"email": "Email", "phone": "Phone Number", "contact_id": "Record ID"}
    )
    raw_frame = raw_frame.rename(columns={"first_name": "First Name", "last_name": "Last Name"})
    result = clean_frame(
        "contacts",
        f,
        pd.Series([7]),
        source_file=SOURCE,
        ctx=CleanContext(landing_day=DAY),
        raw_frame=raw_frame,
        pii_headers={"Email", "Phone Number", "First Name", "Last Name"},
    )
    record = json.loads(result.quarantine["raw_record"].iloc[0])
    assert record["Record ID"] == "K1" and record["Email"] == "***"
    assert "Jane" not in result.quarantine["raw_record"].iloc[0]
    assert result.quarantine["source_row"].tolist() == [7]


# --------------------------------------------------------------------------------------------
# Owners and Salesforce IDs
# --------------------------------------------------------------------------------------------


def test_owner_names_resolve_to_rep_ids_case_insensitively() -> None:
    ctx = CleanContext(landing_day=DAY, rep_names={"jane doe": "R1", "ömer çelik": "R2"})
    owners = ["  JANE DOE ", "Jane Doe", "R9", "", "ÖMER ÇELIK"]
    rows = [{**OPP, "opportunity_id": str(i), "owner_id": o} for i, o in enumerate(owners)]
    c = clean("opportunities", rows, ctx).clean
    assert c["owner_id"].tolist()[:3] == ["R1", "R1", "R9"]
    assert pd.isna(c["owner_id"].iloc[3]) and c["owner_id"].iloc[4] == "R2"
    # Accounts and activities carry owners too.
    assert one_row("accounts", ctx, owner_id="jane doe").clean["owner_id"].tolist() == ["R1"]
    assert one_row("activities", ctx, owner_id="Jane Doe").clean["owner_id"].tolist() == ["R1"]


def sf18(id15: str) -> str:
    """Reference implementation of Salesforce's case-safe suffix."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += alphabet[bits]
    return id15 + suffix


def test_salesforce_ids_15_to_18_in_id_columns_only() -> None:
    ctx = CleanContext(landing_day=DAY, salesforce_ids=True)
    row = {
        **OPP,
        "opportunity_id": "0063000000abcDE",
        "account_id": "001300000012345AAA",  # already 18: unchanged
        "owner_id": "0053000000XyZab",
        "campaign_id": "7013000000aaaaa",
        "product": "ABCDEFGHIJKLMNO",  # 15 characters, not an ID column
    }
    c = one_row("opportunities", ctx, **row).clean.iloc[0]
    assert c["opportunity_id"] == sf18("0063000000abcDE") == "0063000000abcDEAAY"
    assert c["account_id"] == "001300000012345AAA"
    assert c["owner_id"] == sf18("0053000000XyZab")
    assert c["campaign_id"] == sf18("7013000000aaaaa") == "7013000000aaaaaAAA"
    assert c["product"] == "ABCDEFGHIJKLMNO"
    plain = one_row("opportunities", **row).clean.iloc[0]
    assert plain["opportunity_id"] == "0063000000abcDE"


def test_salesforce_15_and_18_forms_are_one_record() -> None:
    ctx = CleanContext(landing_day=DAY, salesforce_ids=True)
    rows = [
        {**ACCOUNT, "account_id": "0013000000abcDE", "updated_at": "2024-03-01"},
        {**ACCOUNT, "account_id": "0013000000abcDEAAY", "updated_at": "2024-03-02"},
    ]
    result = clean("accounts", rows, ctx)
    assert result.rows_clean == 1 and result.rows_duplicate == 1


# --------------------------------------------------------------------------------------------
# Property: never raises, rows in = rows out, every reason is a contract reason
# --------------------------------------------------------------------------------------------

CELLS = {
    "opportunities": {
        "opportunity_id": ["O1", "O2", "O3", " 007 ", "1.2E+5", "", "NULL"],
        "account_id": ["A1", "", "1E+17", "0013000000abcDE"],
        "owner_id": ["R1", "jane doe", "", "N/A"],
        "stage": ["lead", "Closed Won", "closedlost", "Mystery", "", "Negotiation/Review"],
        "amount": ["10", "1,234.50", "(5)", "abc", "", "€ 3,5", "1e400", "-0"],
        "currency": ["", "USD", "EUR", "JPY", "usd", "x"],
        "probability": ["", "0.5", "50", "150", "-1", "abc", "1"],
        "created_at": [
            "2024-03-01",
            "2024-03-05",
            "bad",
            "",
            "03/04/2024",
            "1709251200000",
            "2024-03-04T23:00:00-05:00",
        ],
        "close_date": ["", "2024-03-01", "31/02/2024", "2024-02-30"],
        "updated_at": ["", "2024-03-02T10:00:00Z", "nope", "2024-03-01"],
        "is_deleted": ["", "true", "0", "maybe", "x"],
    },
    "orders": {
        "order_id": ["1", "2", "2", "9.9E+10", ""],
        "account_id": ["A", "", "B"],
        "order_date": ["2024-03-01", "", "01.02.2024", "bad", "2024-01-01"],
        "amount": ["10", "", "-1", "x", "USD 10"],
        "currency": ["", "EUR", "GBP"],
        "status": ["", "Completed", "cancelled", "lost"],
        "quantity": ["", "2", "2.5", "-1"],
    },
    "activities": {
        "activity_id": ["T1", "T2", "T1"],
        "activity_type": ["call", "fax", "", "Meeting"],
        "occurred_at": ["2024-03-01 10:00", "", "later"],
        "duration_minutes": ["", "30", "-5", "x"],
        "owner_id": ["", "JANE DOE"],
    },
}


@st.composite
def dirty_frames(draw: st.DrawFn) -> tuple[str, list[dict[str, str]], CleanContext]:
    entity = draw(st.sampled_from(sorted(CELLS)))
    cells = CELLS[entity]
    columns = [c for c in cells if draw(st.booleans()) or c in BASE[entity]]
    n = draw(st.integers(0, 12))
    rows = [{c: draw(st.sampled_from(cells[c])) for c in columns} for _ in range(n)]
    if rows and draw(st.booleans()):
        rows.append(dict(draw(st.sampled_from(rows))))  # an exact copy
    ctx = CleanContext(
        landing_day=DAY,
        timezone=draw(st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"])),
        pii_key=draw(st.sampled_from([None, KEY])),
        salesforce_ids=draw(st.booleans()),
        fx_rates=FX if draw(st.booleans()) else None,
        rep_names={"jane doe": "R1"},
    )
    return entity, rows, ctx


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dirty_frames())
def test_property_rows_in_equal_rows_out(
    case: tuple[str, list[dict[str, str]], CleanContext],
) -> None:
    entity, rows, ctx = case
    f = frame(rows) if rows else pd.DataFrame({c: pd.Series([], dtype="str") for c in BASE[entity]})
    result = clean_frame(entity, f, pd.Series(range(1, len(f) + 1)), source_file=SOURCE, ctx=ctx)
    assert result.rows_read == len(f)
    assert result.rows_read == result.rows_clean + result.rows_quarantined + result.rows_duplicate
    assert set(result.quarantine["reason_code"]) <= set(ROW_REASONS)
    assert result.quarantine["reason_detail"].notna().all()
    assert result.quarantine["source_row"].is_unique
    key = {"opportunities": "opportunity_id", "orders": "order_id", "activities": "activity_id"}[
        entity
    ]
    assert result.clean[key].is_unique and result.clean[key].notna().all()
    clean_rows = set(result.clean["_source_row"].astype(int))
    assert not clean_rows & set(result.quarantine["source_row"].astype(int))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet="ab1é", max_size=4)),
        max_size=80,
    )
)
def test_repeated_values_by_bucket_equal_one_hash_over_all(keys: list[str | None]) -> None:
    """Bucketing by the last two characters must flag exactly what pandas' duplicated does
    (nulls equal each other; short, empty and multi-byte keys included)."""
    import numpy as np
    import pyarrow as pa

    from assets.ingest.cleaning import repeated_values

    expected = pd.Series(keys, dtype=object).duplicated(keep=False).to_numpy(dtype=bool)
    arrow = pa.array(keys, pa.large_string())
    assert np.array_equal(repeated_values(arrow, bucket_min=0), expected)  # bucketed
    assert np.array_equal(repeated_values(arrow), expected)  # one table (below the bound)
