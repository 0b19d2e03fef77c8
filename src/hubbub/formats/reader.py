"""Split an input file into JSON values, each with its line number.

Detection is per value: a JSONL file may mix formats line by line; a file that
holds one JSON document (pretty-printed or not) is one value; an SSE file
(``event:``/``data:`` blocks, as Mastodon streams) gives one value per event,
shaped like Mastodon's WebSocket messages: ``{"event": name, "payload": data}``.

The file is read as a stream of lines and never whole: memory stays flat in
the file's size. The shape of the file is decided from its first lines only.
No single value may be larger than ``max_bytes`` (64 MB by default): a longer
line, event or document is refused with its line number and skipped, and the
rest of the file is still read.

What the file is comes from its first bytes (``formats.sniff``): gzip is read
through, UTF-16/32 text is decoded, and a zip archive, an SQLite database or
another compression is refused in one message instead of one error per line.
Text that is not UTF-8 is named with its line and column; a lone UTF-16
surrogate escape (``"\\ud800"``, which strict JSON parsers refuse) becomes
U+FFFD instead of costing its record (a NUL, which PostgreSQL refuses, is
replaced by the store for every source: ``hubbub.store.storable``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from hubbub.formats.sniff import NotReadable, opened

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_SSE_FIELDS = (b"event:", b"data:", b"id:", b"retry:", b":")


class ByteStream(Protocol):
    """All the reader needs of its input (a binary file, or a wrapper that
    counts the bytes read for a progress bar)."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(slots=True)
class Record:
    line: int  # 1-based line where the value starts
    raw: bytes  # the bytes as received
    value: Any = None  # decoded value; None when ``error`` is set
    error: str | None = None


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return f"{limit} bytes"


def _too_long(line: int, what: str, limit: int) -> Record:
    return Record(line, b"", error=f"{what} larger than the {_size(limit)} limit; skipped")


# Lone surrogates (no character: UTF-8 cannot hold them) become U+FFFD in the
# decoded value; the raw bytes are kept as received.
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotUtf8(ValueError):
    """Bytes that are not UTF-8, at byte ``offset`` of the value."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"not UTF-8 at byte {offset}")
        self.offset = offset


def loads(raw: bytes) -> Any:
    """``orjson.loads``, except that lone surrogate escapes become U+FFFD and
    bytes that are not UTF-8 raise ``NotUtf8`` (orjson names both as
    "surrogates not allowed" at column 1). Only a failed value pays for the
    second look."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise NotUtf8(bad.start) from None
        try:
            # The standard library's parser accepts lone surrogate escapes;
            # NaN/Infinity it would also accept are refused as orjson does.
            value = json.loads(text, parse_constant=_refuse_constant)
            return _without_surrogates(value)
        except (ValueError, RecursionError):
            raise exc from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def not_utf8_message(raw: bytes, offset: int, line: int) -> str:
    """Where in ``raw`` (which starts at ``line``) the text stops being UTF-8:
    line and column (in characters) of the first bad byte."""
    before = raw[:offset]
    line += before.count(b"\n")
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return (
        f"not UTF-8 text at line {line}, column {column} (byte 0x{raw[offset]:02X}):"
        " convert the file to UTF-8 first (e.g. iconv -f latin1 -t utf-8)"
    )


def json_error(exc: orjson.JSONDecodeError, line: int) -> str:
    """orjson's error with its position in the file (the value starts at ``line``)."""
    return f"invalid JSON at line {line + exc.lineno - 1}, column {exc.colno}: {exc.msg}"


def _decode(raw: bytes, line: int) -> Record:
    try:
        return Record(line, raw, loads(raw))
    except orjson.JSONDecodeError as exc:
        return Record(line, raw, error=json_error(exc, line))
    except NotUtf8 as exc:
        return Record(line, raw, error=not_utf8_message(raw, exc.offset, line))


def _parses(line: bytes) -> bool:
    try:
        loads(line)
    except (orjson.JSONDecodeError, NotUtf8):
        return False
    return True


def looks_like_sse(line: bytes) -> bool:
    """Is this (first non-blank) line a server-sent-events field?"""
    return line.strip().startswith(_SSE_FIELDS)


# A line is (number, bytes); bytes is None when the line was longer than the
# limit and was skipped without being kept.
_Line = tuple[int, bytes | None]


