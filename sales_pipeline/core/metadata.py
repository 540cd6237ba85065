"""Materialisation metadata that tells the story in the UI: counts, schema, a PII-free preview."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import dagster as dg
import pandas as pd

from schemas import TABLES


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                c.type,
                description=c.description or None,
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
            )
            for c in TABLES[table].columns
        ]
    )


def preview(frame: pd.DataFrame, table: str, rows: int = 5) -> dg.MetadataValue:
    """First rows, without PII-derived columns (hashes are pseudonyms, still personal data) and
    free text (it may mention people)."""
    hidden = [c.name for c in TABLES[table].columns if c.pii or c.free_text]
    shown = frame.drop(columns=hidden, errors="ignore").head(rows)
    return dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "_no rows_")


def table_metadata(
    frame: pd.DataFrame, table: str, *, with_preview: bool = True
) -> dict[str, object]:
    meta: dict[str, object] = {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": column_schema(table),
    }
    if with_preview:
        meta["preview"] = preview(frame, table)
    return meta


def counts_markdown(counts: Mapping[str, int], label: str = "reason") -> dg.MetadataValue:
    if not counts:
        return dg.MetadataValue.md("_none_")
    lines = [f"| {label} | rows |", "|---|---|", *[f"| {k} | {v} |" for k, v in counts.items()]]
    return dg.MetadataValue.md("\n".join(lines))


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """An inline PNG the UI renders in Markdown metadata."""
    encoded = base64.b64encode(png).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")
