"""Vectorised parsers that turn raw landing-file text into typed values.

Every parser takes a pandas Series of raw text (exactly the file's text, untrimmed, NaN for absent
cells) and keeps its index. Parsers that can fail return :class:`Parsed`, so the cleaner can tell a
missing value (null) from a bad one (``invalid``) and quarantine only the latter. Each row is exactly
one of: a value, invalid, or null.

Everything runs column-at-a-time on pyarrow compute / numpy: a cheap whole-column fast path first
(one ``pyarrow.compute.cast``), then regex normalisation only for the rows that need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "NULL_TOKENS",
    "Parsed",
    "detect_day_first",
    "is_null",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_id",
    "parse_int",
    "parse_number",
    "parse_text",
]

NULL_TOKENS: frozenset[str] = frozenset(
    {"", "NULL", "null", "None", "N/A", "n/a", "#N/A", "nan", "-", "NA"}
)
"""Cell texts that mean "no value" once surrounding whitespace is trimmed.

``NA`` is one of them except where the caller passes ``na_is_null=False`` (``country``: Namibia).
"""

_NULL_TOKENS_NO_NA = pa.array(sorted(NULL_TOKENS - {"NA"}), type=pa.large_string())
_NULL_TOKENS_ALL = pa.array(sorted(NULL_TOKENS), type=pa.large_string())

_US_PER_DAY = 86_400_000_000
_NAT = np.iinfo(np.int64).min
# Excel's 1900 date system counts days from 1899-12-30 (this absorbs its fake 1900-02-29 for
# every serial from 61 on, i.e. every date after 1900-02-28; earlier serials are off by a day).
_EXCEL_EPOCH_DAYS = -25_569
_EXCEL_MAX_SERIAL = 2_958_466  # 10000-01-01: beyond Excel's own range


@dataclass(frozen=True)
class Parsed:
    """A parsed column: typed ``values`` plus a mask of rows whose text could not be parsed."""

    values: pd.Series
    """Typed values; NA where the input was null OR invalid."""
    invalid: pd.Series
    """bool; True where the input was non-null but could not be parsed (or, for IDs, is mangled)."""


# --------------------------------------------------------------------------------------------
# Arrow helpers
# --------------------------------------------------------------------------------------------


def _arrow(raw: pd.Series) -> pa.Array:
    """The column as one Arrow string array (zero-copy for pandas' pyarrow-backed ``str``)."""
    if raw.dtype != "str":
        raw = raw.astype("str")
    arr = pa.array(raw)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow booleans -> numpy bool, nulls as False."""
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _trimmed(raw: pd.Series) -> pa.Array:
    return trim_whitespace(_arrow(raw))


def trim_whitespace(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`pc.utf8_trim_whitespace`, without its copy of the column when no cell can need it."""
    single = arr.chunk(0) if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 1 else arr
    if isinstance(single, pa.Array) and not _may_need_trim(single):
        return arr
    return pc.utf8_trim_whitespace(arr)


def _may_need_trim(arr: pa.Array) -> bool:
    """Whether a cell may start or end with whitespace: a byte <= 0x20 in ASCII, or a multi-byte
    character (lead byte >= 0xC2, last byte a continuation >= 0x80). Reads two bytes a cell
    instead of rewriting every byte of the column."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return True
    _, offsets, data = arr.buffers()
    if len(arr) == 0 or offsets is None or data is None:
        return False  # no cell, or every cell empty or null
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=offset_type)[arr.offset :][: len(arr) + 1]
    sized = offsets[1:] > offsets[:-1]
    if not sized.any():
        return False
    data = np.frombuffer(data, dtype=np.uint8)
    first, last = data[offsets[:-1][sized]], data[offsets[1:][sized] - 1]
    return bool(((first <= 0x20) | (first >= 0x7F) | (last <= 0x20) | (last >= 0x7F)).any())


def _null_mask_arrow(trimmed: pa.Array, na_is_null: bool) -> np.ndarray:
    tokens = _NULL_TOKENS_ALL if na_is_null else _NULL_TOKENS_NO_NA
    return _np_bool(pc.or_kleene(pc.is_null(trimmed), pc.is_in(trimmed, value_set=tokens)))


def _bool_series(mask: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(mask, index=index, dtype=bool)


def _str_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    out = arr.to_pandas()
    out.index = index
    return out.astype("str")


def _ints(arr: pa.Array, default: int = 0) -> np.ndarray:
    """Digit-only strings ('' for an absent optional regex group) -> int64."""
    filled = pc.if_else(pc.equal(arr, ""), str(default), arr)
    return pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------------------------
# Text and IDs
# --------------------------------------------------------------------------------------------


def is_null(raw: pd.Series, *, na_is_null: bool = True) -> pd.Series:
    """True where the cell is absent or holds a null token (after trimming whitespace)."""
    return _bool_series(_null_mask_arrow(_trimmed(raw), na_is_null), raw.index)


def parse_text(raw: pd.Series, *, na_is_null: bool = True) -> pd.Series:
    """Trimmed text with null tokens turned into NA (dtype ``str``)."""
    trimmed = _trimmed(raw)
    null = _null_mask_arrow(trimmed, na_is_null)
    return _str_series(
        pc.if_else(pa.array(null), pa.scalar(None, trimmed.type), trimmed), raw.index
    )


# Spreadsheet damage: 1.23457E+17, 1E+17, 1.2e5. Requiring a decimal mantissa or a signed exponent
# keeps plausible alphanumeric IDs such as '12E45' from being flagged.
_MANGLED_ID = r"^[+-]?\d+(?:[.,]\d+[eE][+-]?\d+|[eE][+-]\d+)$"
_SF_ID15 = r"^[A-Za-z0-9]{15}$"
_SF_SUFFIX_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


def _salesforce_18(ids15: pa.Array) -> pa.Array:
    """Append Salesforce's 3-character case checksum to 15-character ASCII IDs.

    Each 5-character chunk gives a 5-bit number (bit i set when char i is an upper-case letter),
    which indexes the alphabet A-Z0-5. Works on the Arrow byte buffer directly: every value is
    exactly 15 bytes, so the buffer is an (n, 15) matrix.
    """
    n = len(ids15)
    binary = pc.cast(ids15, pa.large_binary())
    offsets = np.frombuffer(binary.buffers()[1], dtype=np.int64)[binary.offset :]
    data = np.frombuffer(binary.buffers()[2], dtype=np.uint8)
    chars = data[offsets[0] : offsets[0] + 15 * n].reshape(n, 3, 5)
    upper = (chars >= ord("A")) & (chars <= ord("Z"))
    bits = (upper * np.array([1, 2, 4, 8, 16], dtype=np.uint8)).sum(axis=2)
    full = np.concatenate([chars.reshape(n, 15), _SF_SUFFIX_ALPHABET[bits]], axis=1)
    new_offsets = np.arange(n + 1, dtype=np.int64) * 18
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(new_offsets), pa.py_buffer(full.tobytes())]
    )


def parse_id(raw: pd.Series, *, salesforce: bool = False) -> Parsed:
    """IDs as trimmed strings (never numbers, leading zeros kept).

    Scientific notation is spreadsheet damage and flagged invalid (``mangled_id``). With
    ``salesforce=True`` 15-character IDs become their 18-character case-insensitive form so they
    join with the 18-character IDs other exports carry.
    """
    trimmed = _trimmed(raw)
    null = _null_mask_arrow(trimmed, True)
    mangled = _np_bool(pc.match_substring_regex(trimmed, _MANGLED_ID)) & ~null
    text = trimmed
    if salesforce:
        short = _np_bool(pc.match_substring_regex(trimmed, _SF_ID15)) & ~null
        if short.any():
            mask = pa.array(short)
            text = pc.replace_with_mask(trimmed, mask, _salesforce_18(trimmed.filter(mask)))
    keep = pa.array(~(null | mangled))
    values = pc.if_else(keep, text, pa.scalar(None, text.type))
    return Parsed(_str_series(values, raw.index), _bool_series(mangled, raw.index))


# --------------------------------------------------------------------------------------------
# Numbers and booleans
# --------------------------------------------------------------------------------------------

_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_GROUPED_NUMBER = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_SEP = r"[ '\x{00a0}\x{202f}]"
_CUR_PRE = r"(?:[A-Za-z]{3}|[A-Za-z]{0,2}[$€¥£₹])"
_CUR_POST = r"(?:[A-Za-z]{3}|[$€¥£₹])"
_BODY = r"[\d.,](?:[\d., '\x{00a0}\x{202f}]*[\d.,])?"
_AMOUNT = r"(?:" + _CUR_PRE + r"\s*)?" + _BODY + r"(?:\s*" + _CUR_POST + r")?"
# The accepted decorations, each with at most one sign: accounting parentheses, a sign before or
# after the currency, or a trailing minus (SAP style).
_NUMBER_SHAPE = (
    r"^(?:\(\s*" + _AMOUNT + r"\s*\)"
    r"|(?:[+-]\s*)?"
    + _AMOUNT
    + r"|"
    + _CUR_PRE
    + r"\s*[+-]\s*"
    + _BODY
    + r"(?:\s*"
    + _CUR_POST
    + r")?"
    r"|" + _AMOUNT + r"\s*-)$"
)
# Once the shape is known to be valid, trimming these from both ends leaves only the digit body.
_DECORATION_CHARS = (
    "()+-$€¥£₹ \t\u00a0\u202f"
    + "".join(map(chr, range(65, 91)))
    + "".join(map(chr, range(97, 123)))
)
_BODY_GROUP_COMMA = r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$"  # 1,234.50 and the ambiguous 1,234
_BODY_GROUP_DOT = r"^\d{1,3}(?:\.\d{3})+,\d*$|^\d{1,3}(?:\.\d{3}){2,}$"  # 1.234,50 / 1.234.567
_BODY_GROUP_SPACE = r"^\d{1,3}(?:" + _SEP + r"\d{3})+(?:[.,]\d*)?$"  # 1 234,50 / 1'234.50
_BODY_DECIMAL_COMMA = r"^\d*,\d+$"  # 1234,5
_BODY_PLAIN = r"^(?:\d+\.?\d*|\.\d+)$"


def _normalise_body(body: pa.Array) -> pa.Array:
    """Digit bodies in any supported grouping style -> '1234.5' (null when no style fits).

    Styles are tried in order and each row is rewritten by the first that fits it, so the
    ambiguous '1,234' is read as thousands (comma grouping is tried before decimal comma).
    """
    styles = [
        (_BODY_PLAIN, lambda b: b),
        (_BODY_GROUP_COMMA, lambda b: pc.replace_substring(b, ",", "")),
        (_BODY_GROUP_DOT, lambda b: _comma_decimal(pc.replace_substring(b, ".", ""))),
        (_BODY_DECIMAL_COMMA, _comma_decimal),
        (_BODY_GROUP_SPACE, lambda b: _comma_decimal(pc.replace_substring_regex(b, _SEP, ""))),
    ]
    out = pa.nulls(len(body), type=body.type)
    pending = np.ones(len(body), bool)
    for pattern, rewrite in styles:
        fits = pending & _np_bool(pc.match_substring_regex(body, pattern))
        if fits.any():
            mask = pa.array(fits)
            out = pc.replace_with_mask(out, mask, rewrite(body.filter(mask)))
            pending &= ~fits
        if not pending.any():
            break
    return out


def _comma_decimal(body: pa.Array) -> pa.Array:
    return pc.replace_substring(body, ",", ".")


def _parse_decorated_numbers(text: pa.Array) -> np.ndarray:
    """Currency-, grouping- or accounting-decorated numbers -> float64 (NaN when unparseable)."""
    result = np.full(len(text), np.nan)
    shaped = _np_bool(pc.match_substring_regex(text, _NUMBER_SHAPE))
    if not shaped.any():
        return result
    text = text.filter(pa.array(shaped))
    # The shape allows one sign at most, so any '-' or '(' makes the value negative.
    negative = _np_bool(pc.match_substring(text, "-")) | _np_bool(pc.starts_with(text, "("))
    body = _normalise_body(pc.utf8_trim(text, _DECORATION_CHARS))
    ok = _np_bool(pc.is_valid(body))
    numbers = np.full(len(text), np.nan)
    if ok.any():
        numbers[ok] = pc.cast(body.filter(pa.array(ok)), pa.float64()).to_numpy()
    result[shaped] = np.where(negative, -numbers, numbers)
    return result


def _parse_floats(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values with NaN for null/invalid, null mask)."""
    trimmed = _trimmed(raw)
    null = _null_mask_arrow(trimmed, True)
    plain = _np_bool(pc.match_substring_regex(trimmed, _PLAIN_NUMBER)) & ~null
    values = np.full(len(trimmed), np.nan)
    if plain.any():
        values[plain] = pc.cast(trimmed.filter(pa.array(plain)), pa.float64()).to_numpy()
    rest = ~plain & ~null
    if rest.any():
        # The second most common export style: 1,234.50. Strip commas and cast, no regex captures.
        grouped = rest & _np_bool(pc.match_substring_regex(trimmed, _GROUPED_NUMBER))
        if grouped.any():
            plain_text = pc.replace_substring(trimmed.filter(pa.array(grouped)), ",", "")
            values[grouped] = pc.cast(plain_text, pa.float64()).to_numpy()
            rest &= ~grouped
    if rest.any():
        values[rest] = _parse_decorated_numbers(trimmed.filter(pa.array(rest)))
    values[~np.isfinite(values)] = np.nan  # 1e400 overflows to inf: not a usable amount
    return values, null


def parse_number(raw: pd.Series) -> Parsed:
    """Numbers as float64.

    Accepts ``1234.5``, ``1,234.50``, ``1.234,50``, ``1234,5``, ``1 234,50``, currency symbols
    ($ € ¥ £ ₹, ``US$``) and ISO codes on either side (``USD 10``, ``10 EUR``), accounting
    negatives ``(1,234.50)``, ``-5``, ``$-5``, a trailing minus and surrounding spaces. A lone comma
    followed by exactly three digits (``1,234``) is read as a thousands separator.
    """
    values, null = _parse_floats(raw)
    invalid = np.isnan(values) & ~null
    return Parsed(pd.Series(values, index=raw.index), _bool_series(invalid, raw.index))


def parse_int(raw: pd.Series) -> Parsed:
    """Whole numbers as Int64 (``12``, ``12.0``, ``1,200``); a fraction such as ``12.5`` is invalid."""
    values, null = _parse_floats(raw)
    whole = np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 2**63)
    invalid = ~whole & ~null
    out = pd.arrays.IntegerArray(np.where(whole, values, 0).astype(np.int64), ~whole)
    return Parsed(pd.Series(out, index=raw.index), _bool_series(invalid, raw.index))


