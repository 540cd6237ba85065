"""Personal data: which columns hold it, keyed hashes for storage, masking for quarantine.

Columns are classified by name for every entity and vendor preset: the canonical PII columns,
every header whose name says it holds contact details, a person's name or free text (Salesforce
`Email`, `MobilePhone`, `FirstName`; `Description`, `Notes`, `Body`, `Comments`), and for contacts
every column that is not a mapped non-personal one. Those values are masked in quarantine and
never stored in clear (canonical ones as HMAC hashes; the rest are extra columns, not stored).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import numpy as np
import pandas as pd

from assets.ingest import values
from schemas.ingest import PII_COLUMNS

# Matched against the normalised header (casefolded, '_' and spaces as one space).
_PII_NAME = re.compile(
    r"e ?-?mail|phone|mobile|fax|first ?name|last ?name|full ?name|middle ?name|given ?name"
    r"|family ?name|surname|user ?name|nick ?name|birth|street|address|postal|zip ?code"
    r"|ssn|social security|passport|description|notes?\b|body|comments?\b|subject|message"
)
# A header that looks like a value (a headerless file's first record): never listed in clear.
_VALUE_LIKE = re.compile(r"@|^\+?[\d\s().-]{7,}$")


def _normalised(header: str) -> str:
    return re.sub(r"[\s_]+", " ", str(header).replace("\ufeff", "").strip().casefold())


def is_pii_header(header: str) -> bool:
    """Does a column of this name hold personal data (contact details, names, free text)?"""
    return bool(_PII_NAME.search(_normalised(header)))


def pii_headers(entity: str, header: list[str], source_columns: dict[str, str]) -> set[str]:
    """The file's headers whose values are masked in quarantine (see the module docstring)."""
    out = {source_columns[c] for c in PII_COLUMNS if c in source_columns}
    out |= {h for h in header if is_pii_header(h)}
    if entity == "contacts":
        # A contact export carries personal data beyond the classified columns (mailing
        # address, social handles): keep only the non-personal mapped columns.
        kept = {h for c, h in source_columns.items() if c not in PII_COLUMNS}
        out |= {h for h in header if h not in kept}
    return out


def safe_names(names: list[str]) -> list[str]:
    """Column names for metadata: a name that looks like a value (an e-mail, a phone number)
    is masked, as a headerless file's first record would otherwise be listed in clear."""
    return ["***" if _VALUE_LIKE.search(str(n)) else n for n in names]


def hash_pii(raw: pd.Series, key: str | None, *, column: str) -> pd.Series:
    """HMAC-SHA256 hex of the normalised value; all null without a key (PII is never stored in clear).

    Normalisation (trim; e-mails case-folded) makes the same person hash the same across exports.
    Hashing runs once per distinct value, which is as vectorised as a keyed hash gets in Python.
    """
    text = values.parse_text(raw)
    if key is None:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    if column == "email":
        text = text.str.lower()
    secret = key.encode("utf-8")
    uniques = text.dropna().unique()
    digests = {v: hmac.new(secret, v.encode("utf-8"), hashlib.sha256).hexdigest() for v in uniques}
    return text.map(digests).astype("str")


def raw_records_json(raw: pd.DataFrame, positions: np.ndarray, pii_headers: set[str]) -> list[str]:
    """The quarantined records as JSON objects (header -> raw text), PII values masked."""
    if len(positions) == 0:
        return []
    subset = raw.iloc[positions].copy()
    for column in subset.columns:
        if column in pii_headers:
            subset[column] = subset[column].where(
                subset[column].isna() | (subset[column] == ""), "***"
            )
    return [
        json.dumps(rec, ensure_ascii=False)
        for rec in subset.astype(object).where(subset.notna(), None).to_dict("records")
    ]
