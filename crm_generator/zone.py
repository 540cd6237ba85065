"""Landing-zone writer: slices the simulated world into daily exports and records the manifest.

Day 0 is the initial import (current state of every record as of its end); each later day holds the
versions whose `updated_at` falls on it. Which file a slice goes to (vendor, container, encoding,
conventions) is decided by the format mode with a style RNG separate from the world's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from crm_generator import catalog as cat
from crm_generator.dirt import FileRows, plant
from crm_generator.drift import DriftPlanter
from crm_generator.file_errors import plant_file_errors
from crm_generator.ids import PLANTED_KEY_BASE, make_ids
from crm_generator.manifest import FileRecord, Manifest
from crm_generator.styles import Renderer, Style
from crm_generator.vendors import SF_FILE, hubspot_file, layout
from crm_generator.world import World, build_world
from crm_generator.writers import build_zip, serialise, streams, write_streamed

STREAM_MIN_ROWS = 200_000
"""A clean file this long is rendered and written in chunks of `STREAM_CHUNK_ROWS` rows (the
same bytes): as Python rows the initial import of a 100,000-account world needs tens of GB."""
STREAM_CHUNK_ROWS = 250_000

ID_COLUMN = {
    "accounts": "account_id",
    "contacts": "contact_id",
    "opportunities": "opportunity_id",
    "orders": "order_id",
    "activities": "activity_id",
    "reps": "rep_id",
    "campaigns": "campaign_id",
}
CRM = ("accounts", "contacts", "opportunities", "activities", "reps", "campaigns")
DIRTY_ENTITIES = ("orders", "opportunities", "activities", "accounts", "contacts")
# Reasons only some entities can carry go first, so small runs still plant every kind.
PRIORITY_REASONS = {
    "opportunities": ("unknown_stage", "probability_out_of_range", "future_date"),
    "orders": ("no_fx_rate", "negative_amount", "mangled_id"),
    "activities": ("invalid_value",),
    "accounts": ("future_date",),
    "contacts": ("future_date",),
}
ENTITY_ORDER = (
    "fx_rates",
    "reps",
    "campaigns",
    "targets",
    "accounts",
    "contacts",
    "opportunities",
    "orders",
    "activities",
)


@dataclass
class FileSpec:
    """One output file: which rows of which entity, in which layout and style."""

    name: str
    entity: str
    layout_key: str
    """entity, or `task` / `event` for Salesforce activities."""
    style: Style
    pos: np.ndarray
    system: str
    zip_name: str | None = None


def _prepare(world: World) -> dict[str, pd.DataFrame]:
    """Add the derived columns vendor layouts need (WhatId, subjects, seconds, usernames)."""
    frames = dict(world.frames)
    acts = frames["activities"].copy()
    acts["what_id"] = acts["opportunity_id"].where(
        acts["opportunity_id"].notna(), acts["account_id"]
    )
    acts["subject"] = acts["activity_type"].str.title() + " with customer"
    acts["duration_seconds"] = (acts["duration_minutes"] * 60).where(
        acts["activity_type"] == "call"
    )
    acts["ended_at"] = acts["occurred_at"] + pd.to_timedelta(
        acts["duration_minutes"].fillna(0).astype("int64"), unit="m"
    )
    frames["activities"] = acts
    reps = frames["reps"].copy()
    reps["username"] = (
        reps["rep_name"].str.lower().str.replace(" ", ".", regex=False) + "@example-corp.com"
    )
    frames["reps"] = reps
    return frames


def _landing_days(
    world: World, frames: dict[str, pd.DataFrame], history_days: int
) -> dict[str, np.ndarray]:
    """Landing day per row (-1 = not sent): day 0 keeps each record's latest non-deleted version."""
    out = {}
    for entity, frame in frames.items():
        day = np.maximum(frame["_t"].to_numpy() - history_days, 0)
        id_col = ID_COLUMN.get(entity)
        if id_col is not None:
            first = frame[day == 0]
            latest = (
                first.sort_values("updated_at", kind="stable").groupby(id_col, sort=False).tail(1)
            )
            if "is_deleted" in latest:
                latest = latest[~latest["is_deleted"].astype(bool)]
            keep = np.zeros(len(frame), dtype=bool)
            keep[frame.index.get_indexer(latest.index)] = True
            day = np.where((day == 0) & ~keep, -1, day)
        out[entity] = day
    return out


