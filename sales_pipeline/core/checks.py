"""Asset-check helpers: pandera results and business rules as `AssetCheckResult`s.

Check names are constants so specs and results cannot drift apart.
"""

from __future__ import annotations

import warnings

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from schemas import SCHEMAS

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
        cases = exc.failure_cases
        summary = cases.groupby(["column", "check"], dropna=False).size().reset_index(name="n")
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=SCHEMA_VALID,
            passed=False,
            metadata={
                **shape,
                "num_errors": dg.MetadataValue.int(len(cases)),
                "errors_by_check": dg.MetadataValue.md(summary.to_markdown(index=False)),
                "failure_cases": dg.MetadataValue.md(
                    cases.head(_MAX_CASES)[
                        ["column", "check", "failure_case", "index"]
                    ].to_markdown(index=False)
                ),
            },
        )
    return dg.AssetCheckResult(asset_key=key, check_name=SCHEMA_VALID, passed=True, metadata=shape)


def pandera_days_check_result(
    table: str, frames: list[tuple[str, pd.DataFrame]]
) -> dg.AssetCheckResult:
    """The pandera check of a multi-day run: each day's partition validated on its own, since
    primary keys are unique within a partition (an opportunity updated on the next day is a
    new version there, not a duplicate). Fails with the first failing day's cases."""
    rows = sum(len(frame) for _, frame in frames)
    for day, frame in frames:
        result = pandera_check_result(table, frame)
        if not result.passed:
            return dg.AssetCheckResult(
                asset_key=result.asset_key,
                check_name=SCHEMA_VALID,
                passed=False,
                metadata={
                    **result.metadata,
                    "rows": dg.MetadataValue.int(rows),
                    "failed_day": dg.MetadataValue.text(day),
                },
            )
    columns = frames[0][1].shape[1] if frames else 0
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(table),
        check_name=SCHEMA_VALID,
        passed=True,
        metadata={"rows": dg.MetadataValue.int(rows), "columns": dg.MetadataValue.int(columns)},
    )


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
