"""Personal data: keyed hashes for storage, masking for the quarantine's raw records."""

from __future__ import annotations

import hashlib
import hmac
import json

import numpy as np
import pandas as pd

from assets.ingest import values


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
