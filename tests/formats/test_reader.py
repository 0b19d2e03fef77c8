"""The file reader streams: it decides a file's shape from its first lines,
holds one value at a time, and refuses a value over the limit with its line."""

from __future__ import annotations

import io

import orjson

from hubbub.formats.reader import iter_file_records, records


class _Tracked(io.BytesIO):
    """A stream that remembers how far it has been read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


def _page(n: int, posts: int = 400) -> bytes:
    """A twarc2-like page: one JSON line far longer than 64 KB."""
    data = [{"id": str(n * 1000 + i), "text": "x" * 300} for i in range(posts)]
    return orjson.dumps({"data": data, "meta": {"result_count": posts}})


def test_long_first_lines_stream_without_reading_the_whole_file() -> None:
    pages = [_page(n) for n in range(40)]
    assert len(pages[0]) > 65536
    stream = _Tracked(b"\n".join(pages) + b"\n")
    it = iter_file_records(stream)
    first = next(it)
    assert first.line == 1 and first.value["data"][0]["id"] == "0"
    # The first page was yielded long before the end of the file was read.
    assert stream.furthest < len(stream.getvalue()) // 2
    rest = list(it)
    assert [r.line for r in rest] == list(range(2, 41))
    assert [r.value["data"][0]["id"] for r in rest] == [str(n * 1000) for n in range(1, 40)]
    assert all(r.raw == pages[r.line - 1] for r in rest)


def test_line_over_the_limit_is_refused_with_its_number_and_the_rest_kept() -> None:
    big = orjson.dumps({"text": "y" * 5000})
    data = b'{"a": 1}\n' + big + b'\n{"b": 2}\n' + big + b"\n" + b'{"c": 3}'
    got = list(iter_file_records(io.BytesIO(data), max_bytes=1000))
    assert [(r.line, r.error is None) for r in got] == [
        (1, True),
        (2, False),
        (3, True),
        (4, False),
        (5, True),
    ]
    assert "larger than the 1000 bytes limit" in (got[1].error or "")
    assert [r.value for r in got if r.error is None] == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_last_line_over_the_limit_without_newline() -> None:
    data = b'{"a": 1}\n' + b'{"t": "' + b"z" * 3000 + b'"}'
    got = list(iter_file_records(io.BytesIO(data), max_bytes=1000))
    assert [(r.line, r.error is None) for r in got] == [(1, True), (2, False)]


def test_pretty_printed_document_is_one_value() -> None:
    value = {"data": [{"id": "1", "text": "hi"}], "meta": {"result_count": 1}}
    data = b"\xef\xbb\xbf\n" + orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n\n"
    (record,) = list(records(data))
    assert record.value == value and record.line == 2 and record.error is None


def test_pretty_printed_document_over_the_limit_is_refused() -> None:
    value = {"data": [{"id": str(i), "text": "w" * 50} for i in range(100)]}
    data = b"\n" + orjson.dumps(value, option=orjson.OPT_INDENT_2)
    (record,) = list(iter_file_records(io.BytesIO(data), max_bytes=2000))
    assert record.line == 2
    assert record.error is not None and "JSON document larger than" in record.error


def test_jsonl_with_a_broken_first_line_keeps_the_other_lines() -> None:
    data = b'{"a": 1, "broken\n{"b": 2}\n{"c": 3}\n'
    got = list(records(data))
    assert got[0].line == 1 and got[0].error is not None
    assert [(r.line, r.value) for r in got[1:]] == [(2, {"b": 2}), (3, {"c": 3})]


def test_crlf_lines() -> None:
    got = list(records(b'{"a": 1}\r\n\r\n{"b": 2}\r\n'))
    assert [(r.line, r.value) for r in got] == [(1, {"a": 1}), (3, {"b": 2})]


def test_sse_events_stream_and_an_oversized_event_is_refused() -> None:
    big = b'{"t": "' + b"q" * 3000 + b'"}'
    data = (
        b": heartbeat\n\n"
        b'event: update\ndata: {"id": "1"}\n\n'
        b"event: update\ndata: " + big + b"\n\n"
        b"event: delete\ndata: 42\n"
    )
    got = list(iter_file_records(io.BytesIO(data), max_bytes=1000))
    assert [(r.line, r.error is None) for r in got] == [(3, True), (6, False), (9, True)]
    assert got[0].value == {"event": "update", "payload": {"id": "1"}}
    assert got[2].value == {"event": "delete", "payload": "42"}


def test_blank_file_has_no_records() -> None:
    assert list(records(b"\n \n\r\n")) == []
    assert list(records(b"")) == []
