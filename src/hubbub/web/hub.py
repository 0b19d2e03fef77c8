"""Live fan-out: one pipeline subscription per room, many browsers.

Each post is moderated (hidden authors dropped, approval queue) and turned
into JSON once, then offered to every client's own bounded queue, so one slow
browser never holds up the others or the pipeline. A client whose queue fills
up is disconnected with code 1013; the page then reloads from the API, which
is cheaper and more honest than silently dropping posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hubbub.post import Post, rfc3339
from hubbub.web.rooms import Room, RoomRepo, post_json

log = logging.getLogger(__name__)
CLIENT_QUEUE = 2000
MAX_HUBS = 1000  # rooms followed live at once (each costs a subscription)
RESUBSCRIBE_DELAY = 0.5


@dataclass(eq=False, slots=True)
class Client:
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))
    overflowed: bool = False

    def offer(self, message: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
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

    def join(self) -> Client:
        client = Client()
        self.clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)

    def broadcast(self, post: Post, entered_at: float | None = None) -> None:
        message = orjson.dumps(live_message(post, self.room, entered_at)).decode()
        for client in tuple(self.clients):
            client.offer(message)

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
