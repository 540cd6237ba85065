"""Column layouts per entity and source system: header, the canonical field it carries, its kind.

A layout row is (header, canonical tag, kind, source). `tag` names the canonical field a planted
problem targets; `kind` decides formatting (`styles.py`); `source` is the world column it is made
from (or a constant after `=`).
"""

from __future__ import annotations

Layout = list[tuple[str, str | None, str, str]]

CANONICAL: dict[str, list[tuple[str, str]]] = {
    "accounts": [
        ("account_id", "id"),
        ("account_name", "text"),
        ("industry", "text"),
        ("region", "text"),
        ("country", "text"),
        ("employees", "int"),
        ("annual_revenue", "money"),
        ("owner_id", "ref"),
        ("created_at", "ts"),
        ("updated_at", "ts"),
        ("is_deleted", "bool"),
    ],
    "contacts": [
        ("contact_id", "id"),
        ("account_id", "ref"),
        ("email", "text"),
        ("phone", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("title", "text"),
        ("created_at", "ts"),
        ("updated_at", "ts"),
        ("is_deleted", "bool"),
    ],
    "opportunities": [
        ("opportunity_id", "id"),
        ("account_id", "ref"),
        ("owner_id", "ref"),
        ("stage", "text"),
        ("amount", "money"),
        ("currency", "text"),
        ("probability", "prob"),
        ("lead_source", "text"),
        ("campaign_id", "ref"),
        ("product", "text"),
        ("created_at", "ts"),
        ("close_date", "date"),
        ("updated_at", "ts"),
        ("is_deleted", "bool"),
    ],
    "orders": [
        ("order_id", "id"),
        ("account_id", "ref"),
        ("order_date", "date"),
        ("amount", "money"),
        ("currency", "text"),
        ("product", "text"),
        ("quantity", "int"),
        ("status", "text"),
        ("opportunity_id", "ref"),
        ("updated_at", "ts"),
        ("is_deleted", "bool"),
    ],
    "activities": [
        ("activity_id", "id"),
        ("account_id", "ref"),
        ("contact_id", "ref"),
        ("opportunity_id", "ref"),
        ("owner_id", "ref"),
        ("activity_type", "text"),
        ("occurred_at", "ts"),
        ("duration_minutes", "int"),
        ("outcome", "text"),
        ("updated_at", "ts"),
        ("is_deleted", "bool"),
    ],
    "reps": [
        ("rep_id", "id"),
        ("rep_name", "text"),
        ("team", "text"),
        ("region", "text"),
        ("manager_id", "ref"),
        ("is_active", "bool"),
        ("updated_at", "ts"),
    ],
    "campaigns": [
        ("campaign_id", "id"),
        ("campaign_name", "text"),
        ("channel", "text"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("cost", "money"),
        ("currency", "text"),
        ("updated_at", "ts"),
    ],
    "targets": [
        ("period", "text"),
        ("rep_id", "ref"),
        ("region", "text"),
        ("target_amount", "money"),
        ("currency", "text"),
    ],
    "fx_rates": [("rate_date", "date"), ("currency", "text"), ("rate", "rate")],
}


def canonical_layout(entity: str) -> Layout:
    return [(col, col, kind, col) for col, kind in CANONICAL[entity]]


SALESFORCE: dict[str, Layout] = {
    "accounts": [
        ("Id", "account_id", "id", "account_id"),
        ("Name", "account_name", "text", "account_name"),
        ("Type", None, "text", "=Customer"),
        ("Industry", "industry", "text", "industry"),
        ("Region__c", "region", "text", "region"),
        ("BillingCountry", "country", "text", "country"),
        ("NumberOfEmployees", "employees", "int", "employees"),
        ("AnnualRevenue", "annual_revenue", "money", "annual_revenue"),
        ("OwnerId", "owner_id", "ref", "owner_id"),
        ("CreatedDate", "created_at", "ts", "created_at"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
        ("SystemModstamp", None, "ts", "updated_at"),
        ("IsDeleted", "is_deleted", "bool", "is_deleted"),
    ],
    "contacts": [
        ("Id", "contact_id", "id", "contact_id"),
        ("AccountId", "account_id", "ref", "account_id"),
        ("FirstName", "first_name", "text", "first_name"),
        ("LastName", "last_name", "text", "last_name"),
        ("Email", "email", "text", "email"),
        ("Phone", "phone", "text", "phone"),
        ("Title", "title", "text", "title"),
        ("CreatedDate", "created_at", "ts", "created_at"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
        ("IsDeleted", "is_deleted", "bool", "is_deleted"),
    ],
    "opportunities": [
        ("Id", "opportunity_id", "id", "opportunity_id"),
        ("Name", None, "text", "product"),
        ("AccountId", "account_id", "ref", "account_id"),
        ("OwnerId", "owner_id", "ref", "owner_id"),
        ("StageName", "stage", "stage_sf", "stage"),
        ("Amount", "amount", "money", "amount"),
        ("CurrencyIsoCode", "currency", "text", "currency"),
        ("Probability", "probability", "prob", "probability"),
        ("LeadSource", "lead_source", "text", "lead_source"),
        ("CampaignId", "campaign_id", "ref", "campaign_id"),
        ("Product__c", "product", "text", "product"),
        ("CreatedDate", "created_at", "ts", "created_at"),
        ("CloseDate", "close_date", "date", "close_date"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
        ("IsDeleted", "is_deleted", "bool", "is_deleted"),
    ],
    "task": [
        ("Id", "activity_id", "id", "activity_id"),
        ("WhoId", "contact_id", "ref", "contact_id"),
        ("WhatId", "opportunity_id", "ref", "what_id"),
        ("AccountId", "account_id", "ref", "account_id"),
        ("OwnerId", "owner_id", "ref", "owner_id"),
        ("Subject", None, "text", "subject"),
        ("TaskSubtype", "activity_type", "title", "activity_type"),
        ("ActivityDate", "occurred_at", "date", "occurred_at"),
        ("CallDurationInSeconds", "duration_minutes", "int", "duration_seconds"),
        ("CallDisposition", "outcome", "text", "outcome"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
        ("IsDeleted", "is_deleted", "bool", "is_deleted"),
    ],
    "event": [
        ("Id", "activity_id", "id", "activity_id"),
        ("WhoId", "contact_id", "ref", "contact_id"),
        ("WhatId", "opportunity_id", "ref", "what_id"),
        ("AccountId", "account_id", "ref", "account_id"),
        ("OwnerId", "owner_id", "ref", "owner_id"),
        ("Subject", None, "text", "subject"),
        ("Type", None, "title", "activity_type"),
        ("StartDateTime", "occurred_at", "ts", "occurred_at"),
        ("EndDateTime", None, "ts", "ended_at"),
        ("DurationInMinutes", "duration_minutes", "int", "duration_minutes"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
        ("IsDeleted", "is_deleted", "bool", "is_deleted"),
    ],
    "reps": [
        ("Id", "rep_id", "id", "rep_id"),
        ("Name", "rep_name", "text", "rep_name"),
        ("Username", None, "text", "username"),
        ("Department", "team", "text", "team"),
        ("Region__c", "region", "text", "region"),
        ("ManagerId", "manager_id", "ref", "manager_id"),
        ("IsActive", "is_active", "bool", "is_active"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
    ],
    "campaigns": [
        ("Id", "campaign_id", "id", "campaign_id"),
        ("Name", "campaign_name", "text", "campaign_name"),
        ("Type", "channel", "text", "channel"),
        ("Status", None, "text", "=Completed"),
        ("StartDate", "start_date", "date", "start_date"),
        ("EndDate", "end_date", "date", "end_date"),
        ("BudgetedCost", None, "money", "cost"),
        ("ActualCost", "cost", "money", "cost"),
        ("CurrencyIsoCode", "currency", "text", "currency"),
        ("LastModifiedDate", "updated_at", "ts", "updated_at"),
    ],
}

HUBSPOT: dict[str, Layout] = {
    "accounts": [
        ("Record ID", "account_id", "id", "account_id"),
        ("Company name", "account_name", "text", "account_name"),
        ("Industry", "industry", "text", "industry"),
        ("Country/Region", "country", "text", "country"),
        ("Region", "region", "text", "region"),
        ("Number of Employees", "employees", "int", "employees"),
        ("Annual Revenue", "annual_revenue", "money", "annual_revenue"),
        ("Company owner", "owner_id", "owner_name", "owner_id"),
        ("Create Date", "created_at", "ts", "created_at"),
        ("Last Modified Date", "updated_at", "ts", "updated_at"),
    ],
    "contacts": [
        ("Record ID", "contact_id", "id", "contact_id"),
        ("First Name", "first_name", "text", "first_name"),
        ("Last Name", "last_name", "text", "last_name"),
        ("Email", "email", "text", "email"),
        ("Phone Number", "phone", "text", "phone"),
        ("Job Title", "title", "text", "title"),
        ("Associated Company IDs", "account_id", "assoc", "account_id"),
        ("Create Date", "created_at", "ts", "created_at"),
        ("Last Modified Date", "updated_at", "ts", "updated_at"),
    ],
    "opportunities": [
        ("Record ID", "opportunity_id", "id", "opportunity_id"),
        ("Deal Name", None, "text", "product"),
        ("Pipeline", None, "text", "=default"),
        ("Deal Stage", "stage", "stage_hs", "stage"),
        ("Amount", "amount", "money", "amount"),
        ("Currency", "currency", "text", "currency"),
        # HubSpot writes deal probability as a fraction (0.2); never planted out of range here.
        ("Deal probability", "probability", "prob", "probability"),
        ("Close Date", "close_date", "date", "close_date"),
        ("Create Date", "created_at", "ts", "created_at"),
        ("Last Modified Date", "updated_at", "ts", "updated_at"),
        ("Deal owner", "owner_id", "owner_name", "owner_id"),
        ("Associated Company IDs", "account_id", "assoc", "account_id"),
        ("Product", "product", "text", "product"),
        ("Lead Source", "lead_source", "text", "lead_source"),
        ("Campaign ID", "campaign_id", "ref", "campaign_id"),
    ],
    "activities": [
        ("Record ID", "activity_id", "id", "activity_id"),
        ("Activity type", "activity_type", "upper", "activity_type"),
        ("Activity date", "occurred_at", "ts", "occurred_at"),
        ("Associated Company IDs", "account_id", "assoc", "account_id"),
        ("Associated Contact IDs", "contact_id", "ref", "contact_id"),
        ("Associated Deal IDs", "opportunity_id", "ref", "opportunity_id"),
        ("Activity owner", "owner_id", "owner_name", "owner_id"),
        ("Duration (minutes)", "duration_minutes", "int", "duration_minutes"),
        ("Outcome", "outcome", "text", "outcome"),
        ("Last Modified Date", "updated_at", "ts", "updated_at"),
    ],
    "reps": [
        ("Record ID", "rep_id", "id", "rep_id"),
        ("Name", "rep_name", "text", "rep_name"),
        ("Team", "team", "text", "team"),
        ("Region", "region", "text", "region"),
        ("Active", "is_active", "bool", "is_active"),
    ],
}

SF_FILE = {
    "accounts": "Account",
    "contacts": "Contact",
    "opportunities": "Opportunity",
    "task": "Task",
    "event": "Event",
    "reps": "User",
    "campaigns": "Campaign",
}


def hubspot_file(entity: str, day: str, alt: bool = False) -> str:
    """HubSpot export file names (the dated CRM export names for companies and deals)."""
    return {
        "accounts": f"hubspot-crm-exports-all-companies-{day}.csv",
        "opportunities": f"hubspot-crm-exports-all-deals-{day}.csv",
        "contacts": "contacts.csv",
        "activities": "activities.csv" if alt else "engagements.csv",
        "reps": "owners.csv",
    }[entity]


def layout(entity: str, headers: str) -> Layout:
    """The layout for an entity (or `task`/`event`) in a header family."""
    if headers == "canonical":
        return canonical_layout(entity)
    if headers.startswith("salesforce"):
        return SALESFORCE[entity]
    return HUBSPOT[entity]
