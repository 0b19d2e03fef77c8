"""Live fan-out: one pipeline subscription per room, many browsers.

Each post is moderated (hidden authors dropped, approval queue) and turned
into JSON once, then handed to every client without waiting, so one slow
browser never holds up the others or the pipeline. A client that falls too
far behind is disconnected with code 1013; the page then reloads from the
API, which is cheaper and more honest than silently dropping posts.

Two ways to a client:
- Under ``hubbub serve`` the WebSocket server offers a ``FrameWriter`` (the
  ASGI scope extension ``FRAMES_EXTENSION``): the hub builds each post's
  WebSocket frame once and appends it to every client's pending bytes; once
  per event-loop turn each client gets everything pending in one
  ``transport.write``. No task switch, ASGI call or frame encoding per client
  and post: with 100 clients those were most of the server's time.
- Otherwise (another ASGI server, tests) each client has a bounded queue of
  JSON strings drained by its own task through ``WebSocket.send_text``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from hubbub.post import Post, rfc3339
from hubbub.web.rooms import Room, RoomRepo, post_json

log = logging.getLogger(__name__)
CLIENT_QUEUE = 2000
# Bytes a direct-write client may leave unsent in its socket's buffer (about
# CLIENT_QUEUE posts) before it counts as too slow and is disconnected.
CLIENT_BUFFER = 2 * 1024 * 1024
FRAMES_EXTENSION = "hubbub.frames"  # ASGI scope extension: {"writer": FrameWriter}


class FrameWriter(Protocol):
    """Writes ready WebSocket frames straight to one connection (see module doc)."""

    def write(self, data: bytes) -> bool:
        """Queue ``data`` (whole frames) on the connection; False once it is closing."""
        ...

    def buffered(self) -> int:
        """Bytes written but not yet sent to the peer."""
        ...


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented, uncompressed WebSocket text frame (RFC 6455):
    what a server sends, identical for every client."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


MAX_HUBS = 1000  # rooms followed live at once (each costs a subscription)
RESUBSCRIBE_DELAY = 0.5


@dataclass(eq=False, slots=True)
class Client:
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))
    overflowed: bool = False
    writer: FrameWriter | None = None  # set: frames go straight to the socket
    pending: list[bytes] = field(default_factory=list)  # frames for the next flush

    def offer(self, message: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflow()

    def flush(self) -> None:
        """Write the pending frames in one go (direct-write clients)."""
        if not self.pending or self.writer is None:
            return
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending.clear()
        if self.overflowed:
            return
        if self.writer.write(data) and self.writer.buffered() > CLIENT_BUFFER:
            self._overflow()

    def _overflow(self) -> None:
        self.overflowed = True
        self.pending.clear()
        # Wake the sender so it closes the socket now; make room for the marker.
        with contextlib.suppress(asyncio.QueueEmpty):
            self.queue.get_nowait()
        self.queue.put_nowait(None)


def live_message(post: Post, room: Room, entered_at: float | None) -> dict[str, Any]:
    """A post as sent over the WebSocket: the API keys plus ``received_at``
    (when Hubbub received it, RFC 3339 ms) and ``entered_at`` (the same
    moment as epoch seconds, for latency measurements)."""
    data = post_json(post, room)
    at = entered_at if entered_at is not None else time.time()
    data["received_at"] = rfc3339(datetime.fromtimestamp(at, UTC), millis=True)
    data["entered_at"] = at
    return data


class RoomHub:
    def __init__(self, hubs: Hubs, room: Room) -> None:
        self.hubs = hubs
        self.room = room
        self.clients: set[Client] = set()
        self.last_own: dict[str, str] = {}  # author id → their last post here (threading)
        self.pending_version = 0  # bumped when the approval queue grows
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._flush_scheduled = False

    def start(self) -> None:
        if self._task is None:
            # Subscribe now, not in the task: a post that enters right after a
            # browser connects must not slip past before the task first runs.
            self._sub = self.hubs.pipeline.subscribe(self.room.tag)
            self._task = asyncio.create_task(self._run(), name=f"room-hub:{self.room.tag}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for client in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    def join(self, writer: FrameWriter | None = None) -> Client:
        """A new client; with ``writer`` (after the handshake) frames go straight to it."""
        client = Client(writer=writer)
        self.clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        client.pending.clear()

    def broadcast(self, post: Post, entered_at: float | None = None) -> None:
        """Send ``post`` to every client: encoded once, never waiting."""
        message = orjson.dumps(live_message(post, self.room, entered_at))
        text: str | None = None
        frame: bytes | None = None
        for client in tuple(self.clients):
            if client.overflowed:
                continue
            if client.writer is not None:
                if frame is None:
                    frame = text_frame(message)
                client.pending.append(frame)
            else:
                if text is None:
                    text = message.decode()
                client.offer(text)
        if frame is not None and not self._flush_scheduled:
            # The rest of this batch's posts are broadcast before the loop
            # gets back to callbacks: one write per client for all of them.
            self._flush_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self._flush)
            except RuntimeError:  # no running loop: write now
                self._flush()

    def _flush(self) -> None:
        self._flush_scheduled = False
        for client in tuple(self.clients):
            if client.pending:
                client.flush()

    async def _run(self) -> None:
        pipeline = self.hubs.pipeline
        while True:
            sub = self._sub if self._sub is not None else pipeline.subscribe(self.room.tag)
            self._sub = None
            try:
                async for live in sub:
                    await self._handle(live)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end the room; log and resubscribe
                log.exception("room %s: live handling failed", self.room.tag)
            finally:
                sub.close()
            if getattr(sub, "overflowed", False):
                # We missed posts: make every browser reload from the API.
                for client in tuple(self.clients):
                    client.overflowed = True
                    with contextlib.suppress(asyncio.QueueFull):
                        client.queue.put_nowait(None)
            await asyncio.sleep(RESUBSCRIBE_DELAY)

    async def _handle(self, live: Any) -> None:
        post: Post = live.post
        if post.deleted or self.room.is_hidden(post):
            return
        if self.room.approval and not _trusted(post):
            await asyncio.to_thread(self.hubs.repo.hold, self.room, post)
            self.pending_version += 1
            return
        self.broadcast(post, live.entered_at)


def _trusted(post: Post) -> bool:
    """Posts written by signed-in users skip the approval queue."""
    return post.network == "web" and post.author.id.startswith("web:user:")


class Hubs:
    """Every live room of one app (one workspace)."""

    def __init__(self, pipeline: Any, repo: RoomRepo) -> None:
        self.pipeline = pipeline
        self.repo = repo
        self._hubs: dict[str, RoomHub] = {}
        self._lock = asyncio.Lock()

    async def get(self, tag: str) -> RoomHub:
        hub = self._hubs.get(tag)
        if hub is not None:
            return hub
        async with self._lock:
            hub = self._hubs.get(tag)
            if hub is None:
                if len(self._hubs) >= MAX_HUBS:
                    raise RuntimeError("too many live rooms")
                room = await asyncio.to_thread(self.repo.get, tag)
                hub = RoomHub(self, room)
                self._hubs[tag] = hub
                hub.start()
        return hub

    async def refresh(self, tag: str) -> Room:
        """Re-read a room's settings after a host changed them."""
        room = await asyncio.to_thread(self.repo.get, tag)
        hub = await self.get(tag)
        hub.room = room
        return room

    async def start_configured(self, tags: list[str]) -> None:
        for tag in tags:
            await self.get(tag)

    async def stop(self) -> None:
        for hub in list(self._hubs.values()):
            await hub.stop()
        self._hubs.clear()
