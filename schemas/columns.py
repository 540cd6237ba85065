"""Canonical landing columns, vendor column maps, stages and file-name patterns (pure data).

Source: CONTRACT section 2 ("Entity by file name", "Canonical columns", "Vendor column maps",
"Stages"). Header names here are matched after :func:`assets.ingest.presets.normalise_header`,
so their spelling (case, spaces, underscores) does not matter.
"""

from __future__ import annotations

from types import MappingProxyType

ENTITIES: tuple[str, ...] = (
    "accounts",
    "contacts",
    "opportunities",
    "orders",
    "activities",
    "reps",
    "campaigns",
    "targets",
    "fx_rates",
)

# entity -> {canonical column: required}
CANONICAL_COLUMNS: dict[str, dict[str, bool]] = {
    "accounts": {
        "account_id": True,
        "account_name": True,
        "industry": False,
        "region": False,
        "country": False,
        "employees": False,
        "annual_revenue": False,
        "owner_id": False,
        "created_at": False,
        "updated_at": False,
        "is_deleted": False,
    },
    "contacts": {
        "contact_id": True,
        "account_id": False,
        "email": False,
        "phone": False,
        "first_name": False,
        "last_name": False,
        "title": False,
        "created_at": True,
        "updated_at": False,
        "is_deleted": False,
    },
    "opportunities": {
        "opportunity_id": True,
        "account_id": False,
        "owner_id": False,
        "stage": True,
        "amount": False,
        "currency": False,
        "probability": False,
        "lead_source": False,
        "campaign_id": False,
        "product": False,
        "created_at": True,
        "close_date": False,
        "updated_at": False,
        "is_deleted": False,
    },
    "orders": {
        "order_id": True,
        "account_id": True,
        "order_date": True,
        "amount": True,
        "currency": False,
        "product": False,
        "quantity": False,
        "status": False,
        "opportunity_id": False,
        "updated_at": False,
        "is_deleted": False,
    },
    "activities": {
        "activity_id": True,
        "account_id": False,
        "contact_id": False,
        "opportunity_id": False,
        "owner_id": False,
        "activity_type": True,
        "occurred_at": True,
        "duration_minutes": False,
        "outcome": False,
        "updated_at": False,
        "is_deleted": False,
    },
    "reps": {
        "rep_id": True,
        "rep_name": True,
        "team": False,
        "region": False,
        "manager_id": False,
        "is_active": False,
        "updated_at": False,
    },
    "campaigns": {
        "campaign_id": True,
        "campaign_name": True,
        "channel": False,
        "start_date": False,
        "end_date": False,
        "cost": True,
        "currency": False,
        "updated_at": False,
    },
    "targets": {
        "period": True,
        "rep_id": False,
        "region": False,
        "target_amount": True,
        "currency": False,
    },
    "fx_rates": {"rate_date": True, "currency": True, "rate": True},
}

PII_COLUMNS: frozenset[str] = frozenset({"email", "phone", "first_name", "last_name"})
ID_SUFFIX = "_id"


def required_columns(entity: str) -> list[str]:
    """Required canonical columns of ``entity`` in contract order."""
    return [name for name, required in CANONICAL_COLUMNS[entity].items() if required]


# Input aliases accepted in canonical-format files: {entity: {their header: canonical}}.
CANONICAL_ALIASES: dict[str, dict[str, str]] = {
    "fx_rates": {"date": "rate_date"},
}

# --------------------------------------------------------------------------------------------
# Vendor column maps: {entity: {vendor header: canonical column}}. Where several headers feed the
# same canonical column, the earlier one in the dict wins when both are present (the contract's
# "else" order).
# --------------------------------------------------------------------------------------------

_SF_COMMON = {
    "CreatedDate": "created_at",
    "LastModifiedDate": "updated_at",
    "SystemModstamp": "updated_at",
    "IsDeleted": "is_deleted",
    "OwnerId": "owner_id",
    "CurrencyIsoCode": "currency",
}