def _lines(stream: ByteStream, limit: int) -> Iterator[_Line]:
    """The lines of ``stream`` without their ``\\n``, read in 1 MB chunks.

    A line longer than ``limit`` is dropped as it streams past (its bytes
    are never joined) and given as ``None``.
    """
    number = 0
    parts: list[bytes] = []  # pieces of the current line, joined at its end
    size = 0
    too_long = False
    while chunk := stream.read(_CHUNK):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            number += 1
            if too_long or size + (end - start) > limit:
                yield number, None
            elif parts:
                parts.append(chunk[start:end])
                yield number, b"".join(parts)
            else:
                yield number, chunk[start:end]
            parts, size, too_long = [], 0, False
            start = end + 1
        if start < len(chunk) and not too_long:
            size += len(chunk) - start
            if size > limit:
                too_long, parts = True, []
            else:
                parts.append(chunk[start:])
    if parts or too_long:
        yield number + 1, None if too_long else b"".join(parts)


def _without_bom(lines: Iterator[_Line]) -> Iterator[_Line]:
    first = next(lines, None)
    if first is None:
        return
    number, line = first
    if line is not None and line.startswith(_BOM):
        line = line[3:]
    yield number, line
    yield from lines


class _Peekable:
    """Lines with look-ahead, so the file's shape can be decided from its
    first lines and those lines still be read afterwards."""

    def __init__(self, lines: Iterator[_Line]) -> None:
        self._lines = lines
        self._ahead: list[_Line] = []

    def __iter__(self) -> Iterator[_Line]:
        while self._ahead:
            yield self._ahead.pop(0)
        yield from self._lines

    def next_non_blank(self, skip: int = 0) -> _Line | None:
        """The ``skip``-th non-blank line from here on (0 = the next), left unread."""
        index = 0
        seen = 0
        while True:
            while index >= len(self._ahead):
                following = next(self._lines, None)
                if following is None:
                    return None
                self._ahead.append(following)
            number, line = self._ahead[index]
            index += 1
            if line is None or line.strip():
                if seen == skip:
                    return number, line
                seen += 1


