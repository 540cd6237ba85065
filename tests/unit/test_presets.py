"""Tests for entity detection, header matching, vendor presets and stage mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.ingest.presets import (
    DEFAULT_PROBABILITY,
    detect_entity,
    map_stage,
    normalise_header,
    to_canonical,
)
from assets.ingest.readers import read_bytes


@pytest.mark.parametrize(
    ("name", "entity"),
    [
        ("hubspot-crm-exports-all-deals-2024-03-04.csv", "opportunities"),
        ("hubspot-crm-exports-all-companies-2024-03-04.csv", "accounts"),
        ("Opportunity.csv", "opportunities"),
        ("OPPORTUNITIES.CSV.GZ", "opportunities"),
        ("Account.xlsx", "accounts"),
        ("companies.jsonl", "accounts"),
        ("Task.csv", "activities"),
        ("Event.csv", "activities"),
        ("engagements.tsv", "activities"),
        ("User.csv", "reps"),
        ("owners.csv", "reps"),
        ("Campaign.csv", "campaigns"),
        ("fx_rates.csv", "fx_rates"),
        ("targets.txt", "targets"),
        ("orders.csv", "orders"),
        ("readme.md", None),
        ("opportunity_notes.csv", None),
    ],
)
def test_detect_entity(name: str, entity: str | None) -> None:
    assert detect_entity(name) == entity


def test_detect_entity_settings_patterns() -> None:
    assert detect_entity("billing_export_2024.csv", {"orders": ["billing_export_*"]}) == "orders"


@pytest.mark.parametrize(
    "header", ["STAGENAME", "StageName", "stage_name", " Stage Name ", "\ufeffStageName"]
)
def test_normalise_header_variants(header: str) -> None:
    assert normalise_header(header).replace(" ", "") == "stagename"
    assert normalise_header("stage_name") == normalise_header(" Stage Name ")


def raw_of(text: str, name: str = "x.csv"):
    return read_bytes(text.encode(), f"2024-03-04/{name}", name)


def test_canonical_preset_and_alias() -> None:
    cf = to_canonical(raw_of("Date,Currency,RATE,note\n2024-01-01,EUR,1.1,x\n"), "fx_rates")
    assert cf.vendor_format == "canonical"
    assert list(cf.frame.columns) == ["rate_date", "currency", "rate"]
    assert cf.extra_columns == ["note"] and cf.missing_required == []


def test_missing_required_and_custom_alias() -> None:
    raw = raw_of("Order No,account_id,order_date\n1,A,2024-01-01\n")
    cf = to_canonical(raw, "orders")
    assert cf.missing_required == ["order_id", "amount"]
    cf = to_canonical(raw, "orders", aliases={"orders": {"order no": "order_id"}})
    assert cf.missing_required == ["amount"] and cf.frame["order_id"].tolist() == ["1"]


def test_salesforce_opportunity() -> None:
    text = (
        "ID,ACCOUNTID,STAGENAME,AMOUNT,CLOSEDATE,CREATEDDATE,SYSTEMMODSTAMP,LASTMODIFIEDDATE,CurrencyIsoCode,Extra__c\n"
        "0061,0011,Closed Won,10,2024-01-01,2023-12-01,S,L,EUR,z\n"
    )
    cf = to_canonical(raw_of(text, "Opportunity.csv"), "opportunities")
    assert cf.vendor_format == "salesforce"
    row = cf.frame.iloc[0].to_dict()
    assert row["opportunity_id"] == "0061" and row["stage"] == "Closed Won"
    assert row["updated_at"] == "L" and row["currency"] == "EUR"
    assert cf.extra_columns == ["Extra__c", "SYSTEMMODSTAMP"]


def test_salesforce_task() -> None:
    text = (
        "Id,WhoId,WhatId,TaskSubtype,Type,ActivityDate,CreatedDate,CallDurationInSeconds,OwnerId\n"
        "T1,003A,006X,Call,Other,2024-01-02,2024-01-01,90,005\n"
        "T2,,001Y,Email,,,2024-01-03,,005\n"
        "T3,,,Weird,,,2024-01-03,abc,005\n"
    )
    cf = to_canonical(raw_of(text, "Task.csv"), "activities")
    f = cf.frame
    assert f["activity_type"].tolist() == ["call", "email", "other"]
    assert f["occurred_at"].tolist() == ["2024-01-02", "", ""]
    assert f["duration_minutes"].tolist() == ["1.5", "", "abc"]
    assert f["contact_id"].tolist()[0] == "003A"
    assert f["opportunity_id"].tolist()[0] == "006X" and pd.isna(f["opportunity_id"].iloc[1])
    assert f["account_id"].tolist()[1] == "001Y"
    assert cf.missing_required == []


def test_salesforce_event() -> None:
    text = "Id,StartDateTime,ActivityDate,DurationInMinutes,WhatId\nE1,2024-01-02T10:00:00.000+0000,2024-01-02,30,006A\n"
    cf = to_canonical(raw_of(text, "Event.csv"), "activities")
    row = cf.frame.iloc[0].to_dict()
    assert row["activity_type"] == "meeting" and row["occurred_at"].startswith("2024-01-02T10")
    assert row["duration_minutes"] == "30" and row["opportunity_id"] == "006A"


def test_salesforce_campaign_cost_fallback() -> None:
    both = to_canonical(raw_of("Id,Name,BudgetedCost,ActualCost\nC,N,5,7\n"), "campaigns")
    assert both.frame["cost"].tolist() == ["7"]
    budget = to_canonical(raw_of("Id,Name,Type,BudgetedCost\nC,N,Web,5\n"), "campaigns")
    assert budget.frame["cost"].tolist() == ["5"] and budget.frame["channel"].tolist() == ["Web"]


def test_hubspot_deals() -> None:
    text = (
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,"
        "Associated Company IDs,Associated Company IDs (Primary)\n"
        "9,Big deal,closedwon,100,2024-01-01 10:00,2023-12-01 09:00,Jane Doe,11;12,12\n"
        "10,Small,contractsent,,,2023-12-01 09:00,Jane Doe,13;14,\n"
    )
    cf = to_canonical(raw_of(text, "hubspot-crm-exports-all-deals-2024-03-04.csv"), "opportunities")
    assert cf.vendor_format == "hubspot" and cf.owner_refs_are_names
    assert cf.frame["account_id"].tolist()[0] == "12"
    assert cf.frame["owner_id"].tolist() == ["Jane Doe", "Jane Doe"]
    assert "Deal Name" in cf.extra_columns


def test_hubspot_owners_and_contacts() -> None:
    reps = to_canonical(raw_of("Owner ID,Owner name,Teams,Active\n1,Jane,EMEA,true\n"), "reps")
    assert list(reps.frame.columns) == ["rep_id", "rep_name", "team", "is_active"]
    contacts = to_canonical(
        raw_of(
            "Record ID,Email,Phone Number,First Name,Create Date,Associated Company IDs\n1,a@b,1,A,2024-01-01,5;6\n"
        ),
        "contacts",
    )
    assert contacts.vendor_format == "hubspot" and contacts.frame["account_id"].tolist() == ["5"]


def test_map_stage() -> None:
    raw = pd.Series(
        [
            "Closed Won",
            "closedwon",
            "CLOSED_WON",
            "Proposal/Price Quote",
            "appointmentscheduled",
            "Mystery",
            None,
        ],
        dtype="str",
    )
    out = map_stage(raw, {"Mystery": "lead"})
    assert out.tolist() == [
        "closed_won",
        "closed_won",
        "closed_won",
        "proposal",
        "qualified",
        "lead",
        None,
    ] or (
        out.iloc[:6].tolist()
        == ["closed_won", "closed_won", "closed_won", "proposal", "qualified", "lead"]
        and pd.isna(out.iloc[6])
    )
    assert pd.isna(map_stage(pd.Series(["Mystery"], dtype="str")).iloc[0])
    assert DEFAULT_PROBABILITY["negotiation"] == 80


# --- custom aliases: one header feeding several canonical columns ------------------------------


def test_alias_tuple_target_feeds_several_columns() -> None:
    """The Maven dataset's `account` is both the account's ID and its name."""
    raw = raw_of("account,sector,year_established\nAcme Corporation,technolgy,1996\n")
    cf = to_canonical(
        raw, "accounts", aliases={"accounts": {"account": ("account_id", "account_name")}}
    )
    assert cf.frame["account_id"].tolist() == ["Acme Corporation"]
    assert cf.frame["account_name"].tolist() == ["Acme Corporation"]
    assert cf.missing_required == []
    assert cf.source_columns["account_id"] == cf.source_columns["account_name"] == "account"
    assert cf.extra_columns == ["sector", "year_established"]
    assert list(cf.frame.columns)[:2] == ["account_id", "account_name"]


def test_alias_list_target_and_header_normalisation() -> None:
    raw = raw_of("Sales_Agent,Manager,Regional Office\nMoses Frase,Dustin Brinkmann,Central\n")
    aliases = {"reps": {"sales agent": ["rep_id", "rep_name"], "regional office": "region"}}
    cf = to_canonical(raw, "reps", aliases=aliases)
    row = cf.frame.iloc[0].to_dict()
    assert row["rep_id"] == row["rep_name"] == "Moses Frase" and row["region"] == "Central"
    assert cf.missing_required == [] and cf.extra_columns == ["Manager"]


def test_alias_tuple_in_one_entity_single_in_another() -> None:
    raw = raw_of(
        "opportunity_id,sales_agent,account,deal_stage,engage_date\nX1,Moses Frase,Acme,Won,2017-01-01\n"
    )
    aliases = {
        "opportunities": {
            "sales_agent": "owner_id",
            "deal_stage": "stage",
            "engage_date": "created_at",
        },
        "accounts": {"account": ("account_id", "account_name")},
    }
    cf = to_canonical(raw, "opportunities", aliases=aliases)
    assert cf.frame["owner_id"].tolist() == ["Moses Frase"]
    assert "account_id" not in cf.frame.columns  # the accounts alias does not leak here
    assert cf.extra_columns == ["account"] and cf.missing_required == []


def test_custom_alias_wins_over_preset_header() -> None:
    """Both `account_id` (canonical preset) and `account` (custom) present: the custom one wins."""
    raw = raw_of("account_id,account,account_name\n1,Acme,ignored\n")
    cf = to_canonical(
        raw, "accounts", aliases={"accounts": {"account": ("account_id", "account_name")}}
    )
    assert cf.frame["account_id"].tolist() == ["Acme"]
    assert cf.frame["account_name"].tolist() == ["Acme"]
    assert cf.extra_columns == ["account_id", "account_name"]


def test_custom_alias_wins_in_a_vendor_preset() -> None:
    text = "Id,Name,Legacy_Number__c\n001A,Acme,42\n"
    aliases = {"accounts": {"Legacy_Number__c": "account_id", "Name": ("account_name", "industry")}}
    cf = to_canonical(raw_of(text, "Account.csv"), "accounts", aliases=aliases)
    assert cf.vendor_format == "salesforce"
    assert cf.frame["account_id"].tolist() == ["42"] and cf.extra_columns == ["Id"]
    assert cf.frame["industry"].tolist() == cf.frame["account_name"].tolist() == ["Acme"]


def test_custom_alias_wins_over_salesforce_activity_derivation() -> None:
    text = "Id,TaskSubtype,Kind__c,ActivityDate,When__c\nT1,Call,demo,2024-01-02,2024-01-05\n"
    aliases = {"activities": {"Kind__c": "activity_type", "When__c": "occurred_at"}}
    cf = to_canonical(raw_of(text, "Task.csv"), "activities", aliases=aliases)
    assert cf.vendor_format == "salesforce"
    assert cf.frame["activity_type"].tolist() == ["demo"]
    assert cf.frame["occurred_at"].tolist() == ["2024-01-05"]
