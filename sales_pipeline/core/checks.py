"""Asset-check helpers: pandera results and business rules as `AssetCheckResult`s.

Check names are constants so specs and results cannot drift apart.
"""

from __future__ import annotations

import warnings

import dagster as dg
import numpy as np
import pandas as pd
import pandera.pandas as pa

from schemas import ROW_SCHEMAS, SCHEMAS, TABLES

# Partitioned check specs (a result per partition, listed on the asset's partition page) are a
# Dagster preview feature; the warning says only that, once per spec at every code load.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec is currently in preview"
)

SCHEMA_VALID = "schema_valid"
QUARANTINE_SHARE = "quarantine_share"
ROWS_BALANCE = "rows_balance"
REFERENTIAL_INTEGRITY = "referential_integrity"
OPEN_DEALS_COMPLETE = "open_deals_complete"
SCHEMA_DRIFT = "schema_drift"
VERSION_TIES = "version_ties"

_MAX_CASES = 20


def pandera_check_result(
    table: str, frame: pd.DataFrame, *, asset_key: dg.AssetKey | str | None = None
) -> dg.AssetCheckResult:
    """Validate `frame` lazily against the table's pandera schema.

    On failure the metadata carries the error count and a truncated failure-case table. Failure
    cases hold values, never whole records, and PII columns are hashes, so nothing personal leaks.
    """
    schema = SCHEMAS[table]
    key = dg.AssetKey(asset_key or table) if not isinstance(asset_key, dg.AssetKey) else asset_key
    shape = {
        "rows": dg.MetadataValue.int(len(frame)),
        "columns": dg.MetadataValue.int(frame.shape[1]),
    }
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failed(key, exc.failure_cases, shape)
    return dg.AssetCheckResult(asset_key=key, check_name=SCHEMA_VALID, passed=True, metadata=shape)


def _failed(
    key: dg.AssetKey, cases: pd.DataFrame, metadata: dict[str, dg.MetadataValue]
) -> dg.AssetCheckResult:
    summary = cases.groupby(["column", "check"], dropna=False).size().reset_index(name="n")
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=SCHEMA_VALID,
        passed=False,
        metadata={
            **metadata,
            "num_errors": dg.MetadataValue.int(len(cases)),
            "errors_by_check": dg.MetadataValue.md(summary.to_markdown(index=False)),
            "failure_cases": dg.MetadataValue.md(
                cases.head(_MAX_CASES)[["column", "check", "failure_case", "index"]].to_markdown(
                    index=False
                )
            ),
        },
    )


def pandera_days_check_result(
    table: str, combined: pd.DataFrame, days: np.ndarray
) -> dg.AssetCheckResult:
    """The pandera check of a multi-day run over its rows (`days`: each row's landing day): the
    row checks once over every day's rows, the primary key within each day's partition (an
    opportunity updated on the next day is a new version there, not a duplicate). One
    validation per table, not one per day and table: a month's run spent 5 s validating 279
    small frames. `failed_day` names the first day with a failure."""
    key = dg.AssetKey(table)
    spec = TABLES[table]
    shape = {
        "rows": dg.MetadataValue.int(len(combined)),
        "columns": dg.MetadataValue.int(combined.shape[1]),
    }
    cases = []
    try:
        ROW_SCHEMAS[table].validate(combined, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases.append(exc.failure_cases)
    unique = list(spec.unique or spec.primary_key)
    if unique and len(combined):
        repeated = combined[unique].assign(_day=days).duplicated(keep=False).to_numpy()
        if repeated.any():
            rows = np.flatnonzero(repeated)
            cases.append(
                pd.DataFrame(
                    {
                        "column": ",".join(unique),
                        "check": "unique within the day's partition",
                        "failure_case": combined[unique[0]].to_numpy()[rows].astype(str),
                        "index": rows,
                    }
                )
            )
    if not cases:
        return dg.AssetCheckResult(
            asset_key=key, check_name=SCHEMA_VALID, passed=True, metadata=shape
        )
    failures = pd.concat(cases, ignore_index=True)
    rows = pd.to_numeric(failures["index"], errors="coerce").dropna().astype(int)
    first = days[int(rows.min())] if len(rows) and len(days) else ""
    return _failed(key, failures, {**shape, "failed_day": dg.MetadataValue.text(str(first))})


def schema_spec(
    asset: str, *, blocking: bool = True, partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetCheckSpec:
    """The pandera check of `asset`; with `partitions_def` (the asset's) each result is recorded
    against the run's partition, so the UI lists check results per partition."""
    return dg.AssetCheckSpec(
        SCHEMA_VALID,
        asset=asset,
        blocking=blocking,
        description=f"{asset} matches its pandera schema",
        partitions_def=partitions_def,
    )
