"""Tests for landing-file readers: formats, encodings, delimiters, malformed records, archives."""

from __future__ import annotations

import gzip
import io
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest

from assets.ingest.readers import ArchiveLimits, read_bytes, read_file, read_landing_day


def frame_values(raw) -> dict[str, list]:
    return {h: raw.frame[c].tolist() for h, c in zip(raw.header, raw.columns, strict=True)}


@pytest.mark.parametrize(
    ("data", "encoding", "name"),
    [
        ("id,name\n1,Café €\n".encode(), "utf-8", "Café €"),
        (b"\xef\xbb\xbfid,name\n1,Caf\xc3\xa9\n", "utf-8-sig", "Café"),
        ("id,name\n1,Café\n".encode("utf-16"), "utf-16", "Café"),
        ("id,name\n1,北京科技有限公司\n2,上海贸易\n".encode("gbk"), "gb18030", "北京科技有限公司"),
        ("id,name\n1,Café €\n2,Müller\n".encode("cp1252"), "cp1252", "Café €"),
    ],
)
def test_encodings(data: bytes, encoding: str, name: str) -> None:
    raw = read_bytes(data, "2024-03-04/accounts.csv", "accounts.csv")
    assert raw.error is None and raw.encoding == encoding
    assert raw.header == ["id", "name"]
    assert raw.frame[raw.column_of("name")].iloc[0] == name


def test_undecodable_names_file_and_offset() -> None:
    raw = read_bytes(b"id,name\n1,ok\n2,\x81\x81\x81\xff\n", "d/a.csv", "a.csv")
    assert raw.error.code == "undecodable" and raw.frame is None
    assert "d/a.csv" in raw.error.message and "offset 15" in raw.error.message


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_sniffing(delimiter: str) -> None:
    text = delimiter.join(["id", "name", "amount"]) + "\n"
    text += delimiter.join(["1", '"a, b; c| d"', "15"]) + "\n"
    raw = read_bytes(text.encode(), "d/x.txt", "x.txt")
    assert raw.delimiter == delimiter
    assert frame_values(raw)["name"] == ["a, b; c| d"]


def test_embedded_newlines_and_malformed_record_numbers() -> None:
    data = b'id,note\n1,a\n2,"multi\nline"\n3,x,extra\n\n4,d\n5\n6,"q""\n"\n'
    raw = read_bytes(data, "d/a.csv", "a.csv")
    assert raw.rows_read == 6
    assert raw.frame[raw.columns[0]].tolist() == ["1", "2", "4", "6"]
    assert raw.frame[raw.columns[1]].tolist() == ["a", "multi\nline", "d", 'q"\n']
    assert raw.source_row.tolist() == [1, 2, 4, 6]
    assert raw.malformed["source_row"].tolist() == [3, 5]
    assert raw.malformed["raw_text"].tolist() == ["3,x,extra", "5"]


def test_unterminated_quote_is_one_malformed_record() -> None:
    raw = read_bytes(b'id,note\n1,a\n2,"broken\n3,c\n', "d/a.csv", "a.csv")
    assert raw.malformed["source_row"].tolist() == [2]
    assert raw.source_row.tolist() == [1, 3]
    assert raw.rows_read == 3


def test_empty_header_only_and_values_untouched() -> None:
    assert read_bytes(b"", "d/a.csv", "a.csv").error.code == "empty_file"
    header_only = read_bytes(b"id,name\n", "d/a.csv", "a.csv")
    assert header_only.error is None and len(header_only.frame) == 0 and header_only.rows_read == 0
    raw = read_bytes(b"id,name\n007, x \n,\n", "d/a.csv", "a.csv")
    assert frame_values(raw) == {"id": ["007", ""], "name": [" x ", ""]}
    assert all(str(t) == "str" for t in raw.frame.dtypes)


def test_duplicate_headers_get_unique_labels() -> None:
    raw = read_bytes(b"a,a\n1,2\n", "d/a.csv", "a.csv")
    assert raw.header == ["a", "a"] and raw.columns == ["c0", "c1"]


def test_gzip_and_tsv() -> None:
    data = gzip.compress(b"id\tname\n1\tA\n")
    raw = read_bytes(data, "d/Opportunity.tsv.gz", "Opportunity.tsv.gz")
    assert raw.delimiter == "\t" and frame_values(raw) == {"id": ["1"], "name": ["A"]}
    assert read_bytes(b"notgzip", "d/a.csv.gz", "a.csv.gz").error.code == "corrupt_archive"


def test_xlsx(tmp_path: Path) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "amount", "when", "day", "serial"])
    sheet.append(["001", 12, dt.datetime(2024, 1, 31, 10, 0), dt.date(2024, 2, 1), 45321.5])
    sheet.append([2, 1.5, None, None, 45321])
    path = tmp_path / "2024-03-04" / "accounts.xlsx"
    path.parent.mkdir()
    book.save(path)
    (raw,) = read_file(path, tmp_path)
    assert raw.source_file == "2024-03-04/accounts.xlsx" and raw.encoding is None
    values = frame_values(raw)
    assert values["id"] == ["001", "2"] and values["amount"] == ["12", "1.5"]
    assert values["when"][0] == "2024-01-31T10:00:00" and values["day"][0].startswith("2024-02-01")
    assert values["serial"] == ["45321.5", "45321"]
    assert raw.source_row.tolist() == [1, 2]