_TRUE_TOKENS = pa.array(["true", "t", "yes", "y", "1", "1.0", "x", "on"], type=pa.large_string())
_FALSE_TOKENS = pa.array(["false", "f", "no", "n", "0", "0.0", "off"], type=pa.large_string())


def parse_bool(raw: pd.Series) -> Parsed:
    """Booleans (``boolean`` dtype): true/false, 1/0, yes/no, y/n, t/f, on/off, ``x`` = True.

    Empty and null tokens are NA: the caller decides the default (``x``/empty columns mean False).
    """
    trimmed = _trimmed(raw)
    null = _null_mask_arrow(trimmed, True)
    lower = pc.utf8_lower(trimmed)
    true = _np_bool(pc.is_in(lower, value_set=_TRUE_TOKENS))
    false = _np_bool(pc.is_in(lower, value_set=_FALSE_TOKENS))
    out = pd.arrays.BooleanArray(true, ~(true | false))
    invalid = ~(true | false) & ~null
    return Parsed(pd.Series(out, index=raw.index), _bool_series(invalid, raw.index))


# --------------------------------------------------------------------------------------------
# Dates and datetimes
# --------------------------------------------------------------------------------------------

_TIME = (
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<MI>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
    r"\s*(?P<AP>[AaPp]\.?[Mm]\.?)?)?\s*(?P<Z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_FAMILIES: list[tuple[str, str]] = [
    ("ymd", r"^(?P<Y>\d{4})-(?P<M>\d{1,2})-(?P<D>\d{1,2})" + _TIME),
    ("ymd", r"^(?P<Y>\d{4})/(?P<M>\d{1,2})/(?P<D>\d{1,2})" + _TIME),
    ("dmy", r"^(?P<D>\d{1,2})\.(?P<M>\d{1,2})\.(?P<Y>\d{4})" + _TIME),
    ("slash", r"^(?P<A>\d{1,2})/(?P<B>\d{1,2})/(?P<Y>\d{4})" + _TIME),
]
_EPOCH_MS = r"^\d{13}$"
_EXCEL_SERIAL = r"^\d{1,7}(?:\.\d+)?$"
_DAY_FIRST_PROOF = r"^\s*(?:1[3-9]|2\d|3[01])/(?:0?[1-9]|1[0-2])/\d{4}"
_MONTH_FIRST_PROOF = r"^\s*(?:0?[1-9]|1[0-2])/(?:1[3-9]|2\d|3[01])/\d{4}"
ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
ISO_ZONED = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"
)
_FIXED_TIME = r"(?: \d{2}:\d{2}(?::\d{2})?)?$"
_FIXED_SLASH = r"^\d{2}/\d{2}/\d{4}" + _FIXED_TIME
_FIXED_DOT = r"^\d{2}\.\d{2}\.\d{4}" + _FIXED_TIME
_FIXED_YMD_SLASH = r"^\d{4}/\d{2}/\d{2}" + _FIXED_TIME


