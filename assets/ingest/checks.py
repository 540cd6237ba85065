"""The ingest's asset checks: pandera per table, once per day over the audit the quarantine
share (every file readable, under the threshold) and the row balance of every file, and the
schema drift of the day's files.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from sales_pipeline.core.checks import QUARANTINE_SHARE, ROWS_BALANCE, SCHEMA_DRIFT, SCHEMA_VALID
from schemas import ENTITIES

INGEST_TABLES = ("quarantine", "ingest_audit", "schema_profile", "schema_drift")


def check_specs() -> list[dg.AssetCheckSpec]:
    """pandera per table; the quarantine share and the row balance once per day on the audit.

    Each check costs Dagster three events per run, the largest part of a landing day's framework
    time, so the two file-level rules are evaluated once over all files; their metadata names
    every blocked or unbalanced file and its entity.
    """
    specs = [
        dg.AssetCheckSpec(
            SCHEMA_VALID, asset=name, blocking=True, description="rows match the pandera schema"
        )
        for name in (*ENTITIES, *INGEST_TABLES)
    ]
    specs += [
        dg.AssetCheckSpec(
            QUARANTINE_SHARE,
            asset="ingest_audit",
            blocking=True,
            description="every file is readable and its quarantined / (read - duplicate) is at most the threshold",
        ),
        dg.AssetCheckSpec(
            ROWS_BALANCE,
            asset="ingest_audit",
            blocking=True,
            description="rows_read = clean + quarantined + duplicate for every file",
        ),
        dg.AssetCheckSpec(
            SCHEMA_DRIFT,
            asset="schema_drift",
            description="no file's header or column profile drifted from the last good files "
            "of its source (a warning unless the settings make the kind blocking)",
        ),
    ]
    return specs


def reason_counts(frame: pd.DataFrame, column: str = "reason_code") -> dict[str, int]:
    counts = frame[column].value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


def share_check(
    audit: pd.DataFrame, blocked_by_entity: dict[str, list[str]]
) -> dg.AssetCheckResult:
    denominator = (audit["rows_read"] - audit["rows_duplicate"]).where(lambda d: d > 0)
    shares = (audit["rows_quarantined"] / denominator).fillna(0.0)
    blocked = [
        f"{entity}: {reason}"
        for entity, reasons in sorted(blocked_by_entity.items())
        for reason in reasons
    ]
    return dg.AssetCheckResult(
        asset_key="ingest_audit",
        check_name=QUARANTINE_SHARE,
        passed=not blocked,
        metadata={
            "files": dg.MetadataValue.int(len(audit)),
            "max_share": dg.MetadataValue.float(float(shares.max()) if len(shares) else 0.0),
            "blocked_entities": dg.MetadataValue.json(sorted(blocked_by_entity)),
            "blocked": dg.MetadataValue.md("\n".join(f"- {b}" for b in blocked) or "_none_"),
        },
        # One line per blocked file (file, reason code, detail): the CLI prints each line once.
        description="\n".join(blocked) or None,
    )


def balance_check(audit: pd.DataFrame) -> dg.AssetCheckResult:
    balance = (
        audit["rows_read"]
        - audit["rows_clean"]
        - audit["rows_quarantined"]
        - audit["rows_duplicate"]
    )
    unbalanced = audit.loc[balance != 0, "source_file"].tolist()
    return dg.AssetCheckResult(
        asset_key="ingest_audit",
        check_name=ROWS_BALANCE,
        passed=not unbalanced,
        metadata={
            "files": dg.MetadataValue.int(len(audit)),
            "unbalanced_files": dg.MetadataValue.json(unbalanced),
        },
    )


def drift_check(drift: pd.DataFrame) -> dg.AssetCheckResult:
    """Fails on any drift: a warning, an error where a kind blocks (its entity is withheld)."""
    blocking = bool(drift["blocking"].fillna(False).any())
    shown = drift[["source_file", "drift_kind", "column", "blocking", "detail"]].head(50)
    return dg.AssetCheckResult(
        asset_key="schema_drift",
        check_name=SCHEMA_DRIFT,
        passed=drift.empty,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "drifts": dg.MetadataValue.int(len(drift)),
            "blocking": dg.MetadataValue.int(int(drift["blocking"].fillna(False).sum())),
            "drift": dg.MetadataValue.md(
                shown.to_markdown(index=False) if len(shown) else "_none_"
            ),
        },
        description="; ".join(drift["detail"].head(5)) or None,
    )
