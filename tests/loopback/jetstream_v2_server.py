"""A loopback Jetstream v2 server: a real WebSocket endpoint at
``/xrpc/network.bsky.jetstream.subscribeEvents`` (the ``websockets``
library) speaking the v2 contract of ``bluesky-social/jetstream`` docs/README.md
§5 and the ``subscribeEvents`` lexicon, as far as a live-tail client meets it:

- the ``xrpc.v1.json`` sub-protocol is selected when offered (or, as a fault,
  not selected, or another one answered);
- every event gets a seq (1, 2, … plus ``seq_offset``: two servers with
  different offsets are two instances whose seqs mean different events);
- ``cursor`` below 10^15 is a seq, replayed **inclusively**; below the
  retention ``floor`` it is refused before the upgrade with HTTP 400 and the
  XRPC envelope ``{"error": "CursorTooOld", "message": "... floor F ..."}``;
  10^15 or more is unix microseconds: the first kept event at or after that
  time, clamped to the floor with an ``#info OutdatedCursor`` first frame; a
  cursor past the tip (or none) is the live tail;
- filters ``kinds``, ``collections`` (commits only, ``prefix.*``), ``dids``;
  an unknown kind, ``collections`` with ``kinds`` that exclude commit, and
  v1's ``wantedCollections``/``wantedDids`` are refused with 400
  ``InvalidRequest``; ``maxMessageSizeBytes`` skips larger frames;
- frames are ``{"$type": "message", "payload": {"$type": "…#commit", "seq",
  "time", ...}}``; an error frame ``{"$type": "error", ...}`` ends the
  connection.

The log is given as v1-shaped events (the recorded capture, see
``jetstream_server``) and translated to v2 payloads when sent. The socket,
the serving loop and the faults both wires have (``cut``, ``duplicate``,
``truncate``) are in ``jetstream_common``; v2 adds these kinds: ``error``
(a ConsumerTooSlow frame with hostile text, then a close), ``info`` (an unknown #info), ``unknown`` (an
unknown envelope and payload type), ``binary`` (a binary frame), ``huge``
(a 3 MB frame ignoring ``maxMessageSizeBytes``), ``broken`` (a #commit of a
post without its rkey, with a seq of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tests.loopback.jetstream_common import (
    Carry,
    Fault,
    JetstreamLoopback,
    Refusal,
    collection_wanted,
)
from tests.loopback.jetstream_server import POST, REPOST, post_uri

ENDPOINT = "/xrpc/network.bsky.jetstream.subscribeEvents"
SUBPROTOCOL = "xrpc.v1.json"
NSID = "network.bsky.jetstream.subscribeEvents"
KINDS = ("commit", "identity", "account", "sync")
HOSTILE = "<script>alert(1)</script>\x1b[31m\u202eevil\r\nsecond line"


@dataclass
class Connection:
    path: str
    cursor: int | None
    params: dict[str, list[str]]
    subprotocol: str | None
    sent: int = 0


@dataclass
class Entry:
    seq: int
    event: dict[str, Any]  # v1 shape


class JetstreamV2Server(JetstreamLoopback[Entry, Connection]):
    """Serves v2 at ``ENDPOINT`` (see above); each event of the log gets its seq."""

    def __init__(
        self,
        events: list[dict[str, Any]] | None = None,
        *,
        seq_offset: int = 0,
        floor: int = 0,
        subprotocol_answer: str = "echo",
        accept_limit: int | None = None,
        too_old_always: bool = False,
    ) -> None:
        super().__init__()
        self.seq_offset = seq_offset
        self.floor = floor  # the oldest kept seq (0: everything kept)
        self.subprotocol_answer = subprotocol_answer  # "echo" | "none" | another name (hostile)
        self.accept_limit = accept_limit  # after this many subscriptions every attempt gets 503
        self.too_old_always = too_old_always  # answer every attempt CursorTooOld (gone wrong)
        self.attempts = 0  # handshakes at ENDPOINT, refused ones included
        self.requests: list[str] = []  # every request path, other endpoints included
        self.answers: list[tuple[int, bytes]] = []  # (status, body) of pre-upgrade errors
        self.skipped_too_big = 0
        self.broken: list[Entry] = []  # events sent without their rkey (fault "broken")
        self.publish(events or [])

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Append events (in time order) with the next seqs and wake subscribers."""
        for event in sorted(events, key=lambda e: e["time_us"]):
            seq = self.seq_offset + len(self.log) + 1
            self.log.append(Entry(seq, event))
        self._wake()

    def emitted_ids(self, from_seq: int = 0) -> set[str]:
        """Post/repost at-URIs in the log at or after ``from_seq``."""
        return {
            uri
            for entry in self.log
            if entry.seq >= from_seq and (uri := post_uri(entry.event)) is not None
        }

    def seq_of(self, time_us: int) -> int:
        return next(e.seq for e in self.log if e.event["time_us"] == time_us)

    # -- protocol --------------------------------------------------------------

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        if self.subprotocol_answer == "none":
            return None
        if self.subprotocol_answer == "echo":
            return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None
        # A server answering a sub-protocol the client did not offer.
        return Subprotocol(self.subprotocol_answer)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.requests.append(request.path)
        parts = urlsplit(request.path)
        if parts.path != ENDPOINT:
            return connection.respond(404, "not found\n")
        self.attempts += 1
        if self.too_old_always:
            return self._error(400, "CursorTooOld", "cursor 1 below lookback floor 99")
        if self.accept_limit is not None and len(self.connections) >= self.accept_limit:
            return connection.respond(503, "no more\n")
        refused = self._refusal(connection)
        if refused is not None:
            return refused
        query = parse_qs(parts.query)
        for legacy, new in (("wantedCollections", "collections"), ("wantedDids", "dids")):
            if legacy in query:
                return self._error(400, "InvalidRequest", f"{legacy} is v1's; use {new}")
        kinds = query.get("kinds", [])
        if any(k not in KINDS for k in kinds):
            return self._error(400, "InvalidRequest", "unknown kind")
        if kinds and "commit" not in kinds and query.get("collections"):
            return self._error(400, "InvalidRequest", "collections needs kinds=commit")
        raw = query.get("cursor", [None])[0]
        if raw is not None and not raw.isdigit():
            return self._error(400, "InvalidRequest", "cursor is not an integer")
        cursor = int(raw) if raw is not None else None
        if cursor is not None and cursor < 10**15 and cursor < self.floor:
            message = (
                f"subscribe: cursor too old: cursor {cursor} below lookback floor "
                f"{self.floor}; re-backfill from your last seq"
            )
            return self._error(400, "CursorTooOld", message)
        return None

    def _error(self, status: int, name: str, message: str) -> Response:
        body = orjson.dumps({"error": name, "message": message})
        self.answers.append((status, body))
        headers = Headers([("Content-Type", "application/json")])
        return Response(status, "Bad Request", headers, body)

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        raw = query.get("cursor", [None])[0]
        cursor = int(raw) if raw is not None else None
        conn = Connection(ws.request.path, cursor, query, ws.subprotocol)
        self.connections.append(conn)
        position, clamped = self._start(cursor)
        first: list[str] = []
        if clamped:
            start = self.log[position].seq if position < len(self.log) else self._tip_seq()
            info = {"name": "OutdatedCursor", "message": f"starting at seq {start}"}
            first.append(_message("info", info))
        await self._serve(ws, conn, position, first)

    def _frame_at(self, index: int, conn: Connection) -> str | None:
        entry = self.log[index]
        if not _wanted(entry.event, conn.params):
            return None
        frame = _frame(entry)
        limit = int(conn.params.get("maxMessageSizeBytes", ["0"])[0] or 0)
        if limit and len(frame.encode()) > limit:
            self.skipped_too_big += 1
            return None
        return frame

    async def _inject(
        self, ws: ServerConnection, conn: Connection, fault: Fault, index: int, frame: str
    ) -> Carry | None:
        entry = self.log[index]
        if fault.kind == "error":
            error = {"$type": "error", "error": "ConsumerTooSlow", "message": HOSTILE}
            await self._send(ws, conn, orjson.dumps(error).decode())
            await ws.close(1008, "ConsumerTooSlow")
            return None
        if fault.kind == "info":
            await self._send(ws, conn, _message("info", {"name": HOSTILE}))
            await self._send(ws, conn, frame)
        elif fault.kind == "unknown":
            await self._send(ws, conn, orjson.dumps({"$type": "#later"}).decode())
            future = _message("future", {"seq": entry.seq, "text": HOSTILE})
            await self._send(ws, conn, future)
            await self._send(ws, conn, frame)
        elif fault.kind == "binary":
            await ws.send(frame.encode())  # bytes: a binary frame
            self.sent += 1
        elif fault.kind == "huge":
            padding = {"seq": entry.seq, "pad": "x" * (3 * 1024 * 1024)}
            await self._send(ws, conn, _message("commit", padding))
        elif fault.kind == "broken":
            # The event itself is unusable: no rkey. Sent in place of the real one.
            self.broken.append(entry)
            payload = orjson.loads(frame)["payload"]
            payload.pop("rkey", None)
            broken = orjson.dumps({"$type": "message", "payload": payload}).decode()
            await self._send(ws, conn, broken)
            return Carry(index + 1, remember=False)
        else:
            return await super()._inject(ws, conn, fault, index, frame)
        return Carry(index + 1)

    def _tip_seq(self) -> int:
        return self.log[-1].seq if self.log else self.seq_offset

    def _start(self, cursor: int | None) -> tuple[int, bool]:
        """(index of the first event to send, whether a time cursor was clamped)."""
        kept = [i for i, e in enumerate(self.log) if e.seq >= self.floor]
        first_kept = kept[0] if kept else len(self.log)
        if cursor is None or not self.log:
            return len(self.log), False
        if cursor < 10**15:
            if cursor > self.log[-1].seq:
                return len(self.log), False
            return next(i for i, e in enumerate(self.log) if e.seq >= cursor), False
        if cursor > self.log[-1].event["time_us"]:
            return len(self.log), False
        if first_kept > 0 and cursor < self.log[first_kept].event["time_us"]:
            return first_kept, True  # older than what is kept: clamped, and said so
        for index in range(first_kept, len(self.log)):
            if self.log[index].event["time_us"] >= cursor:
                return index, False
        return len(self.log), False