@dataclass
class _Stamps:
    """Parsed instants: ``micros`` are UTC where ``absolute``, else wall-clock time in the zone."""

    micros: np.ndarray
    ok: np.ndarray
    absolute: np.ndarray
    null: np.ndarray


def detect_day_first(raw: pd.Series) -> bool | None:
    """Decide DD/MM/YYYY vs MM/DD/YYYY for one column from its unambiguous slash dates.

    True when some value proves day-first (first part > 12), False when some proves month-first.
    None when every slash date is ambiguous (or there are none). A column holding proof of both
    (mixed data) follows the majority; a tie is None.
    """
    text = _arrow(raw)
    day_first = int(pc.sum(pc.match_substring_regex(text, _DAY_FIRST_PROOF)).as_py() or 0)
    month_first = int(pc.sum(pc.match_substring_regex(text, _MONTH_FIRST_PROOF)).as_py() or 0)
    if day_first == month_first:
        return None
    return day_first > month_first


def _days_from_civil(
    year: np.ndarray, month: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01, calendar-valid mask) for year/month/day arrays."""
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    months = (np.where(valid, year, 1970) - 1970) * 12 + np.where(valid, month, 1) - 1
    start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    valid &= day <= end - start
    return start + np.where(valid, day, 1) - 1, valid


def _offset_minutes(zone: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offset minutes east of UTC, has-zone mask, valid mask) from 'Z'/'UTC'/'+hh[:mm]' text."""
    has_zone = _np_bool(pc.not_equal(zone, ""))
    numeric = _np_bool(pc.match_substring_regex(zone, r"^[+-]"))
    digits = pc.utf8_rpad(pc.replace_substring(zone, ":", ""), width=5, padding="0")
    hours = _ints(pc.if_else(pa.array(numeric), pc.utf8_slice_codeunits(digits, 1, 3), ""))
    minutes = _ints(pc.if_else(pa.array(numeric), pc.utf8_slice_codeunits(digits, 3, 5), ""))
    sign = np.where(_np_bool(pc.starts_with(zone, "-")), -1, 1)
    valid = (hours <= 14) & (minutes <= 59)
    return sign * (hours * 60 + minutes), has_zone, valid


