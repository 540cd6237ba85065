"""Record IDs in each source system's shape: canonical, Salesforce (15/18 chars) and HubSpot.

IDs are derived from integer keys so the same simulated record always gets the same ID, and
planted bad rows draw from a reserved key range so they never collide with real records.
"""

from __future__ import annotations

import numpy as np

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# Integer keys at or above this are reserved for planted (bad or duplicate) rows.
PLANTED_KEY_BASE = 5_000_000

SF_PREFIX = {
    "accounts": "001",
    "contacts": "003",
    "opportunities": "006",
    "reps": "005",
    "campaigns": "701",
    "activities": "00T",
    "task": "00T",
    "event": "00U",
}
CANONICAL_FORMAT = {
    "accounts": "{:07d}",  # ERP-style numeric IDs with leading zeros: must stay strings
    "contacts": "CT{:07d}",
    "opportunities": "OP{:08d}",
    "orders": "{:09d}",
    "activities": "AC{:08d}",
    "reps": "R{:03d}",
    "campaigns": "CMP{:04d}",
}
HUBSPOT_BASE = {
    "accounts": 9_100_000_000,
    "contacts": 301_000,
    "opportunities": 15_200_000_000,
    "activities": 62_000_000_000,
    "reps": 41_200_000,
}


def sf_checksum(id15: str) -> str:
    """The standard Salesforce 3-character suffix that makes a 15-char ID case-insensitive."""
    out = []
    for chunk in range(3):
        part = id15[chunk * 5 : chunk * 5 + 5]
        flags = sum(1 << i for i, ch in enumerate(part) if "A" <= ch <= "Z")
        out.append(_SUFFIX[flags])
    return id15 + "".join(out)


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(BASE62[r])
    return "".join(reversed(chars))


def sf_id(prefix: str, key: int) -> str:
    """18-character Salesforce ID: 3-char key prefix, pod-ish filler, base62 body, checksum."""
    # Spread keys over the body with an odd multiplier so IDs mix upper and lower case.
    body = _base62((key * 7_919_357 + 1_000_003) % 62**9, 9)
    return sf_checksum(f"{prefix}5J{body}a"[:15])


def sf_ids(prefix: str, keys: np.ndarray) -> np.ndarray:
    """Vectorised `sf_id` for many keys (same result, no Python loop per character)."""
    n = (keys.astype(object) * 7_919_357 + 1_000_003) % 62**9
    digits = np.empty((len(keys), 9), dtype=np.int64)
    rest = n
    for j in range(8, -1, -1):
        digits[:, j] = (rest % 62).astype(np.int64)
        rest = rest // 62
    alphabet = np.frombuffer(BASE62.encode(), dtype="S1")
    body = np.concatenate(
        [
            np.tile(np.frombuffer(f"{prefix}5J".encode(), dtype="S1"), (len(keys), 1)),
            alphabet[digits],
            np.full((len(keys), 1), b"a", dtype="S1"),
        ],
        axis=1,
    )[:, :15]
    upper = (body >= b"A") & (body <= b"Z")
    weights = 1 << np.arange(5)
    flags = (upper.reshape(len(keys), 3, 5) * weights).sum(axis=2)
    suffix = np.frombuffer(_SUFFIX.encode(), dtype="S1")[flags]
    full = np.concatenate([body, suffix], axis=1)
    return full.copy().view("S18").ravel().astype(str).astype(object)


def make_ids(
    entity: str, system: str, keys: np.ndarray, *, sf_prefix: str | None = None
) -> np.ndarray:
    """Vector of ID strings for integer keys in one system (`canonical`, `salesforce`, `hubspot`)."""
    keys = np.asarray(keys, dtype=np.int64)
    if system == "salesforce":
        prefix = sf_prefix or SF_PREFIX[entity]
        return sf_ids(prefix, keys) if len(keys) else np.array([], dtype=object)
    if system == "hubspot" and entity in HUBSPOT_BASE:
        return (HUBSPOT_BASE[entity] + keys * 3).astype(str).astype(object)
    fmt = CANONICAL_FORMAT[entity]
    return np.array([fmt.format(int(k) + 1) for k in keys], dtype=object)
