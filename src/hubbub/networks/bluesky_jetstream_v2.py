"""Jetstream v2 on the wire: the ``subscribeEvents`` URL and one frame decoded.

Jetstream v2 (``bluesky-social/jetstream``, docs/README.md §5.2 and the
lexicon ``network.bsky.jetstream.subscribeEvents``) serves its live stream at
``/xrpc/network.bsky.jetstream.subscribeEvents`` with the ``xrpc.v1.json``
WebSocket sub-protocol (atproto proposal 0015). What this module relies on:

- every frame is one JSON object: ``{"$type": "message", "payload": {...}}``
  whose payload ``$type`` is ``…subscribeEvents#commit``, ``#identity``,
  ``#account``, ``#sync`` or ``#info``; or ``{"$type": "error", "error":
  NAME, "message": TEXT}``, after which the server closes the connection;
- every event payload carries ``seq`` (the server's monotonic sequence, the
  cursor) and ``time`` (an RFC 3339 datetime, microseconds); ``#info`` has
  neither and does not move the cursor;
- ``cursor`` is inclusive (the event with that seq comes again); values below
  10^15 are seqs, larger ones unix microseconds (a time, which the server
  translates and clamps to what it keeps, saying so with ``#info
  OutdatedCursor``); a seq below what the server keeps is refused before the
  upgrade with HTTP 400 and the XRPC error ``CursorTooOld``;
- filters are ``kinds``, ``collections`` (commits only), ``dids``; v1's
  ``wantedCollections`` is refused there with a 400.

A v2 commit is translated to the v1 event shape (``did``, ``time_us``,
``kind``, ``commit`` {``rev``, ``operation``, ``collection``, ``rkey``,
``cid``, ``record``}, plus ``cursor``: the seq), which is what a v2 server
itself sends on its legacy ``/subscribe`` endpoint. So the rest of Hubbub
(``hubbub.formats.bluesky``, the stored raw payload a better parser may map
again) sees one shape whichever protocol answered.

Frames are untrusted: anything that is not as described is skipped or
refused here, never trusted further; names and messages from the server are
cut and escaped before they reach a log or the health line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from hubbub.networks.bluesky_jetstream import MAX_MESSAGE_BYTES, BadEvent, json_object

ENDPOINT = "/xrpc/network.bsky.jetstream.subscribeEvents"
SUBPROTOCOL = "xrpc.v1.json"
# Cursor values at or above this are unix microseconds, below it sequence numbers.
SEQ_CURSOR_LIMIT = 10**15
# Upgrade answers that mean "this server has no v2 endpoint": the v1 server's
# router answers 404 for a path it does not know; 405/410 are what a proxy
# in front of it may say instead, and 501 is XRPC's "method not implemented".
NO_SUCH_ENDPOINT = frozenset({404, 405, 410, 501})
CURSOR_TOO_OLD = "CursorTooOld"
OUTDATED_CURSOR = "OutdatedCursor"

_PREFIX = "network.bsky.jetstream.subscribeEvents#"
_MARKERS = ("identity", "account", "sync")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_MAX_TIME_TEXT = 40  # an RFC 3339 datetime with microseconds is 27 characters
_MAX_FIELD = 1024  # did, rev, collection, rkey, cid: short identifiers
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FLOOR = re.compile(r"floor\D{0,20}(\d{1,19})")


@dataclass(frozen=True, slots=True)
class Event:
    """A v2 event with a sequence number, in v1 shape (``event["cursor"] == seq``)."""

    seq: int
    time_us: int
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Info:
    """An ``#info`` advisory (no seq): ``OutdatedCursor`` after a clamped time cursor."""

    name: str
    message: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A frame passed over: an unknown type (forward compatibility) or an
    event whose fields are not what the lexicon says (``seq``, when it had a
    usable one, is for the log)."""

    seq: int | None
    why: str


Frame = Event | Info | Skipped


class ServerError(Exception):
    """An error frame: the server ends the connection after it (e.g. ``ConsumerTooSlow``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name, self.message = name, message


def printable(text: object, limit: int = 200) -> str:
    """Server text made safe to log or show: one line, control and bidi
    characters escaped, at most ``limit`` characters."""
    value = str(text)
    cut = value[:limit]
    cut = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", cut)
    return cut + ("…" if len(value) > limit else "")


def instance_of(base: str) -> str:
    """The instance a URL names, the same whether it was given with
    ``/subscribe``, with the v2 path or bare: what a seq cursor belongs to."""
    parts = urlsplit(base)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not a WebSocket URL: {base!r}")
    path = parts.path.rstrip("/")
    for suffix in (ENDPOINT, "/subscribe"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


def events_url(base: str, collections: tuple[str, ...], cursor: int | None) -> str:
    """``base`` → its ``subscribeEvents`` URL: commits only, these collections,
    frames no larger than Hubbub accepts, ``cursor`` (a seq or unix µs) if any.

    ``kinds=commit``: the identity, account and sync markers are what a
    consumer folding whole repositories needs; Hubbub keeps posts by their
    URI and acts on record deletions only (as with v1, where it skips the
    markers), so asking for them would only cost bandwidth.

    ``maxMessageSizeBytes``: the server skips an event whose frame is larger
    than the 2 MB this client accepts. Without it such an event would be sent
    again on every reconnection and refused every time, and the stream would
    never move past it; a post or repost record is a few kilobytes.

    No ``zstdDictionary``: compression needs a dictionary fetched from the
    server, re-fetched when the server rotates it, and a zstd decoder with a
    decompression-bomb cap; uncompressed JSON is the lexicon's default and a
    post-filtered stream is small. Nor is permessage-deflate offered (v2
    never negotiates it)."""
    parts = urlsplit(instance_of(base))
    query: list[tuple[str, str]] = [("kinds", "commit")]
    query += [("collections", c) for c in collections]
    query.append(("maxMessageSizeBytes", str(MAX_MESSAGE_BYTES)))
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path + ENDPOINT, urlencode(query), ""))