def _family_stamps(parts: pa.StructArray, kind: str, day_first: bool) -> tuple[np.ndarray, ...]:
    """(micros, ok, absolute) for rows matched by one date family's regex."""
    if kind == "slash":
        first, second = _ints(parts.field("A")), _ints(parts.field("B"))
        day, month = (first, second) if day_first else (second, first)
    else:
        day, month = _ints(parts.field("D")), _ints(parts.field("M"))
    days, ok = _days_from_civil(_ints(parts.field("Y")), month, day)
    hour, minute = _ints(parts.field("H")), _ints(parts.field("MI"))
    second_ = _ints(parts.field("S"))
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(parts.field("F"), width=6, padding="0"), 0, 6)
    micro = _ints(frac)
    ampm = pc.utf8_lower(pc.utf8_slice_codeunits(parts.field("AP"), 0, 1))
    has_ampm = _np_bool(pc.not_equal(ampm, ""))
    pm = _np_bool(pc.equal(ampm, "p"))
    ok &= np.where(has_ampm, (hour >= 1) & (hour <= 12), hour <= 23)
    hour = np.where(has_ampm, hour % 12 + np.where(pm, 12, 0), hour)
    ok &= (minute <= 59) & (second_ <= 59)
    offset, absolute, zone_ok = _offset_minutes(parts.field("Z"))
    ok &= zone_ok
    seconds = ((hour * 60 + minute - offset) * 60) + second_
    micros = days * _US_PER_DAY + seconds * 1_000_000 + micro
    return micros, ok, absolute


