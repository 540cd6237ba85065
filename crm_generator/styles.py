"""How a file spells its values: date/number/boolean/null conventions, and the cached renderer.

Formatting is vectorised over a whole entity once per (column, convention) and then sliced per file,
so thousands of small daily files cost little. Entities longer than `CACHE_MAX_ROWS` are formatted
per slice instead: a cached column of 10M Python strings costs ~0.6 GB, and a large world's files
are few and large. Nulls stay `None` until a file picks its null token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_generator import catalog as cat
from crm_generator.vendors import Layout

CACHE_MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class Style:
    """One file's conventions. Headers: canonical | salesforce | salesforce_upper | hubspot."""

    headers: str = "canonical"
    container: str = "csv"  # csv | csv.gz | tsv | txt (semicolon) | xlsx | jsonl
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | cp1252 | gbk | utf-16
    datetime: str = "iso_z"  # iso_z | iso_space | iso_offset | sf | hubspot | epoch_ms
    date: str = "iso"  # iso | us | de
    number: str = "plain"  # plain | thousands | dollar | decimal_comma
    boolean: str = "truefalse"  # truefalse | yesno | 10 | x
    null: str = ""
    prob_fraction: bool = False
    id_spaces: bool = False
    sf_short_refs: bool = False

    @property
    def delimiter(self) -> str:
        return {"tsv": "\t", "txt": ";"}.get(self.container, ",")

    @property
    def delimited(self) -> bool:
        return self.container in ("csv", "csv.gz", "tsv", "txt")


def _strftime(s: pd.Series, fmt: str) -> np.ndarray:
    out = pd.Series(s).dt.strftime(fmt).astype(object).to_numpy(copy=True)
    out[pd.isna(s).to_numpy()] = None
    return out


def format_ts(s: pd.Series, style: str) -> np.ndarray:
    """Minute-resolution timestamps (the world has no seconds) in one of the datetime styles."""
    s = pd.to_datetime(pd.Series(s))
    null = s.isna().to_numpy()
    values = s.to_numpy(dtype="datetime64[m]")
    if style == "epoch_ms":
        out = values.astype("datetime64[ms]").astype("int64").astype(str).astype(object)
    else:
        if style == "iso_offset":
            # The same instant written in CET, as a European tool exports it.
            values = values + np.timedelta64(60, "m")
        base = np.datetime_as_string(values, unit="m")  # YYYY-MM-DDTHH:MM, numpy-fast
        spaced = np.strings.replace(base, "T", " ")
        out = {
            "iso_z": lambda: np.strings.add(base, ":00Z"),
            "iso_space": lambda: np.strings.add(spaced, ":00"),
            "iso_offset": lambda: np.strings.add(base, ":00+01:00"),
            "sf": lambda: np.strings.add(base, ":00.000+0000"),
            "hubspot": lambda: spaced,
        }[style]().astype(object)
    out[null] = None
    return out


def format_date(s: pd.Series, style: str) -> np.ndarray:
    fmt = {"iso": "%Y-%m-%d", "us": "%m/%d/%Y", "de": "%d.%m.%Y"}[style]
    return _strftime(pd.to_datetime(pd.Series(s)), fmt)