def time_cursor(time_us: int) -> int:
    """A time cursor the server reads as a time: below 10^15 it would be a seq
    (the server's boundary; a time that early is before 2001 and long gone,
    so the smallest time means the same: "as far back as you keep")."""
    return max(time_us, SEQ_CURSOR_LIMIT)


def floor_seq(message: str | None) -> int | None:
    """The server's oldest kept seq, as a ``CursorTooOld`` message states it
    ("cursor N below lookback floor F"), when it does."""
    if not message:
        return None
    found = _FLOOR.search(message[:1000])
    return int(found.group(1)) if found else None


def decode_frame(message: str | bytes) -> Frame:
    """One WebSocket message → an ``Event``, ``Info`` or ``Skipped``;
    ``ServerError`` for an error frame; ``BadEvent`` for a message that is not
    a JSON object (a damaged frame: the caller reconnects and replays)."""
    if isinstance(message, bytes):
        # Frames are text; binary ones would be zstd, never negotiated here.
        raise BadEvent("binary frame (compression was not negotiated)")
    value = json_object(message, "frame")
    frame_type = value.get("$type")
    if frame_type == "error":
        raise ServerError(
            printable(value.get("error", "?"), 80), printable(value.get("message", ""))
        )
    if frame_type != "message":
        return Skipped(None, f"unknown frame type {printable(frame_type, 80)}")
    payload = value.get("payload")
    if not isinstance(payload, dict):
        return Skipped(None, "message frame without a payload object")
    kind = payload.get("$type")
    # An unknown type is passed over without moving the cursor: what it
    # means, and what its seq counts, is not known here.
    if not isinstance(kind, str) or not kind.startswith(_PREFIX):
        return Skipped(None, f"unknown message type {printable(kind, 80)}")
    kind = kind[len(_PREFIX) :]
    if kind == "info":
        return Info(printable(payload.get("name", ""), 80), printable(payload.get("message", "")))
    if kind != "commit" and kind not in _MARKERS:
        return Skipped(None, f"unknown message type {printable(kind, 80)}")
    seq = _seq(payload)
    if seq is None:
        return Skipped(None, f"#{kind} without a seq")
    did, time_us = payload.get("did"), _time_us(payload.get("time"))
    if not _short(did) or not str(did).startswith("did:"):
        return Skipped(seq, f"#{kind} without a did")
    if time_us is None:
        return Skipped(seq, f"#{kind} without a readable time")
    event: dict[str, Any] = {"did": did, "time_us": time_us, "kind": kind, "cursor": seq}
    if kind == "commit":
        commit = _commit(payload)
        if isinstance(commit, str):
            return Skipped(seq, commit)
        event["commit"] = commit
    else:
        inner = payload.get(kind)
        if not isinstance(inner, dict):
            return Skipped(seq, f"#{kind} without its {kind} object")
        event[kind] = inner
    return Event(seq, time_us, event)


def _seq(payload: dict[str, Any]) -> int | None:
    seq = payload.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq < SEQ_CURSOR_LIMIT:
        return seq
    return None


def _short(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_FIELD


def _time_us(value: Any) -> int | None:
    """An RFC 3339 datetime with a zone → unix microseconds, exactly."""
    if not isinstance(value, str) or len(value) > _MAX_TIME_TEXT:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a time without a zone is not a point in time
    time_us = (moment - _EPOCH) // _ONE_US
    return time_us if time_us > 0 else None


def _commit(payload: dict[str, Any]) -> dict[str, Any] | str:
    """The v1 ``commit`` object of a ``#commit`` payload, or why it is unusable."""
    fields = ("rev", "operation", "collection", "rkey")
    for name in fields:
        if not _short(payload.get(name)):
            return f"#commit without a {name}"
    commit: dict[str, Any] = {name: payload[name] for name in fields}
    if payload["operation"] != "delete":
        record = payload.get("record")
        if not isinstance(record, dict):
            return "#commit without its record"
        commit["record"] = record
        cid = payload.get("cid")
        if cid is not None:
            if not _short(cid):
                return "#commit with an unreadable cid"
            commit["cid"] = cid
    return commit