def _fixed_width_to_iso(text: pa.Array, day_first: bool, has_slash: bool) -> pa.Array:
    """Rewrite zero-padded slash/dot layouts to ISO text, so one Arrow cast parses (and
    calendar-checks) them; anything else is left for the regex families."""
    dash = pa.scalar("-", text.type)
    empty = pa.scalar("", text.type)
    layouts = [(_FIXED_DOT, "dmy")]
    if has_slash:
        layouts += [(_FIXED_SLASH, "slash"), (_FIXED_YMD_SLASH, "ymd")]
    for pattern, kind in layouts:
        mask = pc.match_substring_regex(text, pattern)
        if not pc.any(mask).as_py():
            continue
        sub = text.filter(mask)
        if kind == "ymd":
            iso = pc.replace_substring(sub, "/", "-")
        else:
            first, second = (pc.utf8_slice_codeunits(sub, i, i + 2) for i in (0, 3))
            day, month = (second, first) if kind == "slash" and not day_first else (first, second)
            year, rest = pc.utf8_slice_codeunits(sub, 6, 10), pc.utf8_slice_codeunits(sub, 10, 64)
            iso = pc.binary_join_element_wise(year, dash, month, dash, day, rest, empty)
        text = pc.replace_with_mask(text, mask, iso)
    return text


