"""What a file is, decided from its first bytes: gzip is read through, UTF-16
and UTF-32 are decoded, archives and databases are refused in one message;
text that is not UTF-8 and a document cut short are named with their line
and column once, not with one error per line."""

from __future__ import annotations

import bz2
import gzip
import io
import sqlite3
import zipfile
import zlib
from pathlib import Path

import pytest

from hubbub.formats.reader import Record, iter_file_records, records

PAYLOADS = Path(__file__).resolve().parents[3] / "shared" / "data" / "payloads"
needs_payloads = pytest.mark.skipif(
    not PAYLOADS.is_dir(), reason="shared payloads (../shared/data/payloads) are absent"
)

LINES = b'{"a": 1}\n{"b": "caf\xc3\xa9"}\n{"c": [3]}\n'
VALUES = [{"a": 1}, {"b": "café"}, {"c": [3]}]


def _values(data: bytes) -> list[object]:
    found = list(records(data))
    assert [r.error for r in found] == [None] * len(found)
    return [r.value for r in found]


def _errors(data: bytes) -> list[Record]:
    return [r for r in records(data) if r.error is not None]


def test_gzip_is_read_through_in_small_reads() -> None:
    packed = gzip.compress(LINES)

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size if size and size > 0 else 3, 3))

    found = list(iter_file_records(Trickle(packed)))
    assert [r.value for r in found] == VALUES
    assert [r.line for r in found] == [1, 2, 3]


@needs_payloads
def test_a_gzipped_twarc2_file_reads_like_the_plain_one() -> None:
    plain = (PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl").read_bytes()
    assert _values(gzip.compress(plain)) == _values(plain)


def test_a_cut_gzip_file_is_one_error_after_what_could_be_read() -> None:
    packed = gzip.compress(LINES * 2000)
    found = list(records(packed[: len(packed) // 2]))
    assert found[-1].error is not None and "gzip data is cut short" in found[-1].error
    assert [r for r in found if r.error is not None] == [found[-1]]
    assert len(found) > 1  # what was decompressed before the cut was read


def test_a_cut_gzip_file_keeps_every_whole_line_and_names_the_cut_line() -> None:
    """The second review: `gzip -c f | head -c 8000` imported nothing (gzip's
    read(n) lost what it had gathered when a later read hit the cut), while the
    same data uncompressed and cut gave every whole line."""
    lines = b"".join(b'{"n": %d, "text": "caf\xc3\xa9 %s"}\n' % (i, b"x" * 40) for i in range(3000))
    packed = gzip.compress(lines)
    cut = packed[:8000]
    plain = zlib.decompressobj(31).decompress(cut)  # what can be saved: whole lines first
    whole = plain.count(b"\n")
    found = list(records(cut))
    assert [r.value["n"] for r in found[:-1]] == list(range(whole))
    assert found[-1].line == whole + 1  # the line the cut went through
    assert found[-1].error == "the gzip data is cut short here: the lines before it were read"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_are_decoded(encoding: str) -> None:
    data = LINES.decode("utf-8").encode(encoding)
    assert _values(data) == VALUES


def test_a_pretty_utf16_document_with_a_bom_is_one_value() -> None:
    text = '{\n  "text": "zażółć gęślą jaźń \U0001f600",\n  "n": 2\n}\n'
    (record,) = list(records(text.encode("utf-16")))
    assert record.value == {"text": "zażółć gęślą jaźń \U0001f600", "n": 2}


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("posts.jsonl", LINES)
    return out.getvalue()


def _sqlite(tmp_path: Path) -> bytes:
    path = tmp_path / "some.db"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
        db.executemany("insert into t values (?)", [("row\n" * 50,)] * 200)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda tmp: _zip(), "a zip archive"),
        (_sqlite, "an SQLite database"),
        (lambda tmp: bz2.compress(LINES * 100), "bzip2-compressed"),
        (lambda tmp: gzip.compress(_zip()), "a zip archive"),
    ],
    ids=["zip", "sqlite", "bzip2", "zip inside gzip"],
)
def test_archives_and_databases_are_refused_in_one_message(
    make: object, said: str, tmp_path: Path
) -> None:
    data = make(tmp_path)  # type: ignore[operator]
    (record,) = list(records(data))
    assert record.error is not None and said in record.error
    assert record.line == 1


def test_latin1_is_named_once_with_its_line_and_column() -> None:
    data = b'{"a": 1}\n{"a": 2}\n{"b": "caf\xe9 au lait"}\n{"a": 3}\n'
    found = list(records(data))
    assert [r.value for r in found if r.error is None] == [{"a": 1}, {"a": 2}, {"a": 3}]
    (bad,) = [r for r in found if r.error is not None]
    assert bad.line == 3
    assert bad.error is not None
    assert "not UTF-8 text at line 3, column 11 (byte 0xE9)" in bad.error


def test_a_latin1_document_is_one_error_at_the_right_place() -> None:
    data = '{\n  "a": 1,\n  "text": "zaż\u00f3łć"\n}\n'.encode("cp1250")
    (bad,) = list(records(data))
    assert bad.error is not None
    # Line 3: '  "text": "za' is 13 characters; 'ż' (0xBF in cp1250) is the 14th.
    assert "not UTF-8 text at line 3, column 14" in bad.error


def test_a_column_counts_characters_not_bytes() -> None:
    data = '{"t": "ąę"} x\n'.encode()
    (bad,) = _errors(data)
    assert bad.error is not None and "line 1, column 13" in bad.error


@needs_payloads
def test_a_truncated_document_ends_early_in_one_error() -> None:
    """The reviewer's case: head -c 500 of the docs' Status entity."""
    cut = (PAYLOADS / "mastodon" / "status_entity_example.json").read_bytes()[:500]
    (record,) = list(records(cut))
    assert record.error == "the JSON document ends early at line 17, column 19 (cut short?)"


def test_a_document_broken_in_the_middle_is_one_error() -> None:
    text = b'[\n  {"id": 1},\n  {"id": 2,, "x": 1},\n  {"id": 3}\n]\n'
    (record,) = list(records(text))
    assert record.error is not None
    assert record.error.startswith("invalid JSON at line 3, column")


def test_a_jsonl_file_with_a_broken_first_line_keeps_its_other_lines() -> None:
    text = b'{"id": 1, \n{"id": 2}\n{"id": 3}\n{"id": 4}\n'
    found = list(records(text))
    assert [r.value for r in found if r.error is None] == [{"id": 2}, {"id": 3}, {"id": 4}]
    assert [r.line for r in found if r.error is not None] == [1]
