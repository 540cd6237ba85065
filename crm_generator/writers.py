"""Serialisation: delimited text, JSON lines, xlsx, gzip and zip, byte-for-byte deterministic."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np

from crm_generator.dirt import FileRows
from crm_generator.styles import Style

FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _encode(text: str, encoding: str) -> tuple[bytes, str]:
    """Encode, falling back when the text cannot be represented (cp1252 has no Chinese)."""
    fallbacks = {"gbk": "gb18030", "cp1252": "utf-8"}
    try:
        return text.encode(encoding), encoding
    except UnicodeEncodeError:
        alt = fallbacks.get(encoding, "utf-8")
        return text.encode(alt), alt


def _delimited_text(
    headers: list[str] | None, rows: Iterable[list], style: Style, malformed: set[int] = frozenset()
) -> str:
    buf = io.StringIO()
    writer = csv.writer(
        buf,
        delimiter=style.delimiter,
        lineterminator="\r\n" if style.encoding == "cp1252" else "\n",
    )
    if headers is not None:
        writer.writerow(headers)
    null = style.null
    for i, row in enumerate(rows):
        cells = [null if v is None else v for v in row]
        if i in malformed:
            cells += ["EXTRA", "field"]  # a record with too many fields
        writer.writerow(cells)
    return buf.getvalue()


def delimited(content: FileRows, style: Style) -> tuple[bytes, str]:
    return _encode(
        _delimited_text(content.headers, content.rows, style, content.malformed), style.encoding
    )


def streams(style: Style) -> bool:
    """Whether `write_streamed` writes this style's files byte for byte as `serialise` does
    (UTF-8 has no whole-file fallback and no BOM to repeat per chunk)."""
    return style.container in ("csv", "csv.gz", "tsv", "txt") and style.encoding == "utf-8"


def write_streamed(
    path: Path, headers: list[str], chunks: Iterable[list[np.ndarray]], style: Style
) -> str:
    """Write a delimited file of clean rows chunk by chunk (each chunk: one array per column),
    so a file of millions of rows never exists as Python rows or as one string. The bytes are
    those `serialise` writes for the same rows; returns the encoding."""
    if not streams(style):
        raise ValueError(f"a {style.container} file in {style.encoding} cannot be streamed")
    # zlib.compress(wbits=31) is what gzip.compress(mtime=0) writes; its stream object, fed
    # piece by piece, produces the same bytes.
    packer = zlib.compressobj(6, zlib.DEFLATED, 31) if style.container == "csv.gz" else None
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        # The header, then one text per chunk, each encoded and written before the next exists.
        texts = chain(
            [_delimited_text(headers, [], style)],
            (_delimited_text(None, zip(*cols, strict=True), style) for cols in chunks),
        )
        for text in texts:
            data = text.encode("utf-8")
            out.write(packer.compress(data) if packer else data)
        if packer:
            out.write(packer.flush())
    return "utf-8"


def jsonl(content: FileRows) -> tuple[bytes, str]:
    lines = [
        json.dumps(dict(zip(content.headers, row, strict=True)), ensure_ascii=False)
        for row in content.rows
    ]
    return ("\n".join(lines) + "\n").encode("utf-8"), "utf-8"


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member timestamps and sorted names (openpyxl stamps the clock)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    members = [(info.filename, src.read(info)) for info in src.infolist()]
    return build_zip(members)


def build_zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def xlsx(content: FileRows) -> tuple[bytes, str]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("export")
    ws.append(content.headers)
    for row in content.rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    data = normalise_zip(buf.getvalue())
    # docProps/core.xml carries the wall clock: pin it so the bytes are reproducible.
    src = zipfile.ZipFile(io.BytesIO(data))
    members = []
    for info in src.infolist():
        body = src.read(info)
        if info.filename == "docProps/core.xml":
            body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", body)
        members.append((info.filename, body))
    return build_zip(members), "xlsx"


def serialise(content: FileRows, style: Style) -> tuple[bytes, str]:
    """File bytes and the encoding actually used."""
    if style.container == "jsonl":
        return jsonl(content)
    if style.container == "xlsx":
        return xlsx(content)
    data, enc = delimited(content, style)
    if style.container == "csv.gz":
        return gzip.compress(data, compresslevel=6, mtime=0), enc
    return data, enc
