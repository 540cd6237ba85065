"""Static vocabulary of the simulated company: regions, products, archetypes, names, stages."""

from __future__ import annotations

REGIONS = ("North America", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
COUNTRIES = {
    "North America": (("US", 0.8), ("CA", 0.2)),
    # "NA" is Namibia: a real country code that naive readers turn into a null.
    "EMEA": (("DE", 0.25), ("GB", 0.25), ("FR", 0.2), ("NL", 0.12), ("ES", 0.1), ("NA", 0.08)),
    "APAC": (("CN", 0.35), ("JP", 0.2), ("AU", 0.2), ("SG", 0.15), ("IN", 0.1)),
    "LATAM": (("BR", 0.4), ("MX", 0.3), ("AR", 0.15), ("CL", 0.15)),
}
COUNTRY_CURRENCY = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "GB": "GBP", "CN": "CNY"}
FX_CURRENCIES = ("EUR", "GBP", "CNY")
FX_START = {"EUR": 1.09, "GBP": 1.27, "CNY": 0.14}

PRODUCTS = ("CRM Suite", "Analytics Pro", "Data Connect", "Support Plus", "Training")
PRODUCT_WEIGHTS = (0.35, 0.25, 0.18, 0.14, 0.08)
INDUSTRIES = (
    "Manufacturing",
    "Retail",
    "Financial Services",
    "Healthcare",
    "Technology",
    "Logistics",
    "Education",
)

# Archetype -> (share, orders/day, order value USD, activities/day, opportunities/day).
# Values differ by 2-4x between neighbours so RFM clustering recovers them.
ARCHETYPES = {
    "champion": (0.10, 0.30, 8000.0, 0.25, 0.030),
    "steady": (0.30, 0.15, 1000.0, 0.10, 0.015),
    "occasional": (0.25, 0.033, 450.0, 0.03, 0.006),
    # High-value but infrequent buyers with little contact; they churn at their churn_date.
    "at_risk": (0.20, 0.08, 5000.0, 0.02, 0.010),
    "dormant": (0.15, 0.006, 200.0, 0.004, 0.001),
}
CHURN_WINDOW_DAYS = 90
"""At-risk accounts fade over this many days before their churn date (orders, activities)."""
CHURN_FIRST_DAY = 180
"""Earliest churn date, in days after the first history day."""
CHURN_MAX_AGE_DAYS = 270
"""Churn dates are at most this many days before the end of the world (the earliest bound wins
over CHURN_FIRST_DAY in long worlds) ..."""
CHURN_AFTER_END_DAYS = 30
"""... and less than this many days after it (still fading at the end)."""
# Weekday multipliers (Mon..Sun): B2B buying happens on working days.
WEEKDAY = (1.2, 1.25, 1.2, 1.15, 1.05, 0.55, 0.6)

# The contract's canonical stages in their order (CONTRACT section 2). The generator models the
# outside world and imports nothing of the pipeline; a test checks these agree with `schemas`.
STAGES: tuple[str, ...] = (
    "lead",
    "qualified",
    "needs_analysis",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
# The contract's row reason codes in precedence order (CONTRACT section 2, "Rows in = rows out").
ROW_REASONS: tuple[str, ...] = (
    "missing_required",
    "invalid_number",
    "negative_amount",
    "invalid_date",
    "future_date",
    "invalid_value",
    "unknown_stage",
    "probability_out_of_range",
    "mangled_id",
    "no_fx_rate",
    "malformed_line",
)
STAGE_PROBABILITY = {
    "lead": 10,
    "qualified": 20,
    "needs_analysis": 40,
    "proposal": 60,
    "negotiation": 80,
    "closed_won": 100,
    "closed_lost": 0,
}
SF_STAGE = {
    "lead": ("Prospecting",),
    "qualified": ("Qualification",),
    "needs_analysis": ("Needs Analysis", "Value Proposition", "Id. Decision Makers"),
    "proposal": ("Proposal/Price Quote", "Perception Analysis"),
    "negotiation": ("Negotiation/Review",),
    "closed_won": ("Closed Won",),
    "closed_lost": ("Closed Lost",),
}
HS_STAGE = {
    # HubSpot has no lead stage in the default pipeline: leads are exported as appointments.
    "lead": ("Appointment Scheduled", "appointmentscheduled"),
    "qualified": ("Qualified To Buy", "qualifiedtobuy"),
    "needs_analysis": ("Presentation Scheduled", "presentationscheduled"),
    "proposal": ("Decision Maker Bought-In", "decisionmakerboughtin"),
    "negotiation": ("Contract Sent", "contractsent"),
    "closed_won": ("Closed Won", "closedwon"),
    "closed_lost": ("Closed Lost", "closedlost"),
}
ACTIVITY_TYPES = ("call", "email", "meeting", "task", "demo", "other")
ACTIVITY_WEIGHTS = (0.32, 0.3, 0.14, 0.12, 0.06, 0.06)
OUTCOMES = (
    "Connected",
    "Left voicemail",
    "No answer",
    "Follow-up scheduled",
    'Sent "pricing", awaiting reply',
    "Notes:\nasked for a call back, budget Q3",
)
LEAD_SOURCES = ("Web", "Referral", "Partner", "Event", "Outbound", "Campaign")
CHANNELS = ("email", "webinar", "paid_search", "event", "social")

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kate",
    "Liam",
    "Maria",
    "Noah",
    "Olga",
    "Pedro",
    "Qing",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Victor",
    "Wei",
    "Xenia",
    "Yusuf",
    "Zoë",
    "José",
    "François",
)
LAST_NAMES = (
    "Smith",
    "Müller",
    "García",
    "Chen",
    "Okafor",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Kowalski",
    "Johansson",
    "Silva",
    "Patel",
    "O'Brien",
    "Nguyen",
    "Schmidt",
    "Martin",
    "Li",
    "Brown",
    "Novak",
    "Haddad",
)
NAME_HEADS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Aperture",
    "Gringotts",
    "Oscorp",
    "Nakatomi",
    "Pied Piper",
    "Monarch",
    "Atlas",
    "Zenith",
)
NAME_TAILS = (
    "Industries",
    "Logistics",
    "Retail",
    "Systems",
    "Health",
    "Foods",
    "Energy",
    "Partners",
    "Group",
    "Labs",
)
LEGAL = {
    "DE": "GmbH",
    "FR": "SARL",
    "NL": "B.V.",
    "ES": "S.L.",
    "GB": "Ltd",
    "US": "Inc.",
    "CA": "Inc.",
    "BR": "Ltda.",
    "MX": "S.A. de C.V.",
}
# Names that exercise encodings and quoting: accents (cp1252), delimiters and quotes.
SPECIAL_NAMES = (
    "Société Générale d'Énergie",
    "Müller & Söhne",
    "Smith, Jones & Partners",
    'The "Best" Widgets',
    "Café Zürich; Filiale Nord",
    "Niño Logística",
)
CN_CITIES = ("北京", "上海", "深圳", "广州", "杭州", "成都")
CN_WORDS = ("科技", "贸易", "软件", "物流", "电子", "医疗")
REP_TEAMS = ("Enterprise", "Mid-Market", "Inside Sales")
TITLES = (
    "CEO",
    "CFO",
    "Head of Sales",
    "Procurement Manager",
    "IT Director",
    "Operations Lead",
    "Buyer",
)