def _canonical_style(
    rng: np.random.Generator, container: str = "csv", encoding: str = "utf-8"
) -> Style:
    """Canonical files with the benign variety ingest must absorb."""
    if container == "txt":
        date_style, number = "de", "decimal_comma"  # a European spreadsheet export
    else:
        date_style = str(rng.choice(["iso", "us"], p=[0.7, 0.3]))
        number = str(rng.choice(["plain", "thousands", "dollar"], p=[0.6, 0.25, 0.15]))
    return Style(
        headers="canonical",
        container=container,
        encoding=encoding,
        datetime=str(
            rng.choice(["iso_z", "iso_space", "iso_offset", "epoch_ms"], p=[0.4, 0.3, 0.2, 0.1])
        ),
        date=date_style,
        number=number,
        boolean=str(rng.choice(["truefalse", "yesno", "10", "x"], p=[0.4, 0.2, 0.2, 0.2])),
        null=str(rng.choice(["", "N/A", "NULL", "-"], p=[0.5, 0.2, 0.2, 0.1])),
        prob_fraction=bool(rng.random() < 0.25),
        id_spaces=bool(rng.random() < 0.2),
    )


def _sf_style(rng: np.random.Generator, upper: bool = False) -> Style:
    return Style(
        headers="salesforce_upper" if upper else "salesforce",
        datetime="sf",
        sf_short_refs=bool(rng.random() < 0.5),
    )


def _hs_style(rng: np.random.Generator) -> Style:
    return Style(
        headers="hubspot",
        datetime="hubspot",
        prob_fraction=True,
        encoding=str(rng.choice(["utf-8", "utf-8-sig"], p=[0.8, 0.2])),
    )


VARIANTS = {
    "tsv": ("tsv", "utf-8", ".tsv"),
    "txt": ("txt", "utf-8", ".txt"),
    "jsonl": ("jsonl", "utf-8", ".jsonl"),
    "cp1252": ("csv", "cp1252", ".csv"),
    "utf16": ("csv", "utf-16", ".csv"),
    "bom": ("csv", "utf-8-sig", ".csv"),
    "gbk": ("csv", "gbk", ".csv"),
    "xlsx": ("xlsx", "utf-8", ".xlsx"),
    "gz": ("csv.gz", "utf-8", ".csv.gz"),
    "csv": ("csv", "utf-8", ".csv"),
}


def _canonical_variant(
    rng: np.random.Generator, entity: str, pos: np.ndarray, day: int, system: str, variant: str
) -> FileSpec:
    if variant == "xlsx" and len(pos) > 60:
        variant = "csv"  # openpyxl is slow; spreadsheets are the small hand-made exports anyway
    container, encoding, ext = VARIANTS[variant]
    return FileSpec(
        f"{entity}{ext}", entity, entity, _canonical_style(rng, container, encoding), pos, system
    )


def _sf_files(
    rng: np.random.Generator,
    entity: str,
    pos: np.ndarray,
    arrays: dict[str, np.ndarray],
    upper: bool,
) -> list[FileSpec]:
    style = _sf_style(rng, upper)
    if entity != "activities":
        return [FileSpec(f"{SF_FILE[entity]}.csv", entity, entity, style, pos, "salesforce")]
    event = arrays["activity_type"][pos]
    is_event = np.isin(event, ["meeting", "demo"])
    out = []
    for key, mask in (("task", ~is_event), ("event", is_event)):
        if mask.any():
            out.append(FileSpec(f"{SF_FILE[key]}.csv", entity, key, style, pos[mask], "salesforce"))
    return out


