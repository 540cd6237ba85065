"""Landing files -> raw string tables (:class:`RawFile`), one per file or archive member.

Nothing is typed here: every cell stays the file's exact text so the cleaner can quarantine a bad
value with the raw record. Records that cannot be split into the header's fields are kept in
``RawFile.malformed`` with their 1-based record number, never dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.json as pj

from assets.ingest.memory import release_arrow_memory
from schemas.ingest import READY_MARKER

__all__ = [
    "ArchiveLimits",
    "FileError",
    "RawFile",
    "read_bytes",
    "read_file",
    "read_landing_day",
]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 50
_MALFORMED_COLUMNS = ["source_row", "detail", "raw_text"]


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits that make a zip 'unsafe_archive' (zip bombs, path tricks)."""

    max_members: int = 1_000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 64 * 1024**2
    """A compressed stream may always expand to this much: tiny files of repeated rows have huge
    ratios without being bombs. Beyond it the ratio limit applies (gzip streams)."""


@dataclass
class FileError:
    """A file-level failure: the whole file is unreadable."""

    code: str  # a file reason of schemas.ingest.FILE_REASONS
    message: str


@dataclass
class RawFile:
    """One landing file (or archive member) as raw text.

    ``frame`` has one column per header position, named by ``columns`` (``c0``, ``c1``, ...:
    unique even when header names repeat); ``header[i]`` is the file's name for ``columns[i]``.
    """

    source_file: str
    name: str
    sha256: str
    encoding: str | None
    delimiter: str | None
    header: list[str]
    frame: pd.DataFrame | None
    source_row: pd.Series | None
    malformed: pd.DataFrame
    rows_read: int
    error: FileError | None
    columns: list[str] = field(default_factory=list)

    def column_of(self, header_name: str) -> str | None:
        """Frame label of the first column whose header is exactly ``header_name``."""
        for label, name in zip(self.columns, self.header, strict=False):
            if name == header_name:
                return label
        return None


def _empty_malformed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_row": pd.Series([], dtype="int64"),
            "detail": pd.Series([], dtype="str"),
            "raw_text": pd.Series([], dtype="str"),
        }
    )