def test_jsonl() -> None:
    good = b'{"id": "1", "n": 2}\n{"id": "2", "n": 3, "x": true}\n'
    raw = read_bytes(good, "d/orders.jsonl", "orders.jsonl")
    assert frame_values(raw)["n"] == ["2", "3"] and raw.delimiter is None
    bad = b'{"id": "1", "amount": 1.5}\n{broken\n\n{"id": "3"}\n[1]\n'
    raw = read_bytes(bad, "d/orders.jsonl", "orders.jsonl")
    assert raw.header == ["id", "amount"] and raw.source_row.tolist() == [1, 3]
    assert raw.malformed["source_row"].tolist() == [2, 4]
    assert frame_values(raw)["amount"][0] == "1.5" and raw.rows_read == 4


def test_jsonl_fast_and_record_paths_read_a_flat_file_alike(monkeypatch) -> None:
    """A flat file with many brackets inside its strings skips Arrow's parser (a guard against
    deeply nested lines); the record-by-record path must read it exactly as Arrow would."""
    from assets.ingest import readers

    data = (
        b'{"id": "1", "note": "[a] {b}", "n": 2, "ok": true}\n'
        b'{"id": "2", "n": 3}\n{"id": "3", "note": "", "ok": false}\n'
    )
    assert readers._jsonl_arrow(data.decode()) is not None  # Arrow reads it as it stands
    fast = read_bytes(data, "d/orders.jsonl", "orders.jsonl")
    monkeypatch.setattr(readers, "_FAST_JSONL_MAX_BRACKETS", 0)  # every line takes the slow path
    slow = read_bytes(data, "d/orders.jsonl", "orders.jsonl")
    assert fast.header == slow.header and fast.source_row.tolist() == slow.source_row.tolist()
    assert frame_values(fast) == frame_values(slow)


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, payload in entries:
            archive.writestr(info, payload)
    return buffer.getvalue()


def _write(tmp_path: Path, data: bytes, name: str = "export.zip") -> Path:
    day = tmp_path / "2024-03-04"
    day.mkdir(exist_ok=True)
    (day / name).write_bytes(data)
    return day / name


def test_zip_members(tmp_path: Path) -> None:
    data = _zip(
        [("Opportunity.csv", b"Id\n1\n"), ("sub/Account.csv", b"Id\n2\n"), ("_x.csv", b"a\n")]
    )
    _write(tmp_path, data)
    (tmp_path / "2024-03-04" / ".hidden.csv").write_bytes(b"a\n")
    raws = read_landing_day(tmp_path / "2024-03-04", tmp_path)
    # Every file is accounted for, names starting with '.' or '_' included (issue 11).
    assert [r.source_file for r in raws] == [
        "2024-03-04/.hidden.csv",
        "2024-03-04/export.zip/Opportunity.csv",
        "2024-03-04/export.zip/sub/Account.csv",
        "2024-03-04/export.zip/_x.csv",
    ]
    raws = raws[1:3]
    assert raws[1].name == "Account.csv" and len(raws[0].sha256) == 64


def _symlink() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link.csv")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "limits"),
    [
        ([("../evil.csv", b"a\n1\n")], ArchiveLimits()),
        ([("/etc/evil.csv", b"a\n1\n")], ArchiveLimits()),
        ([(_symlink(), b"/etc/passwd")], ArchiveLimits()),
        ([(f"f{i}.csv", b"a\n") for i in range(5)], ArchiveLimits(max_members=3)),
        ([("big.csv", b"a\n" + b"0" * 100_000)], ArchiveLimits()),
        ([("big.csv", b"a\n" + b"1\n" * 100)], ArchiveLimits(max_total_bytes=50)),
    ],
)
def test_unsafe_archives(tmp_path: Path, entries, limits: ArchiveLimits) -> None:
    (raw,) = read_file(_write(tmp_path, _zip(entries)), tmp_path, limits=limits)
    assert raw.error.code == "unsafe_archive" and raw.frame is None
    assert "2024-03-04/export.zip" in raw.error.message


def test_corrupt_archive(tmp_path: Path) -> None:
    (raw,) = read_file(_write(tmp_path, b"PK\x03\x04garbage"), tmp_path)
    assert raw.error.code == "corrupt_archive"
    truncated = _zip([("a.csv", b"a\n1\n" * 1000)])[:-30]
    (raw,) = read_file(_write(tmp_path, truncated), tmp_path)
    assert raw.error.code == "corrupt_archive"


def test_a_large_csv_arrives_as_one_contiguous_array_per_column() -> None:
    """The parser yields a chunk per 1 MB block; the reader combines them once, so the kernels
    that read a column later get it zero-copy instead of concatenating it on every call."""
    import pyarrow as pa

    rows = "".join(f"OPP-{i:07d},ACC-{i % 97:04d},{i * 1.5}\n" for i in range(120_000))
    raw = read_bytes(("opportunity_id,account_id,amount\n" + rows).encode(), "d/o.csv", "o.csv")
    assert raw.error is None and len(raw.frame) == 120_000
    for label in raw.frame.columns:
        assert isinstance(pa.array(raw.frame[label]), pa.Array), label
    assert raw.frame.iloc[-1].tolist() == ["OPP-0119999", "ACC-0010", "179998.5"]
