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
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

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


def _decode(raw: bytes, line: int) -> Record:
    try:
        return Record(line, raw, orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        return Record(line, raw, error=f"invalid JSON: {exc}")


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
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
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        yield from _jsonl_records(iter(kept), limit)
        return
    yield Record(start, text, value)


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
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return Record(line, payload, error=f"invalid JSON in SSE event {event!r}")
    raw = orjson.dumps({"event": event, "payload": text})
    return Record(line, raw, {"event": event, "payload": body})


def records(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """Yield the JSON values in ``data`` (a whole file's bytes already in memory)."""
    return iter_file_records(io.BytesIO(data), max_bytes)