SALESFORCE_COLUMNS: dict[str, dict[str, str]] = {
    "accounts": {
        "Id": "account_id",
        "Name": "account_name",
        "Industry": "industry",
        "Region__c": "region",
        "Region": "region",
        "BillingCountry": "country",
        "NumberOfEmployees": "employees",
        "AnnualRevenue": "annual_revenue",
        **_SF_COMMON,
    },
    "contacts": {
        "Id": "contact_id",
        "AccountId": "account_id",
        "Email": "email",
        "Phone": "phone",
        "FirstName": "first_name",
        "LastName": "last_name",
        "Title": "title",
        **_SF_COMMON,
    },
    "opportunities": {
        "Id": "opportunity_id",
        "AccountId": "account_id",
        "StageName": "stage",
        "Amount": "amount",
        "Probability": "probability",
        "LeadSource": "lead_source",
        "CampaignId": "campaign_id",
        "Product__c": "product",
        "Product": "product",
        "CloseDate": "close_date",
        **_SF_COMMON,
    },
    "orders": {
        "Id": "order_id",
        "AccountId": "account_id",
        "EffectiveDate": "order_date",
        "TotalAmount": "amount",
        "Status": "status",
        "OpportunityId": "opportunity_id",
        **_SF_COMMON,
    },
    "activities": {
        # Task and Event share this map; presets.py derives activity_type, occurred_at,
        # duration_minutes and the WhatId split (see TASK_/EVENT_ constants below).
        "Id": "activity_id",
        "AccountId": "account_id",
        "WhoId": "contact_id",
        # Not `Description`: free text about people, personal data (assets/ingest/pii.py).
        "CallDisposition": "outcome",
        **_SF_COMMON,
    },
    "reps": {
        "Id": "rep_id",
        "Name": "rep_name",
        "Department": "team",
        "Region__c": "region",
        "Region": "region",
        "ManagerId": "manager_id",
        "IsActive": "is_active",
        "LastModifiedDate": "updated_at",
        "SystemModstamp": "updated_at",
    },
    "campaigns": {
        "Id": "campaign_id",
        "Name": "campaign_name",
        "Type": "channel",
        "StartDate": "start_date",
        "EndDate": "end_date",
        "ActualCost": "cost",
        "BudgetedCost": "cost",
        "CurrencyIsoCode": "currency",
        "LastModifiedDate": "updated_at",
        "SystemModstamp": "updated_at",
    },
}

# Salesforce activity specifics (first present header wins).
TASK_TYPE_COLUMNS: tuple[str, ...] = ("TaskSubtype", "Type")
TASK_TYPE_VALUES: dict[str, str] = {"call": "call", "email": "email", "task": "task"}
TASK_OCCURRED_COLUMNS: tuple[str, ...] = ("ActivityDate", "CreatedDate")
TASK_DURATION_SECONDS = "CallDurationInSeconds"
EVENT_OCCURRED_COLUMNS: tuple[str, ...] = ("StartDateTime", "ActivityDateTime", "ActivityDate")
EVENT_DURATION_MINUTES = "DurationInMinutes"
WHAT_ID = "WhatId"
SALESFORCE_KEY_PREFIXES: dict[str, str] = {"006": "opportunity_id", "001": "account_id"}
# Headers that only a Salesforce Event export carries (tells Event from Task).
EVENT_MARKERS: tuple[str, ...] = (
    "StartDateTime",
    "EndDateTime",
    "DurationInMinutes",
    "IsAllDayEvent",
)

_HS_COMMON = {
    "Create Date": "created_at",
    "Last Modified Date": "updated_at",
    "Associated Company IDs (Primary)": "account_id",
    "Associated Company IDs": "account_id",
}