def _plain_money(v: np.ndarray) -> np.ndarray:
    """'1234.50' for every value, vectorised through integer cents (no per-value Python)."""
    cents = np.round(np.nan_to_num(v) * 100).astype(np.int64)
    mag = np.abs(cents)
    text = np.strings.add(
        np.strings.add((mag // 100).astype(str), "."), np.strings.zfill((mag % 100).astype(str), 2)
    )
    return np.where(cents < 0, np.strings.add("-", text), text)


def format_money(values: np.ndarray, style: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    null = np.isnan(v)
    if style == "plain":
        arr = _plain_money(v).astype(object)
    else:
        out = pd.Series(v).map("{:,.2f}".format)
        if style == "dollar":
            out = "$" + out
        elif style == "decimal_comma":
            out = out.str.replace(",", "_").str.replace(".", ",").str.replace("_", ".")
        arr = out.astype(object).to_numpy(copy=True)
    arr[null] = None
    return arr


def format_number(values: np.ndarray, decimal_comma: bool, digits: int | None = None) -> np.ndarray:
    """Integers as '12'; decimals rounded to `digits` in their shortest form ('0.4', '40')."""
    v = np.asarray(values, dtype=float)
    null = np.isnan(v)
    if digits is None:
        text = np.nan_to_num(v).astype(np.int64).astype(str)
    else:
        text = np.round(np.nan_to_num(v), digits).astype(str)
        text = np.where(np.strings.endswith(text, ".0"), np.strings.slice(text, 0, -2), text)
        if decimal_comma:
            text = np.strings.replace(text, ".", ",")
    arr = text.astype(object)
    arr[null] = None
    return arr


BOOLS = {"truefalse": ("true", "false"), "yesno": ("yes", "no"), "10": ("1", "0"), "x": ("x", None)}


def format_scalar_ts(ts: pd.Timestamp, style: Style) -> str:
    return str(format_ts(pd.Series([ts]), style.datetime)[0])


class Renderer:
    """Formats world columns per convention once, then serves per-file slices."""

    def __init__(self, frames: dict[str, pd.DataFrame], rep_names: dict[str, str]) -> None:
        self.frames = frames
        self.rep_names = rep_names
        self._cache: dict[tuple, np.ndarray] = {}

    def column(
        self, entity: str, kind: str, source: str, style: Style, pos: np.ndarray
    ) -> np.ndarray:
        """The formatted values at `pos` of one layout column under a style (a new array)."""
        if len(self.frames[entity]) > CACHE_MAX_ROWS:
            return self._format(entity, kind, source, style, pos)
        return self._cached(entity, kind, source, style)[pos]

    def _cached(self, entity: str, kind: str, source: str, style: Style) -> np.ndarray:
        """Full-length formatted array for one layout column under a style."""
        dec = style.container == "txt"
        key_style: tuple = ()
        if kind == "ts":
            key_style = (style.datetime,)
        elif kind == "date":
            key_style = (style.date,)
        elif kind in ("money", "int", "prob", "rate"):
            key_style = (
                style.number if kind == "money" else dec,
                style.prob_fraction if kind == "prob" else None,
            )
        elif kind == "bool":
            key_style = (style.boolean,)
        key = (entity, kind, source, *key_style)
        if key not in self._cache:
            self._cache[key] = self._format(entity, kind, source, style)
        return self._cache[key]

    def _format(
        self, entity: str, kind: str, source: str, style: Style, pos: np.ndarray | None = None
    ) -> np.ndarray:
        """Format the whole column, or only the rows at `pos` (the same values either way)."""
        frame = self.frames[entity]
        positions = np.arange(len(frame)) if pos is None else pos
        if source.startswith("="):
            return np.full(len(positions), source[1:], dtype=object)
        s = frame[source] if pos is None else frame[source].iloc[pos]
        dec = style.container == "txt"
        if kind == "ts":
            return format_ts(s, style.datetime)
        if kind == "date":
            return format_date(s, style.date)
        if kind == "money":
            return format_money(
                s.to_numpy(dtype=float, na_value=np.nan),
                "decimal_comma"
                if dec and style.number != "plain"
                else ("plain" if dec else style.number),
            )
        if kind == "int":
            return format_number(s.to_numpy(dtype=float, na_value=np.nan), dec)
        if kind == "rate":
            return format_number(s.to_numpy(dtype=float), dec, digits=6)
        if kind == "prob":
            p = s.to_numpy(dtype=float, na_value=np.nan)
            return format_number(p / 100 if style.prob_fraction else p, dec, digits=4)
        if kind == "bool":
            yes, no = BOOLS[style.boolean]
            return (
                np.where(s.to_numpy(dtype=bool), yes, no).astype(object)
                if no is not None
                else np.where(s.to_numpy(dtype=bool), yes, None).astype(object)
            )
        arr = s.astype(object).to_numpy(copy=True)
        arr[pd.isna(s).to_numpy()] = None
        if kind == "stage_sf":
            # Stages with several Salesforce labels use all of them, by row.
            return np.array(
                [
                    None if v is None else cat.SF_STAGE[v][i % len(cat.SF_STAGE[v])]
                    for i, v in zip(positions, arr, strict=True)
                ],
                dtype=object,
            )
        if kind == "stage_hs":
            return np.array(
                [
                    None if v is None else cat.HS_STAGE[v][i % 2]
                    for i, v in zip(positions, arr, strict=True)
                ],
                dtype=object,
            )
        if kind == "owner_name":
            return np.array(
                [self.rep_names.get(v) if v is not None else None for v in arr], dtype=object
            )
        if kind == "title":
            return np.array([None if v is None else str(v).title() for v in arr], dtype=object)
        if kind == "upper":
            return np.array([None if v is None else str(v).upper() for v in arr], dtype=object)
        return arr

    def render(
        self, entity: str, lay: Layout, style: Style, pos: np.ndarray
    ) -> tuple[list[str], list[np.ndarray]]:
        """Headers and per-column string arrays (None = null) for the rows at `pos`."""
        cols = []
        for _header, _tag, kind, source in lay:
            col = self.column(entity, kind, source, style, pos)
            if kind in ("id", "ref") and style.id_spaces:
                # Spreadsheet-edited exports pad some IDs with spaces; ingest trims them.
                padded = (pos % 23 == 5) & pd.notna(col)
                col[padded] = np.array([f"  {v} " for v in col[padded]], dtype=object)
            if kind in ("ref", "assoc") and style.sf_short_refs:
                short = (pos % 7 == 3) & np.array(
                    [isinstance(v, str) and len(v) == 18 for v in col], dtype=bool
                )
                col[short] = np.array([v[:15] for v in col[short]], dtype=object)
            if kind == "assoc":
                # HubSpot association cells: "primary;other" for some rows; the first is used.
                extra = (pos % 11 == 4) & pd.notna(col)
                col[extra] = np.array(
                    [f"{v};{int(v) + 3}" if str(v).isdigit() else v for v in col[extra]],
                    dtype=object,
                )
            cols.append(col)
        return self.headers(lay, style), cols

    @staticmethod
    def headers(lay: Layout, style: Style) -> list[str]:
        return [h.upper() if style.headers == "salesforce_upper" else h for h, *_ in lay]
