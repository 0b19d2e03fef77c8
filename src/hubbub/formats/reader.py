"""Split an input file into JSON values, each with its line number.

Detection is per value: a JSONL file may mix formats line by line; a file that
holds one JSON document (pretty-printed or not) is one value; an SSE file
(``event:``/``data:`` blocks, as Mastodon streams) gives one value per event,
shaped like Mastodon's WebSocket messages: ``{"event": name, "payload": data}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson


@dataclass(slots=True)
class Record:
    line: int  # 1-based line where the value starts
    raw: bytes  # the bytes as received
    value: Any = None  # decoded value; None when ``error`` is set
    error: str | None = None


def _decode(raw: bytes, line: int) -> Record:
    try:
        return Record(line, raw, orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        return Record(line, raw, error=f"invalid JSON: {exc}")


def looks_like_sse(head: bytes) -> bool:
    """Does the first non-blank line look like a server-sent-events field?"""
    for raw_line in head.splitlines():
        stripped = raw_line.strip()
        if stripped:
            return stripped.startswith((b"event:", b"data:", b"id:", b"retry:", b":"))
    return False


def records(data: bytes) -> Iterator[Record]:
    """Yield the JSON values in ``data`` (a whole file's bytes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        return
    if looks_like_sse(data[:4096]):
        yield from _sse_records(data)
        return
    stripped = data.strip()
    # One JSON document (pretty-printed or a single line)?
    if stripped[:1] in (b"{", b"["):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            first = len(data) - len(data.lstrip())
            yield Record(data[:first].count(b"\n") + 1, stripped, value)
            return
    yield from _jsonl_records(data)


def _jsonl_records(data: bytes) -> Iterator[Record]:
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue
        yield _decode(line, number)


def _sse_records(data: bytes) -> Iterator[Record]:
    event: str | None = None
    data_lines: list[bytes] = []
    start = 0
    lines = data.split(b"\n")
    for number, raw_line in enumerate(lines + [b""], start=1):
        line = raw_line.rstrip(b"\r")
        if not line:
            if data_lines:
                yield _sse_event(event or "message", b"\n".join(data_lines), start)
            event, data_lines, start = None, [], 0
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
        elif name == b"data":
            data_lines.append(value)


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


def iter_file_records(stream: IO[bytes]) -> Iterator[Record]:
    """Like ``records`` but streams JSONL line by line, so a large capture is
    never held in memory. SSE and single pretty-printed documents are read
    whole (they are small in practice, and need their whole text)."""
    head = stream.read(65536)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        rest = stream.read()
        if rest.strip():
            yield from records(head + rest)
        return
    first_line = head.lstrip().split(b"\n", 1)[0].strip()
    first_is_json = False
    if not looks_like_sse(head):
        try:
            orjson.loads(first_line)
            first_is_json = True
        except orjson.JSONDecodeError:
            first_is_json = False
    if not first_is_json:
        # SSE, a pretty-printed document, or a broken first line: read whole.
        yield from records(head + stream.read())
        return
    number = 0
    pending = head
    while True:
        chunk = stream.read(1 << 20)
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop() if chunk else b""
        for raw_line in lines:
            number += 1
            line = raw_line.strip()
            if line:
                yield _decode(line, number)
        if not chunk:
            return
