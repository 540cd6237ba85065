"""Planted schema drift: from a chosen day on, an export changes shape the way real exports do.

Off by default (`generate(..., drift=True)` turns it on) so other zones stay as they are. Each
plan entry changes every file of its entity from its start day on (a CRM change persists), and
the manifest's `drift` list records each file where the change is visible against the previous
files: the first changed file for a header or type change, the first changed file with at least
`PROFILE_ROWS` rows for a population drop, and for the day-first date switch the first changed
file proving day-first plus every later one whose dates are all ambiguous (day <= 12), which a
reader would take as month-first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from crm_generator.dirt import FileRows
from crm_generator.vendors import Layout

PROFILE_ROWS = 5
"""A column emptied in a file this large is a population drop (drift detection needs >= 5 rows)."""
_DATE_FORMATS = {"iso": "%Y-%m-%d", "us": "%m/%d/%Y", "de": "%d.%m.%Y"}


@dataclass(frozen=True)
class Plan:
    kind: str
    entity: str
    tag: str | None
    """canonical field the change targets (None: a new column)."""
    first_day: int
    """earliest day offset the change may start."""
    new_header: str | None = None


PLANS: tuple[Plan, ...] = (
    Plan("new_column", "orders", None, 2, "discount_pct"),
    Plan("missing_column", "activities", "duration_minutes", 3),
    Plan("renamed_column", "orders", "quantity", 4, "{header} (units)"),
    Plan("renamed_column", "opportunities", "lead_source", 5, "Origin"),
    Plan("type_change", "activities", "outcome", 6),
    Plan("format_change", "opportunities", "close_date", 7),
    Plan("population_drop", "orders", "product", 8),
)


@dataclass
class DriftPlanter:
    """Applies the plans file by file, in landing order, and records what a reader can see."""

    started: dict[int, bool] = field(default_factory=dict)
    recorded: dict[int, bool] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)

    def apply(
        self, content: FileRows, lay: Layout, entity: str, day: int, date_style: str, rel: str
    ) -> FileRows:
        tags = [t for _h, t, _k, _s in lay]
        original = list(content.headers)  # aligned with the layout until a plan changes it
        for i, plan in enumerate(PLANS):
            if plan.entity != entity or day < plan.first_day:
                continue
            col = None
            if plan.tag is not None:
                if plan.tag not in tags or original[tags.index(plan.tag)] not in content.headers:
                    continue
                col = content.headers.index(original[tags.index(plan.tag)])
            if not self.started.get(i) and not _can_start(plan, content, col, date_style):
                continue
            self.started[i] = True
            first = not self.recorded.get(i)
            content, visible, column, previous = _change(plan, content, col, date_style, first)
            if visible and (plan.kind == "format_change" or first):
                self.recorded[i] = True
                self.records.append(
                    {
                        "source_file": rel,
                        "entity": entity,
                        "drift_kind": plan.kind,
                        "column": column,
                        "previous_column": previous,
                    }
                )
        return content


def _dates(cells: list, date_style: str) -> pd.Series:
    return pd.to_datetime(
        pd.Series(cells, dtype="object"), format=_DATE_FORMATS[date_style], errors="coerce"
    )


def _can_start(plan: Plan, content: FileRows, col: int | None, date_style: str) -> bool:
    """Start where the change shows: a populated column, a day > 12, enough rows."""
    if col is None:
        return len(content.rows) > 0
    cells = [r[col] for r in content.rows if r[col] not in (None, "")]
    if plan.kind == "format_change":
        return bool((_dates(cells, date_style).dt.day > 12).any())
    if plan.kind == "population_drop":
        return len(content.rows) >= PROFILE_ROWS and len(cells) == len(content.rows)
    return bool(cells)


def _change(
    plan: Plan, content: FileRows, col: int | None, date_style: str, first: bool
) -> tuple[FileRows, bool, str, str | None]:
    """The changed content, whether the change is visible in this file, column, old header.

    A day-first switch shows in its first file (which proves day-first) and in later files
    whose dates are all ambiguous.
    """
    headers, rows = list(content.headers), [list(r) for r in content.rows]
    if plan.kind == "new_column":
        headers.append(plan.new_header)
        for n, r in enumerate(rows):
            r.append(str(5 * (n % 4)))
        return _rows(content, headers, rows), True, plan.new_header, None
    old = headers[col]
    if plan.kind == "missing_column":
        del headers[col]
        for r in rows:
            del r[col]
        return _rows(content, headers, rows), True, old, None
    if plan.kind == "renamed_column":
        headers[col] = plan.new_header.format(header=old)
        return _rows(content, headers, rows), True, headers[col], old
    cells = [r[col] for r in rows]
    present = [c for c in cells if c not in (None, "")]
    if plan.kind == "type_change":
        codes = {v: str(k + 1) for k, v in enumerate(sorted(set(present)))}
        for r in rows:
            r[col] = codes.get(r[col], r[col])
        return _rows(content, headers, rows), bool(present), old, None
    if plan.kind == "format_change":
        parsed = _dates(cells, date_style)
        for r, ts in zip(rows, parsed, strict=True):
            r[col] = None if pd.isna(ts) else ts.strftime("%d/%m/%Y")
        days = parsed.dropna().dt.day
        proof = bool((days > 12).any())
        visible = proof if first else bool(len(days)) and not proof
        return _rows(content, headers, rows), visible, old, None
    # population_drop
    for r in rows:
        r[col] = None
    visible = len(rows) >= PROFILE_ROWS
    return _rows(content, headers, rows), visible, old, None


def _rows(content: FileRows, headers: list[str], rows: list[list]) -> FileRows:
    return FileRows(
        headers=headers,
        rows=rows,
        malformed=content.malformed,
        planted=content.planted,
        duplicates=content.duplicates,
    )