def _plan_day(
    mode: str,
    day: int,
    day_str: str,
    slices: dict[str, np.ndarray],
    arrays: dict[str, np.ndarray],
    rng: np.random.Generator,
    is_sunday: bool,
) -> list[FileSpec]:
    specs: list[FileSpec] = []
    for entity in ENTITY_ORDER:
        pos = slices.get(entity)
        if pos is None or len(pos) == 0:
            continue
        systems = arrays[entity][pos]
        if entity in ("fx_rates", "targets"):
            specs.append(FileSpec(f"{entity}.csv", entity, entity, Style(), pos, "canonical"))
            continue
        if (
            entity == "orders"
            or mode == "canonical"
            or (entity == "campaigns" and mode == "hubspot")
        ):
            if mode == "mixed" and day > 0:
                variant = str(
                    rng.choice(
                        ["csv", "gz", "tsv", "txt", "jsonl", "cp1252", "utf16", "bom", "xlsx"],
                        p=[0.3, 0.15, 0.1, 0.1, 0.1, 0.07, 0.06, 0.07, 0.05],
                    )
                )
            else:
                variant = (
                    "gz"
                    if entity in ("orders", "activities") and (day == 0 or day % 7 == 3)
                    else "csv"
                )
            specs.append(_canonical_variant(rng, entity, pos, day, "canonical", variant))
            continue
        for system in sorted(set(systems.tolist())):
            sub = pos[systems == system]
            if system == "hubspot":
                specs.append(
                    FileSpec(
                        hubspot_file(entity, day_str, alt=day % 5 == 2),
                        entity,
                        entity,
                        _hs_style(rng),
                        sub,
                        "hubspot",
                    )
                )
                continue
            variant = "sf"
            if mode == "mixed" and day > 0 and entity != "campaigns":
                choices = [
                    "sf",
                    "sf_upper",
                    "tsv",
                    "txt",
                    "jsonl",
                    "cp1252",
                    "utf16",
                    "bom",
                    "xlsx",
                    "gbk",
                ]
                p = np.array([0.45, 0.1, 0.07, 0.07, 0.07, 0.06, 0.05, 0.05, 0.04, 0.04])
                if entity != "accounts":
                    p[-1] = 0
                variant = str(rng.choice(choices, p=p / p.sum()))
            elif mode == "salesforce" and day > 0 and rng.random() < 0.15:
                variant = "sf_upper"
            if variant in ("sf", "sf_upper"):
                files = _sf_files(rng, entity, sub, arrays, variant == "sf_upper")
                if is_sunday and day > 0:
                    for f in files:
                        f.zip_name = "export.zip"  # the weekly export arrives as one archive
                specs.extend(files)
            else:
                specs.append(_canonical_variant(rng, entity, sub, day, "salesforce", variant))
    # Two files of one name cannot share a folder: keep the stem (it names the entity) and
    # switch the container of the later one.
    seen: set[tuple[str | None, str]] = set()
    for spec in specs:
        stem = spec.name.split(".")[0]
        for container in ("tsv", "jsonl", "txt"):
            if (spec.zip_name, spec.name) not in seen:
                break
            spec.name = f"{stem}.{container}"
            spec.style = Style(
                headers=spec.style.headers,
                container=container,
                datetime=spec.style.datetime,
                date="de" if container == "txt" else "iso",
                number="decimal_comma" if container == "txt" else "plain",
            )
        seen.add((spec.zip_name, spec.name))
    return specs


class _FreshIds:
    """IDs for planted rows from a reserved key range, per entity and system."""

    def __init__(self) -> None:
        self.counter = 0

    def make(self, entity: str, system: str, layout_key: str) -> str:
        self.counter += 1
        prefix = {"task": "00T", "event": "00U"}.get(layout_key)
        if entity == "orders":
            system = "canonical"
        return str(
            make_ids(entity, system, np.array([PLANTED_KEY_BASE + self.counter]), sf_prefix=prefix)[
                0
            ]
        )