def _malformed_frame(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    if not rows:
        return _empty_malformed()
    frame = pd.DataFrame(rows, columns=_MALFORMED_COLUMNS)
    return frame.astype({"source_row": "int64", "detail": "str", "raw_text": "str"})


def _failed(
    source_file: str, name: str, data: bytes, error: FileError, *, header_lines: int = 0
) -> RawFile:
    """A file that cannot be read. An undecodable file still has countable records: its non-blank
    lines (less the header), so its rows count as quarantined rather than vanishing."""
    records = 0
    if error.code in ("undecodable", "missing_column"):
        records = max(sum(1 for line in data.splitlines() if line.strip()) - header_lines, 0)
    return RawFile(
        source_file=source_file,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=None,
        delimiter=None,
        header=[],
        frame=None,
        source_row=None,
        malformed=_empty_malformed(),
        rows_read=records,
        error=error,
    )


# --------------------------------------------------------------------------------------------
# Encoding and delimiter
# --------------------------------------------------------------------------------------------


def _decode(data: bytes, source_file: str) -> tuple[str, str] | FileError:
    """(text, encoding) by BOM, then strict UTF-8, then GB18030 vs cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            return _undecodable(source_file, exc.start + 3, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            return _undecodable(source_file, exc.start, "utf-16")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_offset = exc.start
    decoded = {}
    for encoding in ("gb18030", "cp1252"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if len(decoded) == 2:
        best = charset_normalizer.from_bytes(data, cp_isolation=list(decoded)).best()
        choice = best.encoding if best is not None and best.encoding in decoded else "cp1252"
        choice = "gb18030" if best is not None and best.encoding == "gb18030" else choice
        return decoded[choice], choice
    if decoded:
        encoding, text = next(iter(decoded.items()))
        return text, encoding
    return _undecodable(source_file, utf8_offset, "UTF-8, GB18030 or cp1252")


def _is_utf8(data: bytes) -> bool:
    """Strict UTF-8 check without building a Python str: Arrow validates the bytes in place
    (decoding a 300 MB file only to learn its encoding would hold a second copy of it)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


_HEADER_PREFIX = 1 << 20


def _utf8_prefix(data: bytes, start: int) -> str:
    """The first ~1 MB of valid UTF-8 bytes as text (a multi-byte character cut at the end is
    dropped), enough to sniff the delimiter and parse a header."""
    return data[start : start + _HEADER_PREFIX].decode("utf-8", errors="ignore")


def _undecodable(source_file: str, offset: int, tried: str) -> FileError:
    return FileError(
        "undecodable",
        f"{source_file}: cannot decode as {tried}; first bad byte at offset {offset}",
    )


def _strip_quoted(line: str) -> str:
    """Drop quoted segments so delimiters inside quotes are not counted."""
    parts = line.split('"')
    return "".join(parts[::2])


def sniff_delimiter(text: str, default: str = ",") -> str:
    """Pick the delimiter among , ; TAB | that splits the first lines most consistently."""
    lines = [_strip_quoted(line) for line in text[:65_536].splitlines()[:_SNIFF_LINES] if line]
    if not lines:
        return default
    best, best_score = default, (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        if counts[0] == 0:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --------------------------------------------------------------------------------------------
# Delimited text
# --------------------------------------------------------------------------------------------


def _parse_header(text: str, delimiter: str) -> tuple[list[str], int]:
    """(header names, character length of the header record incl. its line break).

    Only a prefix is handed to the csv module (copying a 150 MB text into a StringIO costs most
    of a second); the whole text is used only if the header record does not end in the prefix.
    """
    for size in (1 << 16, len(text)):
        chunk = text[:size]
        stream = io.StringIO(chunk, newline="")
        reader = csv.reader(stream, delimiter=delimiter)
        header = next(reader, [])
        consumed = stream.tell() if header else len(chunk)
        if consumed < len(chunk) or size >= len(text):
            return header, consumed if header else len(text)
    return [], len(text)


def _odd_quote_line(text: str) -> int | None:
    """Physical line index of an unterminated quote, or None when quotes balance.

    Lines with an odd number of quotes open or close a multi-line field; pairing them in order
    leaves the broken one unpaired. Only those (rare) lines are visited.
    """
    if text.count('"') % 2 == 0:
        return None
    lines = text.split("\n")
    counts = np.fromiter((line.count('"') for line in lines), dtype=np.int64, count=len(lines))
    return int(np.flatnonzero(counts % 2)[-1])


@dataclass
class _Table:
    frame: pd.DataFrame
    source_row: np.ndarray
    malformed: list[tuple[int, str, str]]


def _arrow_read(
    body: pa.Buffer, labels: list[str], delimiter: str, threads: bool, quoted: bool
) -> tuple[pa.Table, list]:
    invalid: list = []

    def keep(row: pv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    table = pv.read_csv(
        pa.BufferReader(body),
        read_options=pv.ReadOptions(column_names=labels, use_threads=threads),
        parse_options=pv.ParseOptions(
            delimiter=delimiter, newlines_in_values=quoted, invalid_row_handler=keep
        ),
        convert_options=pv.ConvertOptions(
            # pandas' str dtype stores large_string: reading it so spares a cast copy per column.
            column_types=dict.fromkeys(labels, pa.large_string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    # Each column as one contiguous array: the parser yields one chunk per 1 MB block, and
    # every later kernel call on a chunked column would concatenate it again (a copy each
    # time). Combined here, column by column, where `table` is the only reference, so the old
    # chunks of a column are freed as soon as it is combined.
    for i in range(table.num_columns):
        if table.column(i).num_chunks > 1:
            table = table.set_column(i, table.field(i), table.column(i).combine_chunks())
            release_arrow_memory()
    return table, invalid


_NON_SPACE = re.compile(rb"\S")


def _read_records(
    body: str | bytes, labels: list[str], delimiter: str, first_record: int, start: int = 0
) -> _Table:
    """Parse header-less records (``body[start:]``); record numbers start at ``first_record``.

    ``body`` may be UTF-8 bytes already (a UTF-8 file): pyarrow reads them in place, with no
    re-encoding and no copy of the records after the header.
    """
    if isinstance(body, bytes) and body.count(b'"', start) % 2:
        body, start = body[start:].decode("utf-8"), 0
    if isinstance(body, str):
        body, start = body[start:], 0
        broken = _odd_quote_line(body)
        if broken is not None:
            return _split_at_broken_quote(body, labels, delimiter, first_record, broken)
        body = body.encode("utf-8")
    if not _NON_SPACE.search(body, start):
        return _Table(_empty_frame(labels), np.zeros(0, np.int64), [])
    data = pa.py_buffer(body)[start:]
    quoted = body.find(b'"', start) >= 0
    table, invalid = _arrow_read(data, labels, delimiter, threads=True, quoted=quoted)
    if invalid and any(row.number is None for row in invalid):
        # Threaded parsing cannot number rows; re-read the (rare) malformed file serially.
        table, invalid = _arrow_read(data, labels, delimiter, threads=False, quoted=quoted)
    malformed = [
        (
            first_record + row.number - 1,
            f"malformed_line: expected {row.expected_columns} fields, got {row.actual_columns}",
            row.text,
        )
        for row in invalid
    ]
    bad = np.array([row.number - 1 for row in invalid], dtype=np.int64)
    records = np.arange(table.num_rows + len(bad), dtype=np.int64)
    good = np.setdiff1d(records, bad, assume_unique=True) + first_record
    frame = table.to_pandas(self_destruct=True)
    del table
    frame = frame.astype(dict.fromkeys(frame.columns, "str"))
    release_arrow_memory()
    return _Table(frame, good, malformed)


def _split_at_broken_quote(
    body: str, labels: list[str], delimiter: str, first_record: int, broken: int
) -> _Table:
    """An unterminated quote would swallow the rest of the file: keep that one line as
    malformed and parse what comes before and after it separately."""
    lines = body.split("\n")
    before = _read_records("\n".join(lines[:broken]) + "\n", labels, delimiter, first_record)
    number = first_record + len(before.frame) + len(before.malformed)
    bad = (number, "malformed_line: unterminated quote", lines[broken].rstrip("\r"))
    after = _read_records("\n".join(lines[broken + 1 :]), labels, delimiter, number + 1)
    return _Table(
        pd.concat([before.frame, after.frame], ignore_index=True),
        np.concatenate([before.source_row, after.source_row]),
        [*before.malformed, bad, *after.malformed],
    )


def _empty_frame(labels: list[str]) -> pd.DataFrame:
    return pd.DataFrame({label: pd.Series([], dtype="str") for label in labels})


def _labels(header: list[str]) -> list[str]:
    return [f"c{i}" for i in range(len(header))]


def _read_delimited(data: bytes, source_file: str, name: str) -> RawFile:
    default = "\t" if name.lower().removesuffix(".gz").endswith(".tsv") else ","
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _is_utf8(data):
        # UTF-8 (with or without BOM): pyarrow reads the original bytes; only a prefix is decoded.
        text = _utf8_prefix(data, bom)
        delimiter = sniff_delimiter(text, default)
        try:
            header, consumed = _parse_header(text, delimiter)
            if consumed >= len(text) and len(data) - bom > _HEADER_PREFIX:  # a header over 1 MB
                text = data[bom:].decode("utf-8")
                header, consumed = _parse_header(text, delimiter)
        except csv.Error as exc:  # e.g. a header field over the csv module's 131,072-char limit
            return _unparseable_header(source_file, name, data, exc)
        encoding = "utf-8-sig" if bom else "utf-8"
        header = [h.lstrip("\ufeff") for h in header]
        labels = _labels(header)
        offset = bom + len(text[:consumed].encode("utf-8"))
        table = _read_records(data, labels, delimiter, first_record=1, start=offset)
        return _raw_file(source_file, name, encoding, delimiter, header, labels, table)
    decoded = _decode(data, source_file)
    if isinstance(decoded, FileError):
        return _failed(source_file, name, data, decoded, header_lines=1)
    text, encoding = decoded
    delimiter = sniff_delimiter(text, default)
    try:
        header, consumed = _parse_header(text, delimiter)
    except csv.Error as exc:
        return _unparseable_header(source_file, name, data, exc)
    header = [h.lstrip("\ufeff") for h in header]
    labels = _labels(header)
    table = _read_records(text[consumed:], labels, delimiter, first_record=1)
    return _raw_file(source_file, name, encoding, delimiter, header, labels, table)


def _unparseable_header(source_file: str, name: str, data: bytes, exc: Exception) -> RawFile:
    """The header record cannot be parsed: its required columns cannot be found in it."""
    error = FileError("missing_column", f"{source_file}: the header cannot be parsed ({exc})")
    return _failed(source_file, name, data, error, header_lines=1)


def _raw_file(
    source_file: str,
    name: str,
    encoding: str | None,
    delimiter: str | None,
    header: list[str],
    labels: list[str],
    table: _Table,
) -> RawFile:
    frame = table.frame.reset_index(drop=True)
    return RawFile(
        source_file=source_file,
        name=name,
        sha256="",  # set by read_bytes from the bytes as landed (before any gunzip)
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        frame=frame,
        source_row=pd.Series(table.source_row, dtype="int64"),
        malformed=_malformed_frame(sorted(table.malformed)),
        rows_read=len(frame) + len(table.malformed),
        error=None,
        columns=labels,
    )


# --------------------------------------------------------------------------------------------
# xlsx and jsonl
# --------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    """Spreadsheet cell -> text: ints without '.0', float repr, ISO datetimes/dates."""
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:19] if "T" in text else text
    return str(value)


def _read_xlsx(data: bytes, source_file: str, name: str) -> RawFile:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        return _failed(
            source_file, name, data, FileError("corrupt_archive", f"{source_file}: {exc}")
        )
    if not rows:
        return _failed(source_file, name, data, FileError("empty_file", f"{source_file}: no rows"))
    header = [_cell_text(v) or "" for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    labels, width = _labels(header), len(header)
    kept, numbers, malformed = [], [], []
    for number, row in enumerate(rows[1:], start=1):
        cells = [_cell_text(v) for v in row]
        if all(c in (None, "") for c in cells):
            continue  # Excel's trailing/blank rows are formatting, not records
        if any(c not in (None, "") for c in cells[width:]):
            detail = f"malformed_line: expected {width} fields, got {len(cells)}"
            malformed.append((number, detail, ",".join(c or "" for c in cells)))
            continue
        kept.append(cells[:width] + [None] * (width - len(cells)))
        numbers.append(number)
    frame = pd.DataFrame(kept, columns=labels, dtype="str") if kept else _empty_frame(labels)
    table = _Table(frame, np.array(numbers, dtype=np.int64), malformed)
    return _raw_file(source_file, name, None, None, header, labels, table)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


_BAD_UTF8 = "\x00invalid-utf-8\x00"
"""Marks a JSONL line that is not UTF-8 (JSON text is UTF-8); it becomes a malformed line."""


def _decode_jsonl(data: bytes, source_file: str) -> tuple[str, str] | FileError:
    """JSON Lines are UTF-8 line by line: one bad line is a malformed line, not a reason to
    read the whole file as cp1252. Only a file none of whose non-ASCII lines is UTF-8 is a legacy
    encoding, decoded whole as other text files are."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, source_file)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines, utf8_non_ascii = [], 0
    for line in data.split(b"\n"):
        try:
            text = line.decode("utf-8")
            utf8_non_ascii += not line.isascii()
        except UnicodeDecodeError:
            text = _BAD_UTF8 + line.decode("utf-8", "backslashreplace")
        lines.append(text)
    if not utf8_non_ascii:
        return _decode(data, source_file)
    return "\n".join(lines), "utf-8"


def _read_jsonl(data: bytes, source_file: str, name: str) -> RawFile:
    decoded = _decode_jsonl(data, source_file)
    if isinstance(decoded, FileError):
        return _failed(source_file, name, data, decoded)
    text, encoding = decoded
    fast = _jsonl_arrow(text)
    if fast is not None:
        header, frame = fast
        numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
        labels = _labels(header)
        frame.columns = labels
        table = _Table(frame, numbers, [])
        return _raw_file(source_file, name, encoding, None, header, labels, table)
    return _jsonl_python(text, source_file, name, data, encoding)


_FAST_JSONL_MAX_BRACKETS = 64


def _jsonl_arrow(text: str) -> tuple[list[str], pd.DataFrame] | None:
    """Whole-file Arrow parse when every line is a flat object of scalars; else None."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    if any(line.count("[") + line.count("{") > _FAST_JSONL_MAX_BRACKETS for line in lines):
        # Not flat, or hostile: Arrow's parser took 36 s on one line nested 10,000 deep. The
        # record-by-record path gives the same text and bounds the nesting (RecursionError).
        return None
    try:
        table = pj.read_json(io.BytesIO("\n".join(lines).encode("utf-8")))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(lines):
        return None
    columns = {}
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        if not (
            pa.types.is_string(column.type)
            or pa.types.is_integer(column.type)
            or pa.types.is_boolean(column.type)
        ):
            return None  # floats/nested values: let json.dumps give their exact JSON text
        columns[column_name] = column.cast(pa.string()).to_pandas().astype("str")
    return list(table.column_names), pd.DataFrame(columns)


def _jsonl_python(text: str, source_file: str, name: str, data: bytes, encoding: str) -> RawFile:
    records, numbers, malformed, header = [], [], [], {}
    number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        number += 1
        if line.startswith(_BAD_UTF8):
            line = line.removeprefix(_BAD_UTF8)
            malformed.append((number, "malformed_line: not UTF-8", line))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append((number, f"malformed_line: invalid JSON ({exc.msg})", line))
            continue
        except RecursionError:
            malformed.append((number, "malformed_line: JSON nested too deep", line[:1000]))
            continue
        if not isinstance(record, dict):
            malformed.append((number, "malformed_line: not a JSON object", line))
            continue
        header.update(dict.fromkeys(record))
        records.append(record)
        numbers.append(number)
    names = list(header)
    labels = _labels(names)
    columns = {
        label: pd.Series([_json_text(r.get(key)) for r in records], dtype="str")
        for label, key in zip(labels, names, strict=True)
    }
    frame = pd.DataFrame(columns) if records else _empty_frame(labels)
    table = _Table(frame, np.array(numbers, dtype=np.int64), malformed)
    return _raw_file(source_file, name, encoding, None, names, labels, table)


# --------------------------------------------------------------------------------------------
# Dispatch, gzip and zip
# --------------------------------------------------------------------------------------------


def _kind(name: str) -> str | None:
    lower = name.lower().removesuffix(".gz")
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    for kind in ("xlsx", "jsonl", "zip"):
        if lower.endswith("." + kind) and not (kind == "zip" and name.lower().endswith(".gz")):
            return kind
    return None


class _TooLarge(Exception):
    pass


def _gunzip(data: bytes, limits: ArchiveLimits) -> bytes:
    """Decompress every gzip member, stopping as soon as the output passes the archive limits
    (total size, and the ratio beyond ``ratio_floor_bytes``): a bomb never reaches memory."""
    budget = min(
        limits.max_total_bytes, max(int(len(data) * limits.max_ratio), limits.ratio_floor_bytes)
    )
    chunks, size, rest = [], 0, data
    while rest.strip(b"\x00"):
        stream, pending = zlib.decompressobj(16 + zlib.MAX_WBITS), rest
        while not stream.eof:
            chunk = stream.decompress(pending, budget + 1 - size)
            chunks.append(chunk)
            size += len(chunk)
            if size > budget:
                raise _TooLarge(f"expands beyond {budget} bytes")
            pending = stream.unconsumed_tail
            if not chunk and not pending:
                raise EOFError("compressed file ended before the end-of-stream marker")
        rest = stream.unused_data
    return b"".join(chunks)


def read_bytes(
    data: bytes, source_file: str, name: str, *, limits: ArchiveLimits | None = None
) -> RawFile:
    """Parse one (non-archive) file's bytes; ``name`` decides the format by its suffix."""
    if not data:
        return _failed(source_file, name, data, FileError("empty_file", f"{source_file}: 0 bytes"))
    kind = _kind(name)
    payload = data
    if name.lower().endswith(".gz"):
        try:
            payload = _gunzip(data, limits or ArchiveLimits())
        except _TooLarge as exc:
            error = FileError("unsafe_archive", f"{source_file}: unsafe archive: {exc}")
            return _failed(source_file, name, data, error)
        except (OSError, EOFError, zlib.error) as exc:
            error = FileError("corrupt_archive", f"{source_file}: bad gzip data ({exc})")
            return _failed(source_file, name, data, error)
        if not payload:
            error = FileError("empty_file", f"{source_file}: 0 bytes after gunzip")
            return _failed(source_file, name, data, error)
    readers = {"text": _read_delimited, "xlsx": _read_xlsx, "jsonl": _read_jsonl}
    if kind not in readers:
        error = FileError("unsupported_format", f"{source_file}: unsupported file type")
        return _failed(source_file, name, data, error)
    raw = readers[kind](payload, source_file, name)
    raw.sha256 = hashlib.sha256(data).hexdigest()
    return raw


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a member may not be extracted, or None."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"absolute path {info.filename!r}"
    if ".." in name.split("/"):
        return f"path traversal in {info.filename!r}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"symlink member {info.filename!r}"
    return None


def _check_archive(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> str | None:
    if len(infos) > limits.max_members:
        return f"{len(infos)} members (limit {limits.max_members})"
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        return f"{total} bytes uncompressed (limit {limits.max_total_bytes})"
    for info in infos:
        reason = _unsafe_member(info)
        if reason:
            return reason
        if info.file_size / max(info.compress_size, 1) > limits.max_ratio:
            return f"compression ratio of {info.filename!r} above {limits.max_ratio:g}"
    return None


def _read_zip(data: bytes, source_file: str, name: str, limits: ArchiveLimits) -> list[RawFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        error = FileError("corrupt_archive", f"{source_file}: not a readable zip ({exc})")
        return [_failed(source_file, name, data, error)]
    reason = _check_archive(infos, limits)
    if reason:
        error = FileError("unsafe_archive", f"{source_file}: unsafe archive: {reason}")
        return [_failed(source_file, name, data, error)]
    # Every member is a file of the day (names starting with '.' or '_' too), except macOS
    # resource forks, which are metadata of the other members.
    members = [i for i in infos if not i.is_dir() and "__MACOSX/" not in i.filename]
    out = []
    for info in members:
        member_file = f"{source_file}/{info.filename.replace(chr(92), '/')}"
        member_name = PurePosixPath(info.filename.replace("\\", "/")).name
        try:
            with archive.open(info) as handle:
                # Trust the bytes, not the header: stop reading past the declared size.
                payload = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
            error = FileError("corrupt_archive", f"{member_file}: cannot extract ({exc})")
            return [_failed(source_file, name, data, error)]
        if len(payload) > info.file_size:
            error = FileError("unsafe_archive", f"{member_file}: larger than its declared size")
            return [_failed(source_file, name, data, error)]
        if _kind(member_name) == "zip":
            error = FileError("unsupported_format", f"{member_file}: nested archives are not read")
            out.append(_failed(member_file, member_name, payload, error))
            continue
        out.append(read_bytes(payload, member_file, member_name, limits=limits))
    return out


def _refusal(path: Path, landing_root: Path) -> FileError | None:
    """Why a landing entry is not read: a link leaving the landing root, or not a regular file.

    A symbolic link whose target stays inside the landing root is read as the file it points to
    (audited under the link's own path); a link to a folder is never followed.
    """
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(Path(landing_root).resolve()):
            return FileError("unsafe_path", "symbolic link leaving the landing root")
        if target.is_dir():
            return FileError("unsupported_format", "symbolic link to a folder (not followed)")
    if not path.is_file():
        return FileError("unsupported_format", "not a regular file")
    return None


def read_file(
    path: Path, landing_root: Path, *, limits: ArchiveLimits | None = None
) -> list[RawFile]:
    """Read one landing file; a zip yields one :class:`RawFile` per member (or one failure)."""
    limits = limits or ArchiveLimits()
    path = Path(path)
    # The path as landed (links not resolved), so a link is audited under its own name.
    relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(landing_root))
    source_file = relative.as_posix()
    refusal = _refusal(path, landing_root)
    if refusal is not None:
        error = FileError(refusal.code, f"{source_file}: {refusal.message}")
        return [_failed(source_file, path.name, b"", error)]
    data = path.read_bytes()
    if _kind(path.name) == "zip" and data:
        return _read_zip(data, source_file, path.name, limits)
    return [read_bytes(data, source_file, path.name, limits=limits)]


def read_landing_day(
    day_dir: Path, landing_root: Path, *, limits: ArchiveLimits | None = None
) -> list[RawFile]:
    """Every entry of one landing day (sorted by path), names starting with '.' or '_' included:
    each gets a RawFile, unreadable ones (links, special files) a file-level error. The one
    exception is the exporter's readiness marker (`_SUCCESS`, a regular file at the top of the
    day folder), which the sensor waits for and which holds no data."""
    entries = []
    for folder, dirs, files in os.walk(day_dir):
        # os.walk does not descend into linked folders; they are entries to account for.
        links = [d for d in dirs if (Path(folder) / d).is_symlink()]
        entries.extend(Path(folder) / name for name in [*files, *links])
    marker = Path(day_dir) / READY_MARKER
    if marker.is_file() and not marker.is_symlink():
        entries.remove(marker)
    out: list[RawFile] = []
    for path in sorted(entries):
        out.extend(read_file(path, landing_root, limits=limits))
    return out
