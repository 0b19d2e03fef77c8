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
The socket, the serving loop and the faults v2 has too are in ``jetstream_common``.

The oracle for "nothing lost" is ``emitted_ids()``: every post this server put
in its log that the subscriber asked for.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from tests.loopback.jetstream_common import (
    Carry,
    Fault,
    JetstreamLoopback,
    Refusal,
    collection_wanted,
)

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
class Connection:
    path: str
    cursor: int | None
    collections: list[str]
    sent: int = 0


class JetstreamServer(JetstreamLoopback[dict[str, Any], Connection]):
    """Serves v1 at ``/subscribe``. Faults (``Fault``) of the kinds both
    servers know (``cut``, ``truncate``, ``duplicate``) and v1's own:

    ``stall``     the server stops sending (the connection stays open) until the client leaves
    ``reorder``   the next two events are sent in swapped order
    ``close``     a clean close (1011) before the next event
    """

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.log = sorted(events or [], key=lambda e: e["time_us"])
        self.attempts = 0  # /subscribe handshakes seen, refused ones included
        self.probes: list[str] = []  # requests for other paths (a v2 client's probe), answered 404

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Append events to the live log (in time order) and wake subscribers."""
        self.log.extend(events)
        self.log.sort(key=lambda e: e["time_us"])
        self._wake()

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
        return self._refusal(connection)

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        raw_cursor = query.get("cursor", [None])[0]
        cursor = int(raw_cursor) if raw_cursor and raw_cursor.isdigit() else None
        conn = Connection(ws.request.path, cursor, query.get("wantedCollections", []))
        self.connections.append(conn)
        await self._serve(ws, conn, self._start(cursor), first=[])

    def _frame_at(self, index: int, conn: Connection) -> str | None:
        event = self.log[index]
        return orjson.dumps(event).decode() if _wanted(event, conn.collections) else None

    async def _inject(
        self, ws: ServerConnection, conn: Connection, fault: Fault, index: int, frame: str
    ) -> Carry | None:
        position = index + 1
        if fault.kind == "stall":
            await ws.wait_closed()
            return None
        if fault.kind == "reorder":
            later = self._next_wanted(position, conn.collections)
            if later is not None:
                position = later + 1
                await self._send(ws, conn, orjson.dumps(self.log[later]).decode())
            await self._send(ws, conn, frame)
            return Carry(position)
        if fault.kind == "close":
            await ws.close(1011, "loopback fault")
            return None
        return await super()._inject(ws, conn, fault, index, frame)

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


def _wanted(event: dict[str, Any], collections: list[str]) -> bool:
    if event.get("kind") != "commit":
        return True  # v1 delivers identity and account events whatever the filter
    if not collections:
        return True
    return collection_wanted(str(event.get("commit", {}).get("collection", "")), collections)


__all__ = [
    "POST",
    "REPOST",
    "Fault",
    "JetstreamServer",
    "Refusal",
    "generated_posts",
    "load_recorded",
    "post_uri",
]