HUBSPOT_COLUMNS: dict[str, dict[str, str]] = {
    "accounts": {
        "Record ID": "account_id",
        "Company name": "account_name",
        "Industry": "industry",
        "Region": "region",
        "Country/Region": "country",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Company owner": "owner_id",
        "Create Date": "created_at",
        "Last Modified Date": "updated_at",
    },
    "contacts": {
        "Record ID": "contact_id",
        "Email": "email",
        "Phone Number": "phone",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Job Title": "title",
        "Contact owner": "owner_id",
        **_HS_COMMON,
    },
    "opportunities": {
        "Record ID": "opportunity_id",
        "Deal Stage": "stage",
        "Amount": "amount",
        "Close Date": "close_date",
        "Deal probability": "probability",
        "Deal owner": "owner_id",
        "Product": "product",
        "Currency": "currency",
        "Original Source Type": "lead_source",
        "Lead Source": "lead_source",
        "Campaign ID": "campaign_id",
        **_HS_COMMON,
    },
    "activities": {
        "Record ID": "activity_id",
        "Activity type": "activity_type",
        "Activity date": "occurred_at",
        "Call duration": "duration_minutes",
        "Duration (minutes)": "duration_minutes",
        "Activity owner": "owner_id",
        "Outcome": "outcome",
        "Activity assigned to": "owner_id",
        "Associated Contact IDs (Primary)": "contact_id",
        "Associated Contact IDs": "contact_id",
        "Associated Deal IDs (Primary)": "opportunity_id",
        "Associated Deal IDs": "opportunity_id",
        **_HS_COMMON,
    },
    "reps": {
        "Record ID": "rep_id",
        "Owner ID": "rep_id",
        "Name": "rep_name",
        "Owner name": "rep_name",
        "Full name": "rep_name",
        "Team": "team",
        "Teams": "team",
        "Region": "region",
        "Active": "is_active",
        "Last Modified Date": "updated_at",
    },
}

# HubSpot columns holding ';'-separated association IDs (the first one is used).
HUBSPOT_MULTI_ID_COLUMNS: frozenset[str] = frozenset({"account_id", "contact_id", "opportunity_id"})
# HubSpot owner columns may hold the owner's name instead of an ID.
HUBSPOT_OWNER_COLUMNS: tuple[str, ...] = ("Deal owner", "Company owner", "Contact owner")

VENDOR_COLUMNS: dict[str, dict[str, dict[str, str]]] = {
    "salesforce": SALESFORCE_COLUMNS,
    "hubspot": HUBSPOT_COLUMNS,
}

# --------------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------------

STAGES: tuple[str, ...] = (
    "lead",
    "qualified",
    "needs_analysis",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
OPEN_STAGES: tuple[str, ...] = STAGES[:5]
CLOSED_STAGES: tuple[str, ...] = ("closed_won", "closed_lost")

DEFAULT_PROBABILITY: MappingProxyType[str, int] = MappingProxyType(
    {
        "lead": 10,
        "qualified": 20,
        "needs_analysis": 40,
        "proposal": 60,
        "negotiation": 80,
        "closed_won": 100,
        "closed_lost": 0,
    }
)

# Vendor label or internal id -> canonical stage (canonical names map to themselves as well).
STAGE_MAP: dict[str, str] = {
    **{stage: stage for stage in STAGES},
    # Salesforce StageName
    "Prospecting": "lead",
    "Qualification": "qualified",
    "Needs Analysis": "needs_analysis",
    "Value Proposition": "needs_analysis",
    "Id. Decision Makers": "needs_analysis",
    "Perception Analysis": "proposal",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    "Closed Won": "closed_won",
    "Closed Lost": "closed_lost",
    # HubSpot Deal Stage labels and internal ids
    "Appointment Scheduled": "qualified",
    "appointmentscheduled": "qualified",
    "Qualified To Buy": "qualified",
    "qualifiedtobuy": "qualified",
    "Presentation Scheduled": "needs_analysis",
    "presentationscheduled": "needs_analysis",
    "Decision Maker Bought-In": "proposal",
    "decisionmakerboughtin": "proposal",
    "Contract Sent": "negotiation",
    "contractsent": "negotiation",
    "closedwon": "closed_won",
    "closedlost": "closed_lost",
}

# --------------------------------------------------------------------------------------------
# Entity by file name: fnmatch patterns on the lower-cased stem (all extensions removed).
# --------------------------------------------------------------------------------------------

FILE_PATTERNS: dict[str, list[str]] = {
    "accounts": ["accounts", "account", "companies", "hubspot-crm-exports-*compan*"],
    "contacts": ["contacts", "contact", "hubspot-crm-exports-*contact*"],
    "opportunities": ["opportunities", "opportunity", "deals", "hubspot-crm-exports-*deal*"],
    "orders": ["orders"],
    "activities": [
        "activities",
        "task",
        "event",
        "engagements",
        "hubspot-crm-exports-*activit*",
        "hubspot-crm-exports-*engagement*",
    ],
    "reps": ["reps", "user", "owners", "hubspot-crm-exports-*owner*"],
    "campaigns": ["campaigns", "campaign"],
    "targets": ["targets"],
    "fx_rates": ["fx_rates"],
}