ISO_FORMS = ((ISO_NAIVE, False), (ISO_ZONED, True))
"""(pattern, absolute): the naive and the zoned ISO 8601 text one Arrow cast reads."""


def cast_iso(text: pa.Array, absolute: bool) -> pa.Array | None:
    """ISO 8601 text of one form as timestamps (UTC when `absolute`), or None when a value is
    not a valid calendar date (the cast then fails as a whole)."""
    try:
        return pc.cast(text, pa.timestamp("us", tz="UTC" if absolute else None))
    except pa.ArrowInvalid:
        return None


def _cast_iso(text: pa.Array, stamps: _Stamps, rows: np.ndarray) -> np.ndarray:
    """Parse clean ISO 8601 rows with one Arrow cast each for naive and zoned text.

    Returns the mask (over ``text``) of rows parsed. A cast that fails (an invalid calendar date
    somewhere) parses nothing: its rows go on to the regex path, which pinpoints the bad ones.
    """
    done = np.zeros(len(text), bool)
    for pattern, absolute in ISO_FORMS:
        mask = _np_bool(pc.match_substring_regex(text, pattern))
        if not mask.any():
            continue
        cast = cast_iso(text.filter(pa.array(mask)), absolute)
        if cast is None:
            continue
        hit = rows[mask]
        stamps.micros[hit] = cast.cast(pa.int64()).to_numpy(zero_copy_only=False)
        stamps.ok[hit], stamps.absolute[hit] = True, absolute
        done |= mask
        if done.all():
            break
    return done


