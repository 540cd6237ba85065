"""Serialisation: delimited text, JSON lines, xlsx, gzip and zip, byte-for-byte deterministic."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile

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


def delimited(content: FileRows, style: Style) -> tuple[bytes, str]:
    buf = io.StringIO()
    writer = csv.writer(
        buf,
        delimiter=style.delimiter,
        lineterminator="\r\n" if style.encoding == "cp1252" else "\n",
    )
    writer.writerow(content.headers)
    null = style.null
    for i, row in enumerate(content.rows):
        cells = [null if v is None else v for v in row]
        if i in content.malformed:
            cells += ["EXTRA", "field"]  # a record with too many fields
        writer.writerow(cells)
    return _encode(buf.getvalue(), style.encoding)


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