def generate(
    out: Path,
    *,
    days: int,
    accounts: int = 300,
    fmt: str = "canonical",
    seed: int = 0,
    start: date = date(2024, 1, 1),
    history_days: int = 365,
    dirty: bool = True,
    file_errors: bool = False,
    currency: str = "USD",
    drift: bool = False,
    key_accounts: int = 0,
) -> Manifest:
    """Write `<out>/<YYYY-MM-DD>/...` for `days` days plus `<out>/_generator/` (manifest, truth).

    `drift` plants schema drift (`crm_generator.drift`), recorded in the manifest's `drift` list.
    `key_accounts` champions become key accounts (truth column `planted_key_account`).
    """
    if fmt not in ("canonical", "salesforce", "hubspot", "mixed"):
        raise ValueError(f"unknown format {fmt!r}: canonical, salesforce, hubspot or mixed")
    if days < 1:
        raise ValueError("days must be at least 1")
    out = Path(out)
    world = build_world(
        seed=seed,
        start=start,
        days=days,
        history_days=history_days,
        accounts=accounts,
        mode=fmt,
        key_accounts=key_accounts,
    )
    frames = _prepare(world)
    renderer = Renderer(
        frames, dict(zip(frames["reps"]["rep_id"], frames["reps"]["rep_name"], strict=True))
    )
    landing = _landing_days(world, frames, history_days)
    by_day: dict[str, list[np.ndarray]] = {}
    for entity, day in landing.items():
        order = np.argsort(day, kind="stable")
        bounds = np.searchsorted(day[order], np.arange(days + 1))
        by_day[entity] = [order[bounds[d] : bounds[d + 1]] for d in range(days)]

    # Arrow-backed string columns convert slowly: take the ones planning needs as numpy once.
    arrays = {e: f["_system"].to_numpy(dtype=object) for e, f in frames.items()}
    arrays["activity_type"] = frames["activities"]["activity_type"].to_numpy(dtype=object)
    updated_at = {e: f["updated_at"].to_numpy() for e, f in frames.items() if "updated_at" in f}
    style_rng = np.random.default_rng([seed, 1])
    dirt_rng = np.random.default_rng([seed, 2])
    fresh = _FreshIds()
    planter = DriftPlanter() if drift else None
    manifest = Manifest(
        seed=seed, format=fmt, start=start.isoformat(), days=days, currency=currency
    )
    written: dict[str, bytes] = {}
    for d in range(days):
        day = start + timedelta(days=d)
        day_str = day.isoformat()
        slices = {e: by_day[e][d] for e in by_day}
        specs = _plan_day(fmt, d, day_str, slices, arrays, style_rng, day.weekday() == 6)
        zips: dict[str, list[tuple[str, bytes]]] = {}
        for spec in specs:
            lay = layout(spec.layout_key, spec.style.headers)
            reasons: list[str] = []
            n_exact = n_older = 0
            if dirty and spec.entity in DIRTY_ENTITIES:
                if d == 0:
                    first = list(PRIORITY_REASONS.get(spec.entity, ()))
                    rest = [r for r in dirt_rng.permutation(cat.ROW_REASONS) if r not in first]
                    reasons = (first + rest) * (2 if spec.entity == "orders" else 1)
                    n_exact, n_older = (2, 2) if len(spec.pos) >= 40 else (0, 0)
                else:
                    if dirt_rng.random() < 0.25:
                        reasons = [str(dirt_rng.choice(cat.ROW_REASONS))]
                    if len(spec.pos) >= 5 and dirt_rng.random() < 0.15:
                        n_exact, n_older = (1, 0) if dirt_rng.random() < 0.5 else (0, 1)
            rel = (
                f"{day_str}/{spec.zip_name}/{spec.name}"
                if spec.zip_name
                else f"{day_str}/{spec.name}"
            )
            if (
                len(spec.pos) >= STREAM_MIN_ROWS
                and not (reasons or n_exact or n_older or planter or file_errors or spec.zip_name)
                and streams(spec.style)
            ):
                encoding = write_streamed(
                    out / rel,
                    renderer.headers(lay, spec.style),
                    (
                        renderer.render(spec.entity, lay, spec.style, chunk)[1]
                        for chunk in np.array_split(
                            spec.pos, -(-len(spec.pos) // STREAM_CHUNK_ROWS)
                        )
                    ),
                    spec.style,
                )
                manifest.files.append(_record(rel, spec, len(spec.pos), FileRows([], []), encoding))
                continue
            headers, cols = renderer.render(spec.entity, lay, spec.style, spec.pos)
            content = FileRows(
                headers=headers, rows=[list(r) for r in zip(*cols, strict=True)] if cols else []
            )
            updated = updated_at[spec.entity][spec.pos] if spec.entity in updated_at else None
            content = plant(
                content,
                lay,
                spec.style,
                spec.entity,
                day,
                reasons,
                n_exact,
                n_older,
                updated,
                lambda s=spec: fresh.make(s.entity, s.system, s.layout_key),
                dirt_rng,
            )
            if planter is not None:
                content = planter.apply(content, lay, spec.entity, d, spec.style.date, rel)
            data, encoding = serialise(content, spec.style)
            if spec.zip_name:
                zips.setdefault(spec.zip_name, []).append((spec.name, data))
            else:
                written[rel] = data
            manifest.files.append(_record(rel, spec, len(content.rows), content, encoding))
            manifest.planted.extend(
                {"source_file": rel, "source_row": p + 1, "reason_code": r}
                for p, r in content.planted
            )
        for zip_name, members in zips.items():
            written[f"{day_str}/{zip_name}"] = build_zip(sorted(members))
    if planter is not None:
        manifest.drift = planter.records
    if file_errors:
        plant_file_errors(written, manifest, frames, start, days, style_rng)
    manifest.truth = {
        "archetypes": list(cat.ARCHETYPES),
        "churn_window_days": cat.CHURN_WINDOW_DAYS,
        "history_start": world.history_start.isoformat(),
        "accounts": accounts,
        "products": list(cat.PRODUCTS),
        "regions": list(cat.REGIONS),
        "reporting_currency": currency,
    }
    for rel, data in sorted(written.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    meta = out / "_generator"
    manifest.write(meta / "manifest.json")
    world.truth.to_csv(meta / "truth_accounts.csv", index=False, lineterminator="\n")
    return manifest


def _record(rel: str, spec: FileSpec, rows: int, content: FileRows, encoding: str) -> FileRecord:
    """The manifest's line for a file of `rows` rows; `content` says what was planted in it."""
    reasons: dict[str, int] = {}
    for _p, r in content.planted:
        reasons[r] = reasons.get(r, 0) + 1
    bad = len(content.planted)
    clean = rows - bad - content.duplicates
    return FileRecord(
        source_file=rel,
        entity=spec.entity,
        vendor_format=spec.style.headers.replace("_upper", ""),
        rows_read=rows,
        rows_clean=clean,
        rows_quarantined=bad,
        rows_duplicate=content.duplicates,
        quarantine_reasons=dict(sorted(reasons.items())),
        encoding=encoding,
    )
