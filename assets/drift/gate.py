"""Apply schema drift to one ingested day: compare its profiles, record the drift, and block the
files (and so their entity's partition) whose drift is of a kind the settings make blocking.

A blocked file is marked `blocked` in `ingest_audit` with the drift as its message, exactly as a
file over the quarantine threshold is, so the day gate, the run's exit code and the data_quality
alerts treat both alike.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from assets.drift.compare import LANDING_DAY, blocking_reasons, compact_history, compare_profiles
from assets.ingest.day import DayResult
from schemas import conform
from schemas.drift import SCHEMA_PROFILE


def _with_status(profiles: pd.DataFrame, audit: pd.DataFrame) -> pd.DataFrame:
    status = audit.drop_duplicates("source_file", keep="last").set_index("source_file")["status"]
    return profiles.assign(
        file_status=profiles["source_file"].map(status).fillna("ok").astype("str")
    )


def check_day(
    result: DayResult,
    history: pd.DataFrame,
    block: Collection[str] = (),
    *,
    compacted: bool = False,
) -> DayResult:
    """Fill `result.drift` and apply blocking drift to `result` (in place; also returned).

    `history` holds the profiles of earlier landing days with a `_landing_day` column
    (`compacted`: as `compact_history` returns them).
    """
    profiles = _with_status(result.profiles, result.audit)
    drift = compare_profiles(profiles, history, block, compacted=compacted)
    for entity, files in blocking_reasons(drift).items():
        for source_file, reasons in files.items():
            message = f"{source_file}: schema drift: " + "; ".join(reasons)
            row = result.audit["source_file"] == source_file
            before = result.audit.loc[row, "message"]
            result.audit.loc[row, "status"] = "blocked"
            result.audit.loc[row, "message"] = (before + "; " + message).fillna(message)
            result.blocked.setdefault(entity, []).append(message)
    result.profiles = conform(_with_status(profiles, result.audit), SCHEMA_PROFILE)
    result.drift = drift
    return result


def append_history(history: pd.DataFrame, result: DayResult) -> pd.DataFrame:
    """Earlier profiles plus this day's, for the next day of a multi-day run, compacted to what
    a comparison still uses (a year's backfill would otherwise carry every day's profiles)."""
    today = result.profiles.assign(**{LANDING_DAY: pd.Timestamp(result.day)})
    both = today if history.empty else pd.concat([history, today], ignore_index=True)
    return compact_history(both.astype({LANDING_DAY: "datetime64[s]"}))