def iter_file_records(stream: ByteStream, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """Yield the JSON values in ``stream``, holding at most one value (and
    one 1 MB chunk) in memory at a time."""
    damage: list[str] = []
    try:
        stream = opened(stream, damage)
    except NotReadable as exc:
        yield Record(1, b"", error=str(exc))
        return
    # One record held back: when the gzip data ends early, the last record is
    # the line it cut in two, which is that cut, not a JSON or UTF-8 error.
    held: Record | None = None
    for record in _file_records(stream, max_bytes):
        if held is not None:
            yield held
        held = record
    if not damage:  # the whole stream was read
        if held is not None:
            yield held
        return
    if held is not None and held.error is None:
        yield held
        line = held.line + 1
    else:
        line = held.line if held is not None else 1
    yield Record(line, b"", error=damage[0])


def _file_records(stream: ByteStream, max_bytes: int) -> Iterator[Record]:
    lines = _Peekable(_without_bom(_lines(stream, max_bytes)))
    first = lines.next_non_blank()
    if first is None:
        return
    _number, line = first
    if line is not None and looks_like_sse(line):
        yield from _sse_records(iter(lines), max_bytes)
    elif line is not None and _is_document_start(line, lines):
        yield from _document(iter(lines), max_bytes)
    else:
        yield from _jsonl_records(iter(lines), max_bytes)


def _is_document_start(first: bytes, lines: _Peekable) -> bool:
    """Does the file hold one JSON document spread over several lines?

    Yes when its first line opens an object or array but is not a value by
    itself, and the next line is not a JSONL value either (a JSONL file whose
    first line is broken is still JSONL: its other lines must be kept).
    """
    stripped = first.strip()
    if stripped[:1] not in (b"{", b"[") or _parses(stripped):
        return False
    if stripped in (b"{", b"["):
        return True
    second = lines.next_non_blank(skip=1)
    if second is None:
        return True
    following = second[1]
    return following is not None and not (
        following.strip()[:1] in (b"{", b"[") and _parses(following.strip())
    )


def _jsonl_records(lines: Iterator[_Line], limit: int) -> Iterator[Record]:
    for number, raw_line in lines:
        if raw_line is None:
            yield _too_long(number, "line", limit)
            continue
        line = raw_line.strip()
        if line:
            yield _decode(line, number)


def _document(lines: Iterator[_Line], limit: int) -> Iterator[Record]:
    """One document over several lines; if it does not parse as a whole,
    each line is tried on its own (so a mostly-JSONL file loses nothing)."""
    kept: list[_Line] = []
    size = 0
    start = 0
    for number, line in lines:
        if line is not None and not start and line.strip():
            start = number
        if line is None or size + len(line) + 1 > limit:
            for _ in lines:
                pass  # the rest belongs to the refused document
            yield _too_long(start or number, "JSON document", limit)
            return
        kept.append((number, line))
        size += len(line) + 1
    text = b"\n".join(line for _, line in kept if line is not None).strip()
    try:
        value = loads(text)
    except (orjson.JSONDecodeError, NotUtf8) as exc:
        yield from _broken_document(kept, text, exc, start, limit)
        return
    yield Record(start, text, value)


def _broken_document(
    kept: list[_Line],
    text: bytes,
    exc: orjson.JSONDecodeError | NotUtf8,
    start: int,
    limit: int,
) -> Iterator[Record]:
    """A document that did not parse: one error at its position, unless its
    lines are mostly JSON values of their own (a JSONL file whose first line
    is broken), which are read one by one so that none is lost. A document
    cut short (a truncated download) is said to end early."""
    if isinstance(exc, NotUtf8):
        message = not_utf8_message(text, exc.offset, start)
    elif exc.pos >= len(text) - 1 and exc.msg.startswith("unexpected end"):
        where = f"line {start + exc.lineno - 1}, column {exc.colno}"
        yield Record(start, b"", error=f"the JSON document ends early at {where} (cut short?)")
        return
    else:
        message = json_error(exc, start)
    records = list(_jsonl_records(iter(kept), limit))
    good = sum(record.error is None for record in records)
    # A pretty-printed document can have a line that parses alone (its last
    # one-line element); only a file that is mostly such lines is JSONL.
    if good and good >= len(records) - good:
        yield from records
        return
    if isinstance(exc, NotUtf8):
        alike = sum(1 for r in records if r.error is not None and r.error.startswith("not UTF-8"))
        if alike > 1:
            message += f" ({alike} lines are not UTF-8)"
    yield Record(start, b"", error=message)


def _sse_records(lines: Iterator[_Line], limit: int) -> Iterator[Record]:
    event: str | None = None
    data_lines: list[bytes] = []
    size = 0
    start = 0
    refused = False
    for number, raw_line in _with_end(lines):
        if raw_line is None:
            # A field line over the limit: the event it belongs to is refused.
            refused, data_lines, start = True, [], start or number
            continue
        line = raw_line.rstrip(b"\r")
        if not line:
            if refused:
                yield _too_long(start, "SSE event", limit)
            elif data_lines:
                yield _sse_event(event or "message", b"\n".join(data_lines), start)
            event, data_lines, size, start, refused = None, [], 0, 0, False
            continue
        if line.startswith(b":"):
            continue  # comment / heartbeat
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if not start:
            start = number
        if name == b"event":
            event = value.decode("utf-8", "replace")
        elif name == b"data" and not refused:
            size += len(value) + 1
            if size > limit:
                refused, data_lines = True, []
            else:
                data_lines.append(value)


def _with_end(lines: Iterator[_Line]) -> Iterator[_Line]:
    """The lines, then one blank line so the last SSE event is closed."""
    number = 0
    for number, line in lines:
        yield number, line
    yield number + 1, b""


def _sse_event(event: str, payload: bytes, line: int) -> Record:
    text = payload.decode("utf-8", "replace")
    body: Any = text
    if payload[:1] in (b"{", b"["):
        try:
            body = loads(payload)
        except (orjson.JSONDecodeError, NotUtf8):
            return Record(line, payload, error=f"invalid JSON in SSE event {event!r}")
    raw = orjson.dumps({"event": event, "payload": text})
    return Record(line, raw, {"event": event, "payload": body})


def records(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """Yield the JSON values in ``data`` (a whole file's bytes already in memory)."""
    return iter_file_records(io.BytesIO(data), max_bytes)