def _numeric_stamps(text: pa.Array, excel_serial: bool) -> tuple[np.ndarray, ...]:
    """(micros, ok, absolute, matched) for epoch milliseconds and, optionally, Excel serials."""
    n = len(text)
    micros, ok, absolute = np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, bool)
    epoch = _np_bool(pc.match_substring_regex(text, _EPOCH_MS))
    if epoch.any():
        micros[epoch] = _ints(text.filter(pa.array(epoch))) * 1000
        ok[epoch] = absolute[epoch] = True
    serial = np.zeros(n, bool)
    if excel_serial:
        serial = _np_bool(pc.match_substring_regex(text, _EXCEL_SERIAL)) & ~epoch
        if serial.any():
            days = pc.cast(text.filter(pa.array(serial)), pa.float64()).to_numpy()
            in_range = (days >= 1) & (days < _EXCEL_MAX_SERIAL)
            millis = np.round(np.where(in_range, days, 0) * 86_400_000).astype(np.int64)
            micros[serial] = (millis + _EXCEL_EPOCH_DAYS * 86_400_000) * 1000
            ok[serial] = in_range
    return micros, ok, absolute, epoch | serial


def _parse_stamps(raw: pd.Series, day_first: bool | None, excel_serial: bool) -> _Stamps:
    """Parse every supported date/time layout of one column into :class:`_Stamps`.

    Cheap whole-column steps first (fixed-width rewrite + Arrow ISO cast cover nearly every real
    export); the capture-group regexes run only on the rows those leave over.
    """
    trimmed = _trimmed(raw)
    n = len(trimmed)
    null = _null_mask_arrow(trimmed, True)
    stamps = _Stamps(np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, bool), null)
    remaining = np.flatnonzero(~null)
    if remaining.size == 0:
        return stamps
    text = trimmed if remaining.size == n else trimmed.take(pa.array(remaining))
    # Literal probes are far cheaper than regexes: skip layouts the column cannot hold.
    has_slash = pc.any(pc.match_substring(text, "/")).as_py()
    if has_slash and day_first is None:
        day_first = bool(detect_day_first(raw))
    text = _fixed_width_to_iso(text, bool(day_first), has_slash)
    done = _cast_iso(text, stamps, remaining)
    remaining, text = remaining[~done], text.filter(pa.array(~done))
    if remaining.size:
        micros, ok, absolute, numeric = _numeric_stamps(text, excel_serial)
        rows = remaining[numeric]
        stamps.micros[rows], stamps.ok[rows] = micros[numeric], ok[numeric]
        stamps.absolute[rows] = absolute[numeric]
        remaining, text = remaining[~numeric], text.filter(pa.array(~numeric))
    for kind, pattern in _DATE_FAMILIES:
        if remaining.size == 0:
            break
        matched = _np_bool(pc.match_substring_regex(text, pattern))
        if not matched.any():
            continue
        rows = remaining[matched]
        parts = pc.extract_regex(text.filter(pa.array(matched)), pattern)
        micros, ok, absolute = _family_stamps(parts, kind, bool(day_first))
        stamps.micros[rows], stamps.ok[rows], stamps.absolute[rows] = micros, ok, absolute
        remaining, text = remaining[~matched], text.filter(pa.array(~matched))
    return stamps


def _localize_to_utc(wall_micros: np.ndarray, tz: str) -> np.ndarray:
    """Wall-clock micros in ``tz`` -> UTC micros.

    DST: a nonexistent local time (spring-forward gap) shifts forward to the first valid instant;
    an ambiguous one (fall-back hour) takes the earlier instant (the DST reading).
    """
    if tz.upper() == "UTC" or wall_micros.size == 0:
        return wall_micros
    index = pd.DatetimeIndex(wall_micros.view("datetime64[us]"))
    local = index.tz_localize(
        tz, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward"
    )
    return local.tz_convert("UTC").as_unit("us").asi8