def rfc3339(time_us: int) -> str:
    """Unix microseconds → the v2 wire's datetime: UTC, exactly six fractional digits."""
    moment = datetime.fromtimestamp(time_us // 1_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{time_us % 1_000_000:06d}Z"


def payload_of(entry: Entry) -> tuple[str, dict[str, Any]]:
    """A v1-shaped log event → its v2 message kind and payload."""
    event = entry.event
    kind = str(event.get("kind"))
    payload: dict[str, Any] = {"seq": entry.seq, "did": event["did"]}
    payload["time"] = rfc3339(event["time_us"])
    if kind == "commit":
        commit = event["commit"]
        for name in ("rev", "operation", "collection", "rkey", "cid", "record"):
            if name in commit:
                payload[name] = commit[name]
    else:
        payload[kind] = event.get(kind, {})
    return kind, payload


def _frame(entry: Entry) -> str:
    kind, payload = payload_of(entry)
    return _message(kind, payload)


def _message(kind: str, payload: dict[str, Any]) -> str:
    body = {"$type": f"{NSID}#{kind}", **payload}
    return orjson.dumps({"$type": "message", "payload": body}).decode()


def _wanted(event: dict[str, Any], query: dict[str, list[str]]) -> bool:
    kind = str(event.get("kind"))
    kinds = query.get("kinds", [])
    if kinds and kind not in kinds:
        return False
    dids = query.get("dids", [])
    if dids and event.get("did") not in dids:
        return False
    collections = query.get("collections", [])
    if kind != "commit" or not collections:
        return True  # collections constrain commits only
    return collection_wanted(str(event.get("commit", {}).get("collection", "")), collections)


__all__ = ["POST", "REPOST", "Fault", "JetstreamV2Server", "Refusal"]
