"""A loopback Jetstream v1 server: a real WebSocket endpoint at ``/subscribe``
(the ``websockets`` library), speaking the v1 contract the connector relies on:

- ``wantedCollections`` (repeatable, ``prefix.*`` wildcards) filters commit
  events; identity and account events are always delivered;
- ``cursor`` (unix microseconds) replays from the first event with
  ``time_us >= cursor``; a cursor older than the log starts at its oldest
  event (v1 clamps silently); a cursor in the future, or none, is the live tail;
- one JSON object per text frame.

The log it serves is the recorded capture in ``../shared/data/payloads/
bluesky_jetstream`` plus posts generated from its post events
(``generated_posts``). Faults are injected on demand (``Fault``): a cut in the
middle of a frame, a stall, a truncated JSON frame, duplicates, out-of-order
delivery, a clean close, and handshake refusals (429 with ``Retry-After``, 5xx).

The oracle for "nothing lost" is ``emitted_ids()``: every post this server put
in its log that the subscriber asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"


def load_recorded(folder: Path) -> list[dict[str, Any]]:
    """The recorded Jetstream v1 events (capture + golden), in file order."""
    events: list[dict[str, Any]] = []
    for name in ("jetstream_v1_capture_2026-07-04.jsonl", "jetstream_v1_golden_10events.jsonl"):
        for line in (folder / name).read_bytes().splitlines():
            if line.strip():
                events.append(orjson.loads(line))
    return events


def generated_posts(
    templates: list[dict[str, Any]], count: int, *, tag: str, start_us: int, step_us: int = 1000
) -> list[dict[str, Any]]:
    """``count`` post-create events made from the recorded post events: each
    gets a fresh rkey/rev, a time ``step_us`` after the previous one, and the
    hashtag ``#tag`` (with its facet) appended to the recorded text."""
    posts = [e for e in templates if e.get("commit", {}).get("collection") == POST]
    posts = [e for e in posts if e["commit"].get("operation") == "create"]
    if not posts:
        raise ValueError("no recorded post events to generate from")
    out: list[dict[str, Any]] = []
    for n in range(count):
        event = copy.deepcopy(posts[n % len(posts)])
        commit = event["commit"]
        commit["rkey"] = f"3gen{n:09d}"
        commit["rev"] = f"3rev{n:09d}"
        record = commit["record"]
        text = str(record.get("text", ""))[:200]
        prefix = f"{text} " if text else ""
        start = len(prefix.encode())
        record["text"] = f"{prefix}#{tag} n{n}"
        facet = {
            "index": {"byteStart": start, "byteEnd": start + 1 + len(tag.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
        }
        record["facets"] = [facet]
        record.pop("embed", None)
        event["time_us"] = start_us + n * step_us
        out.append(event)
    return out


def post_uri(event: dict[str, Any]) -> str | None:
    """The at-URI of a post/repost create or update, else None."""
    commit = event.get("commit")
    if event.get("kind") != "commit" or not isinstance(commit, dict):
        return None
    if commit.get("collection") not in (POST, REPOST) or commit.get("operation") == "delete":
        return None
    return f"at://{event['did']}/{commit['collection']}/{commit['rkey']}"


@dataclass
class Fault:
    """One injected fault, fired once when the server has sent ``at`` events in all.

    kind:
      ``cut``       half of the next frame is written, then the TCP connection is dropped
      ``stall``     the server stops sending (the connection stays open) until the client leaves
      ``truncate``  the next event goes out as truncated JSON (the full one stays in the log)
      ``duplicate`` the last ``span`` events are sent again
      ``reorder``   the next two events are sent in swapped order
      ``close``     a clean close (1011) before the next event
    """

    kind: str
    at: int
    span: int = 3
    fired: bool = False


@dataclass
class Refusal:
    """A handshake answered with an HTTP error instead of the upgrade."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Connection:
    path: str
    cursor: int | None
    collections: list[str]
    sent: int = 0


class JetstreamServer:
    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        self.log: list[dict[str, Any]] = sorted(events or [], key=lambda e: e["time_us"])
        self.faults: list[Fault] = []
        self.refusals: list[Refusal] = []  # consumed one per connection attempt
        self.connections: list[Connection] = []  # accepted subscriptions, in order
        self.attempts = 0  # /subscribe handshakes seen, refused ones included
        self.probes: list[str] = []  # requests for other paths (a v2 client's probe), answered 404
        self.sent = 0  # frames sent in all (faulty ones included)
        self._appended = asyncio.Event()
        self._server: Server | None = None
        self.url = ""

    # -- control ---------------------------------------------------------------

    async def start(self) -> str:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> JetstreamServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Append events to the live log (in time order) and wake subscribers."""
        self.log.extend(events)
        self.log.sort(key=lambda e: e["time_us"])
        self._appended.set()
        self._appended = asyncio.Event()

    def emitted_ids(self, collections: tuple[str, ...] = (POST, REPOST)) -> set[str]:
        """Post/repost at-URIs in the log whose collection is wanted."""
        return {
            uri
            for e in self.log
            if (uri := post_uri(e)) is not None and e["commit"]["collection"] in collections
        }

    # -- protocol --------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path != "/subscribe":
            # What a v1 server says to a v2 client's first try: no such endpoint.
            self.probes.append(request.path)
            return connection.respond(404, "not found\n")
        self.attempts += 1
        if self.refusals:
            refusal = self.refusals.pop(0)
            response = connection.respond(refusal.status, "refused by the loopback server\n")
            for name, value in refusal.headers.items():
                response.headers[name] = value
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        raw_cursor = query.get("cursor", [None])[0]
        cursor = int(raw_cursor) if raw_cursor and raw_cursor.isdigit() else None
        conn = Connection(ws.request.path, cursor, query.get("wantedCollections", []))
        self.connections.append(conn)
        position = self._start(cursor)
        recent: list[bytes] = []
        try:
            while True:
                while position < len(self.log):
                    event = self.log[position]
                    position += 1
                    if not _wanted(event, conn.collections):
                        continue
                    frame = orjson.dumps(event)
                    fault = self._due()
                    if fault is None:
                        await self._send(ws, conn, frame)
                    elif fault.kind == "cut":
                        _write_partial_frame(ws, frame)
                        return
                    elif fault.kind == "stall":
                        await ws.wait_closed()
                        return
                    elif fault.kind == "truncate":
                        await self._send(ws, conn, frame[: len(frame) // 2])
                    elif fault.kind == "duplicate":
                        await self._send(ws, conn, frame)
                        for again in recent[-fault.span :]:
                            await self._send(ws, conn, again)
                    elif fault.kind == "reorder":
                        later = self._next_wanted(position, conn.collections)
                        if later is not None:
                            position = later + 1
                            await self._send(ws, conn, orjson.dumps(self.log[later]))
                        await self._send(ws, conn, frame)
                    elif fault.kind == "close":
                        await ws.close(1011, "loopback fault")
                        return
                    recent = [*recent[-9:], frame]
                if await self._wait_for_more(ws):
                    return
        except Exception:  # noqa: BLE001, S110 - the client went away: nothing to serve
            return

    async def _wait_for_more(self, ws: ServerConnection) -> bool:
        """Wait for new events; True when the client left instead."""
        appended = asyncio.ensure_future(self._appended.wait())
        closed = asyncio.ensure_future(ws.wait_closed())
        done, pending = await asyncio.wait({appended, closed}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return closed in done

    def _start(self, cursor: int | None) -> int:
        if cursor is None or not self.log or cursor > self.log[-1]["time_us"]:
            return len(self.log)  # live tail
        for index, event in enumerate(self.log):
            if event["time_us"] >= cursor:
                return index
        return len(self.log)

    def _next_wanted(self, position: int, collections: list[str]) -> int | None:
        for index in range(position, len(self.log)):
            if _wanted(self.log[index], collections):
                return index
        return None

    def _due(self) -> Fault | None:
        for fault in self.faults:
            if not fault.fired and self.sent >= fault.at:
                fault.fired = True
                return fault
        return None

    async def _send(self, ws: ServerConnection, conn: Connection, frame: bytes) -> None:
        await ws.send(frame.decode())
        conn.sent += 1
        self.sent += 1


def _wanted(event: dict[str, Any], collections: list[str]) -> bool:
    if event.get("kind") != "commit":
        return True  # v1 delivers identity and account events whatever the filter
    if not collections:
        return True
    collection = str(event.get("commit", {}).get("collection", ""))
    for wanted in collections:
        if wanted.endswith(".*"):
            if collection.startswith(wanted[:-1]):
                return True
        elif collection == wanted:
            return True
    return False


def _write_partial_frame(ws: ServerConnection, frame: bytes) -> None:
    """Half of a text frame on the wire, then the TCP connection dropped:
    what a client sees when a server or proxy dies mid-message."""
    length = len(frame)
    if length < 126:
        header = bytes([0x81, length])
    elif length < 65536:
        header = bytes([0x81, 126]) + struct.pack("!H", length)
    else:
        header = bytes([0x81, 127]) + struct.pack("!Q", length)
    transport = ws.transport
    transport.write(header + frame[: length // 2])
    transport.abort()