def _utc_to_wall(utc_micros: np.ndarray, tz: str) -> np.ndarray:
    """UTC micros -> wall-clock micros in ``tz``."""
    if tz.upper() == "UTC" or utc_micros.size == 0:
        return utc_micros
    index = pd.DatetimeIndex(utc_micros.view("datetime64[us]")).tz_localize("UTC")
    return index.tz_convert(tz).tz_localize(None).as_unit("us").asi8


def parse_datetime(
    raw: pd.Series, *, tz: str = "UTC", day_first: bool | None = None, excel_serial: bool = False
) -> Parsed:
    """Date/times -> ``datetime64[us, UTC]``.

    Accepts ISO 8601 dates and datetimes ('T' or space, fractional seconds, 'Z'/'UTC' or offsets
    ``+0000``/``+00:00``/``+00``), ``YYYY/MM/DD``, ``DD.MM.YYYY``, ``MM/DD/YYYY`` or ``DD/MM/YYYY``
    (``day_first=None``: decided from this column's unambiguous values, month-first when none),
    each with an optional ``HH:MM[:SS[.f]]`` time and AM/PM; 13-digit epoch milliseconds (UTC);
    with ``excel_serial`` plain numbers are Excel serial days (1900 system). Values without an
    offset are wall-clock time in ``tz`` (see :func:`_localize_to_utc` for DST gaps/overlaps).
    Invalid calendar dates (2024-02-30) and anything else are invalid.
    """
    stamps = _parse_stamps(raw, day_first, excel_serial)
    utc = stamps.micros.copy()
    wall = stamps.ok & ~stamps.absolute
    utc[wall] = _localize_to_utc(stamps.micros[wall], tz)
    utc[~stamps.ok] = _NAT
    values = pd.Series(utc.view("datetime64[us]"), index=raw.index).dt.tz_localize("UTC")
    return Parsed(values, _bool_series(~stamps.ok & ~stamps.null, raw.index))


def parse_date(
    raw: pd.Series, *, tz: str = "UTC", day_first: bool | None = None, excel_serial: bool = False
) -> Parsed:
    """Dates -> naive ``datetime64[s]`` at midnight, from the same inputs as :func:`parse_datetime`.

    A value carrying an offset (or epoch milliseconds) is an instant: it is converted to ``tz``
    first and then truncated, so '2024-01-31T23:30:00-05:00' is 2024-02-01 in UTC.
    """
    stamps = _parse_stamps(raw, day_first, excel_serial)
    wall = stamps.micros.copy()
    instant = stamps.ok & stamps.absolute
    wall[instant] = _utc_to_wall(stamps.micros[instant], tz)
    seconds = np.floor_divide(wall, _US_PER_DAY) * 86_400
    seconds[~stamps.ok] = _NAT
    values = pd.Series(seconds.view("datetime64[s]"), index=raw.index)
    return Parsed(values, _bool_series(~stamps.ok & ~stamps.null, raw.index))


# --------------------------------------------------------------------------------------------
# Control characters
# --------------------------------------------------------------------------------------------


def cell_shape(raw: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(line break, other control character, UTF-8 byte length) of every cell: a CR/LF inside a
    cell, any other C0 control (NUL included; a tab is allowed), and the size (0 when absent).

    One pass over the column's byte buffer decides whether any cell has a byte below 0x20; only
    then are the cells searched, so a clean column costs no per-cell work.
    """
    none = pd.Series(False, index=raw.index)
    arr = _arrow(raw)
    if len(arr) == 0 or arr.null_count == len(arr):
        return none, none, np.zeros(len(arr), dtype=np.int64)
    wide = pc.cast(arr, pa.large_string())
    offsets = np.frombuffer(wide.buffers()[1], dtype=np.int64)[wide.offset :][: len(wide) + 1]
    data = np.frombuffer(wide.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    sizes = np.diff(offsets)
    if not len(data) or data.min() >= 0x20:
        return none, none, sizes
    breaks = _np_bool(pc.match_substring_regex(arr, r"[\r\n]"))
    other = _np_bool(pc.match_substring_regex(arr, r"[\x00-\x08\x0b\x0c\x0e-\x1f]"))
    return _bool_series(breaks, raw.index), _bool_series(other, raw.index), sizes
