"""File-level bad input (only with file_errors=True): each kind on its own day late in the range.

Row counts of unreadable files: the data records written into them (0 for zero-byte files and for
archives, whose members cannot be trusted); all of them count as quarantined and the file blocks.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from crm_generator.dirt import FileRows
from crm_generator.manifest import FileRecord, Manifest
from crm_generator.styles import Style
from crm_generator.writers import build_zip, delimited

KINDS = (
    "empty_file",
    "missing_column",
    "undecodable",
    "corrupt_archive",
    "unsafe_archive",
    "over_threshold",
    "unknown_entity",
)


def _days(start: date, days: int) -> list[str]:
    """One day per kind, counting back from the second-to-last day (never the first day)."""
    picks = [max(1, days - 2 - i) if days > 1 else 0 for i in range(len(KINDS))]
    return [(start + timedelta(days=p)).isoformat() for p in picks]


def _free(written: dict[str, bytes], rel: str) -> str:
    """`rel`, or the same stem as `.txt` (delimiter sniffed) when a file of that name exists."""
    if rel not in written:
        return rel
    alt = rel.rsplit(".", 1)[0] + ".txt"
    return alt if alt not in written else rel.rsplit(".", 1)[0] + ".tsv"


def _blocked(
    rel: str,
    entity: str,
    rows: int,
    error: str | None,
    reasons: dict[str, int] | None = None,
    clean: int = 0,
) -> FileRecord:
    return FileRecord(
        source_file=rel,
        entity=entity,
        vendor_format="canonical",
        rows_read=rows + clean,
        rows_clean=clean,
        rows_quarantined=rows,
        rows_duplicate=0,
        # File-level errors are one quarantine row each (source_row null), whatever the row count.
        quarantine_reasons=reasons or ({error: 1} if error else {}),
        status="blocked",
        file_error=error,
        encoding="utf-8",
    )


def plant_file_errors(
    written: dict[str, bytes],
    manifest: Manifest,
    frames: dict[str, pd.DataFrame],
    start: date,
    days: int,
    rng: np.random.Generator,
) -> None:
    """Add the file-level error cases to `written` and their records to the manifest."""
    d = dict(zip(KINDS, _days(start, days), strict=True))
    camps = frames["campaigns"].head(3)

    rel = _free(written, f"{d['empty_file']}/targets.csv")
    written[rel] = b""
    manifest.files.append(_blocked(rel, "targets", 0, "empty_file"))

    # A campaigns file without its required `cost` column.
    rows = [
        [f"CMPX{i:03d}", str(n), str(c), "2024-01-01", "2024-02-01", "USD"]
        for i, (n, c) in enumerate(zip(camps["campaign_name"], camps["channel"], strict=True))
    ]
    data, _ = delimited(
        FileRows(
            ["campaign_id", "campaign_name", "channel", "start_date", "end_date", "currency"], rows
        ),
        Style(),
    )
    rel = _free(written, f"{d['missing_column']}/campaigns.csv")
    written[rel] = data
    manifest.files.append(_blocked(rel, "campaigns", len(rows), "missing_column"))

    # Bytes valid in no supported encoding (0x81 is undefined in cp1252, a bad lead byte in GBK).
    lines = [b"rep_id,rep_name,team,region"] + [
        b"RX%02d,Bad \x81,Sales \x81\x2c,EMEA" % i for i in range(4)
    ]
    rel = _free(written, f"{d['undecodable']}/reps.csv")
    written[rel] = b"\n".join(lines) + b"\n"
    manifest.files.append(_blocked(rel, "reps", 4, "undecodable"))

    good = build_zip([("Opportunity.csv", b"Id,StageName,CreatedDate\n" * 40)])
    rel = _free(written, f"{d['corrupt_archive']}/opportunities.zip")
    written[rel] = good[: len(good) // 2]  # truncated: no central directory
    manifest.files.append(_blocked(rel, "opportunities", 0, "corrupt_archive"))

    rel = _free(written, f"{d['unsafe_archive']}/accounts.zip")
    written[rel] = build_zip(
        [("../evil.csv", b"account_id,account_name\nEVIL1,Path traversal Inc\n")]
    )
    manifest.files.append(_blocked(rel, "accounts", 0, "unsafe_archive"))

    # A readable targets file where 2 of 12 rows are bad: share 0.17 > 0.05 blocks the day.
    reps = frames["reps"]["rep_id"].drop_duplicates().head(12).tolist()
    period = (start + timedelta(days=days + 40)).strftime("%Y-%m")
    rows = [[period, r, None, f"{10000 + 500 * i:.2f}", "USD"] for i, r in enumerate(reps)]
    rows[3][3] = "-5000.00"
    rows[7][3] = "lots"
    data, _ = delimited(
        FileRows(["period", "rep_id", "region", "target_amount", "currency"], rows), Style()
    )
    rel = _free(written, f"{d['over_threshold']}/targets.txt")
    written[rel] = data
    manifest.files.append(
        _blocked(
            rel,
            "targets",
            2,
            None,
            {"invalid_number": 1, "negative_amount": 1},
            clean=len(rows) - 2,
        )
    )
    manifest.planted.extend(
        [
            {"source_file": rel, "source_row": 4, "reason_code": "negative_amount"},
            {"source_file": rel, "source_row": 8, "reason_code": "invalid_number"},
        ]
    )

    rel = _free(written, f"{d['unknown_entity']}/notes.txt")
    written[rel] = b"Export notes: nothing to see here.\n"
    # A file no entity matches is audited with status ok and 0 rows (contract: ok | blocked).
    manifest.files.append(
        FileRecord(rel, "unknown", "unknown", 0, 0, 0, 0, {}, "ok", None, "utf-8")
    )
