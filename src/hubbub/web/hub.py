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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from hubbub.author_labels import AuthorLabels
from hubbub.chat.moderation import is_spam
from hubbub.pipeline.bus import LivePost, Subscription, live_tags, post_tags
from hubbub.post import Post, rfc3339
from hubbub.web.roles import has_role
from hubbub.web.room_reposts import Key, LiveOriginals, repost_key, shown_text
from hubbub.web.rooms import Room, RoomAuthorNames, RoomRepo, RoomsFull, post_json, replay_tags

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


RESUBSCRIBE_DELAY = 0.5
RETRY_AFTER = 30  # seconds a refused room or reader is told to wait (Retry-After)
_ROLE_TTL = 30.0  # seconds a user's role is trusted from memory
RELOAD_EVERY = 30.0  # seconds between re-reads of the rooms (opened by another process)
# Seconds between checks that each open socket of a room that is not public
# may still read it (its session may have ended in another process).
READER_CHECK_EVERY = 5.0
ENDED = 1008  # close code for a reader whose access ended (policy violation)
# The most posts a room takes at once from those already waiting in its
# subscription. The originals and authors they need are looked up in one
# trip to a worker thread: a trip per repost (waiting for a thread and the
# GIL, ~35 ms under load) held up every post behind it in the room.
LOOKUP_BATCH = 500
# Lookups of one repost's original before the live stream leaves it out
# (each overtaken by a removal or approval, or failed).
LOOKUP_TRIES = 3


@dataclass(eq=False, slots=True)
class Client:
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))
    overflowed: bool = False
    writer: FrameWriter | None = None  # set: frames go straight to the socket
    pending: list[bytes] = field(default_factory=list)  # frames for the next flush
    # The session token the socket's cookie carried (None: anonymous): checked
    # again while the socket stays open (Hubs.check_readers).
    token: str | None = None
    close_code: int = 1013  # what the socket is closed with when it ends

    def end(self, code: int) -> None:
        """Stop sending to this client and close its socket with ``code``."""
        if not self.overflowed:
            self.close_code = code
            self._overflow()

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


def live_message(
    post: Post,
    room: Room,
    entered_at: float | None,
    labels: AuthorLabels | RoomAuthorNames | None = None,
    originals: Mapping[Key, Post] | None = None,
) -> dict[str, Any]:
    """A post as sent over the WebSocket: the API keys plus ``received_at``
    (when Hubbub received it, RFC 3339 ms) and ``entered_at`` (the same
    moment as epoch seconds, for latency measurements)."""
    data = post_json(post, room, labels, originals)
    data["spam"] = is_spam(shown_text(post, originals))  # the projector leaves likely spam out
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
        self.last_read = time.monotonic()  # idle rooms are evicted (unless kept live)
        # Handles of authors whose posts carry none, looked up once each.
        self.names = RoomAuthorNames(hubs.repo.scope if hubs is not None else None)
        # Originals of reposts with nothing of their own to show, looked up once each.
        self.originals = LiveOriginals(hubs.repo.scope if hubs is not None else None)

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

    def join(self, writer: FrameWriter | None = None, token: str | None = None) -> Client:
        """A new client; with ``writer`` (after the handshake) frames go straight
        to it; ``token`` is its session's, re-checked while it reads."""
        client = Client(writer=writer, token=token)
        self.clients.add(client)
        if self.hubs is not None:  # None: a hub tested on its own
            self.hubs.readers += 1
        self.last_read = time.monotonic()
        return client

    def leave(self, client: Client) -> None:
        if client in self.clients:
            self.clients.discard(client)
            if self.hubs is not None:
                self.hubs.readers -= 1
        client.pending.clear()
        self.last_read = time.monotonic()

    def broadcast(
        self,
        post: Post,
        entered_at: float | None = None,
        originals: Mapping[Key, Post] | None = None,
    ) -> None:
        """Send ``post`` to every client: encoded once, never waiting.
        ``originals``: its original, when it is a repost shown by it (else
        the one this room keeps, if any)."""
        if originals is None:
            originals = self.originals.of(post)
        message = live_message(post, self.room, entered_at, self.names, originals)
        self._fan_out(orjson.dumps(message))

    def _store_hides(self, originals: list[Post]) -> set[Key]:
        """Which ``originals`` the store hides from this room (in a worker thread)."""
        repo = self.hubs.repo
        return repo.hidden_originals(self.room, originals, repo.removed(self.room.tag))

    def hides_original(self, post: Post, originals: Mapping[Key, Post]) -> bool:
        """Whether ``post`` reposts what this room hides: an original the
        store hides here (as last learned) or by a person muted or blocked now."""
        if self.originals.hidden(post):
            return True
        return any(o.deleted or self.room.is_hidden(o) for o in originals.values())

    def announce(self, event: dict[str, object]) -> None:
        """Send a room event (``{"event": "pins" | "removed", ...}``) to every
        client, in line with the posts around it."""
        self._fan_out(orjson.dumps(event))

    def _fan_out(self, message: bytes) -> None:
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
                    await self._handle_batch([live, *await _waiting(sub, LOOKUP_BATCH - 1)])
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

    async def _handle_batch(self, batch: list[LivePost]) -> None:
        """Handle ``batch`` in order, after one lookup for all of it."""
        posts = [p for live in batch if not (p := live.post).deleted and not self.room.is_hidden(p)]
        generation = self.originals.generation
        asked = {k for p in posts if self.originals.missing(p) and (k := repost_key(p))}
        needed = asked or any(self.names.missing(p) for p in posts)
        if needed and not await asyncio.to_thread(self._look_up, posts):
            asked = set()  # not settled (failed or overtaken): each repost asks again
        for live in batch:
            await self._handle(live, asked, generation)

    def _look_up(self, posts: list[Post]) -> bool:
        """In a worker thread: the originals of ``posts``' reposts not kept yet
        (and whether the store hides them), then the authors known only by id
        among ``posts`` and those originals. Returns whether the originals'
        answer stands (``LiveOriginals.learn``; False if it failed)."""
        try:
            settled = self.originals.learn(posts, self._store_hides)
        except Exception:  # noqa: BLE001 - each repost asks again on its own
            log.warning("room %s: cannot look up an original", self.room.tag, exc_info=True)
            settled = False
        originals = [o for p in posts for o in self.originals.of(p).values()]
        try:
            self.names.learn([*posts, *originals])
        except Exception:  # noqa: BLE001 - a name is not worth the post: shown by id
            log.warning("room %s: cannot look up a handle", self.room.tag, exc_info=True)
        return settled

    async def _settle(self, post: Post) -> bool:
        """Look up ``post``'s original on its own until the answer stands (a
        removal or an approval can overtake a lookup; the store can fail), at
        most ``LOOKUP_TRIES`` times. False: its standing is unknown."""
        for _ in range(LOOKUP_TRIES):
            try:
                if await asyncio.to_thread(self.originals.learn, [post], self._store_hides):
                    return True
            except Exception:  # noqa: BLE001 - asked again, then the repost is left out
                log.warning("room %s: cannot look up an original", self.room.tag, exc_info=True)
        return False

    async def _handle(
        self, live: LivePost, asked: Collection[Key] = (), generation: int | None = None
    ) -> None:
        """``asked``: the originals ``_handle_batch`` already looked up under
        ``generation`` (not asked again unless ``forget`` ran since: one not
        stored stays missing)."""
        post: Post = live.post
        if post.deleted or self.room.is_hidden(post):
            return
        # A post waits in every room it names while any of them holds posts
        # for approval: a held post is public nowhere until approved.
        # live_tags: a repost also names its original's rooms (it was routed here by them).
        if self.hubs.needs_approval(post, live_tags(live)) and not await self.hubs.trusted(post):
            if self.room.approval:
                await asyncio.to_thread(self.hubs.repo.hold, self.room, post)
                self.pending_version += 1
            return
        # A repost whose original the batch's lookup did not settle (a removal
        # or an approval made the room forget since): asked on its own.
        fresh = generation == self.originals.generation
        settled = not self.originals.missing(post) or (fresh and repost_key(post) in asked)
        if not settled and not await self._settle(post):
            # Not known to be shown: a repost of a removed post would bring
            # its words back. The next page load shows it if it may be shown.
            log.warning("room %s: repost %s left out of the live stream", self.room.tag, post.id)
            return
        originals = self.originals.of(post)
        if self.hides_original(post, originals):
            return  # a repost of what the room hides would bring it back
        named = [post, *originals.values()]
        if any(self.names.missing(p) for p in named):  # known only by id: once per author
            try:
                await asyncio.to_thread(self.names.learn, named)
            except Exception:  # noqa: BLE001 - a name is not worth the post: shown by id
                log.warning("room %s: cannot look up a handle", self.room.tag, exc_info=True)
        self.broadcast(post, live.entered_at, originals)


async def _waiting(sub: object, limit: int) -> list[LivePost]:
    """Up to ``limit`` posts already queued in ``sub``: none of them waits
    for another (a queued post is returned without suspending)."""
    taken: list[LivePost] = []
    if not isinstance(sub, Subscription):
        return taken  # another feed (a test's stand-in): one post at a time
    while len(taken) < limit and sub.qsize() > 0:
        try:
            taken.append(await anext(sub))
        except StopAsyncIteration:  # closed: the caller's loop ends after this batch
            break
    return taken


class Hubs:
    """Every room of one workspace of the app, and the live ones among them
    (``hubbub.web.workspaces`` keeps one ``Hubs`` per workspace).

    ``rooms`` holds each room that exists: those a host opened (rows) and
    those the configuration or a source names ("fed" rooms, public unless a
    host made them private). A tag that is not there is no room: nothing is
    created for it. Fed rooms and rooms with an approval queue are kept live
    (live from the start, never evicted: a queue must hold posts while nobody
    watches); other rooms go live when read and are evicted once nobody has
    read them for ``idle_seconds``. At most ``max_rooms`` other rooms are
    live and ``max_readers`` WebSocket readers connected; past either, the
    newcomer gets ``RoomsFull`` and nothing live is disturbed.

    Access is checked at the handshake and again while a socket stays open:
    every ``reader_check`` seconds, and at once after a room changes or a
    session ends in this process (``sessions_changed``), each reader of a room
    that is not public must still hold a live session (``live_tokens``: the
    tokens among those given whose sessions live), else it is closed (1008).
    """

    def __init__(
        self,
        pipeline: Any,
        repo: RoomRepo,
        *,
        max_rooms: int = 200,
        max_readers: int = 5000,
        idle_seconds: float = 600.0,
        live_tokens: Callable[[set[str]], set[str]] | None = None,
        reader_check: float = READER_CHECK_EVERY,
    ) -> None:
        self.pipeline = pipeline
        self.live_tokens = live_tokens
        self.reader_check = max(0.1, reader_check)
        self._recheck = asyncio.Event()
        self.repo = repo
        self.max_rooms = max(1, max_rooms)
        self.max_readers = max(1, max_readers)
        self.idle_seconds = max(0.0, idle_seconds)
        self.rooms: dict[str, Room] = {}
        self.fed: set[str] = set()
        self.readers = 0
        self._hubs: dict[str, RoomHub] = {}
        self._lock = asyncio.Lock()
        self._roles: dict[int, tuple[float, bool]] = {}  # user id → (when, is host)
        self._refreshed: dict[str, float] = {}  # tag → when this process last re-read it
        self._tasks: list[asyncio.Task[None]] = []

    # -- which rooms exist ---------------------------------------------------

    async def load(self, fed: Iterable[str] = (), replay_files: Iterable[str] = ()) -> None:
        """Read the rooms hosts opened, add the fed ones, start those that
        stay live; the hashtags of replay files are found in the background."""
        for room in await asyncio.to_thread(self.repo.all):
            self.rooms[room.tag] = room
        for tag in fed:
            self._add_fed(tag)
        for tag in list(self.rooms):
            if self.stays_live(tag):
                await self.get(tag)
        for path in replay_files:
            self._tasks.append(asyncio.create_task(self._scan(path), name=f"room-scan:{path}"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="room-sweeper"))
        self._tasks.append(asyncio.create_task(self._watch_readers(), name="room-readers"))

    async def _scan(self, path: str) -> None:
        try:
            tags = await asyncio.to_thread(replay_tags, path, self.max_rooms)
        except Exception:  # noqa: BLE001 - the replay source reports its own file errors
            log.exception("replay %s: cannot read its hashtags", path)
            return
        for tag in tags:
            self._add_fed(tag)
            await self.get(tag)

    def _add_fed(self, tag: str) -> None:
        self.fed.add(tag)
        self.rooms.setdefault(tag, Room(None, tag))

    def room(self, tag: str) -> Room | None:
        """The room ``tag`` (a folded key), or None when there is no such room."""
        return self.rooms.get(tag)

    def stays_live(self, tag: str) -> bool:
        """Fed rooms and rooms with an approval queue: live from the start, never evicted."""
        room = self.rooms.get(tag)
        return tag in self.fed or (room is not None and room.approval)

    # -- live rooms ------------------------------------------------------------

    async def get(self, tag: str) -> RoomHub:
        """The live hub of an existing room (see ``room``), starting it if
        needed; RoomsFull when the limit on live rooms is reached."""
        hub = self._hubs.get(tag)
        if hub is None:
            async with self._lock:
                hub = self._hubs.get(tag)
                if hub is None:
                    room = self.rooms.get(tag)
                    if room is None:
                        raise KeyError(tag)
                    if not self.stays_live(tag) and self._evictable_live() >= self.max_rooms:
                        await self._evict_idle()
                        if self._evictable_live() >= self.max_rooms:
                            raise RoomsFull(
                                f"too many live rooms (limit {self.max_rooms}); "
                                f"try again in {RETRY_AFTER} s"
                            )
                    hub = RoomHub(self, room)
                    self._hubs[tag] = hub
                    hub.start()
        hub.last_read = time.monotonic()
        return hub

    def live(self, tag: str) -> RoomHub | None:
        return self._hubs.get(tag)

    def live_tags(self) -> frozenset[str]:
        """The rooms live right now (kept live, or read lately)."""
        return frozenset(self._hubs)

    def check_reader(self) -> None:
        """RoomsFull when one more WebSocket reader would pass the limit."""
        if self.readers >= self.max_readers:
            raise RoomsFull(
                f"too many readers (limit {self.max_readers}); try again in {RETRY_AFTER} s"
            )

    def _evictable_live(self) -> int:
        return sum(1 for tag in self._hubs if not self.stays_live(tag))

    async def _evict_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for tag, hub in list(self._hubs.items()):
            if not self.stays_live(tag) and not hub.clients and hub.last_read <= cutoff:
                del self._hubs[tag]
                await hub.stop()

    async def _sweep(self) -> None:
        interval = min(RELOAD_EVERY, max(0.5, self.idle_seconds / 4))
        reloaded = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._lock:
                    await self._evict_idle()
                if time.monotonic() - reloaded >= RELOAD_EVERY:
                    reloaded = time.monotonic()
                    await self._reload()
            except Exception:  # noqa: BLE001 - the sweeper must outlive a bad turn
                log.exception("evicting idle rooms failed")

    def sessions_changed(self) -> None:
        """A session ended (logout, revoke, password change): check open sockets now."""
        self._recheck.set()

    async def _watch_readers(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.reader_check):
                    await self._recheck.wait()
            self._recheck.clear()
            try:
                await self.check_readers()
            except Exception:  # noqa: BLE001 - the watcher must outlive a bad turn
                log.exception("checking live readers failed")

    async def check_readers(self) -> None:
        """Close the sockets that may no longer read their room: anonymous
        ones once it is not public (or gone), others once their session ended."""
        doubtful: list[Client] = []
        for tag, hub in list(self._hubs.items()):
            room = self.rooms.get(tag)
            if room is not None and room.public:
                continue
            for client in tuple(hub.clients):
                if room is None or client.token is None or self.live_tokens is None:
                    client.end(ENDED)
                elif not client.overflowed:
                    doubtful.append(client)
        if not doubtful:
            return
        assert self.live_tokens is not None
        live = await asyncio.to_thread(self.live_tokens, {c.token for c in doubtful if c.token})
        for client in doubtful:
            if client.token not in live:
                client.end(ENDED)

    async def _reload(self) -> None:
        """Take in rooms another process opened or changed (the rows are the
        truth); a room this process refreshed meanwhile keeps its newer state."""
        started = time.monotonic()
        for room in await asyncio.to_thread(self.repo.all):
            if self._refreshed.get(room.tag, 0.0) >= started:
                continue
            self.rooms[room.tag] = room
            hub = self._hubs.get(room.tag)
            if hub is not None:
                hub.room = room

    async def refresh(self, tag: str) -> Room | None:
        """Re-read a room after a host changed it (or opened it)."""
        self._refreshed[tag] = time.monotonic()
        room = await asyncio.to_thread(self.repo.find, tag)
        if room is None and tag in self.fed:
            room = Room(None, tag)
        hub = self._hubs.get(tag)
        if hub is not None and (room is None or not room.public):
            self._recheck.set()  # its anonymous readers (if any) go now
        if room is None:
            self.rooms.pop(tag, None)
            return None
        self.rooms[tag] = room
        if hub is not None:
            hub.room = room
            hub.originals.forget()  # an original's author may be muted or unmuted
            # Readers re-read the room (a host added mid-chat is highlighted
            # on posts already shown, not only on new ones).
            hub.announce({"event": "room"})
        elif self.stays_live(tag):
            await self.get(tag)
        return room

    # -- moderation --------------------------------------------------------------

    def needs_approval(self, post: Post, tags: frozenset[str] | None = None) -> bool:
        """Whether any room ``post`` names (or ``tags``, when given: the tags it
        was routed by) holds posts for approval."""
        for tag in post_tags(post) if tags is None else tags:
            room = self.rooms.get(tag)
            if room is not None and room.approval:
                return True
        return False

    async def trusted(self, post: Post) -> bool:
        """Posts written by hosts (signed-in owners and agents) skip the
        approval queue; guests' and viewers' posts do not."""
        if post.network != "web" or not post.author.id.startswith("web:user:"):
            return False
        try:
            uid = int(post.author.id.removeprefix("web:user:"))
        except ValueError:
            return False
        now = time.monotonic()
        cached = self._roles.get(uid)
        if cached is not None and now - cached[0] < _ROLE_TTL:
            return cached[1]
        from hubbub.web.accounts import get_user

        user = await asyncio.to_thread(get_user, self.repo.store, self.repo.workspace, uid)
        host = has_role(user, "agent")
        self._roles[uid] = (now, host)
        return host

    async def publish_approved(
        self,
        post: Post,
        room_tag: str | None = None,
        originals: Mapping[Key, Post] | None = None,
    ) -> None:
        """An approved post goes live in every live room it names, and in
        ``room_tag``, where it was approved (a repost held there by its
        original's hashtag does not name that room itself); ``originals``:
        the repost's stored original (``RoomRepo.originals``). The caller
        checked ``room_tag``'s own removals; each other room's are read here:
        a host of another room it names may have removed it, or its original,
        already."""
        tags = post_tags(post) | ({room_tag} if room_tag else set())
        for live in self._hubs.values():
            live.originals.forget()  # an approved original is no longer hidden
        for tag in sorted(tags):
            hub = self._hubs.get(tag)
            if hub is None or hub.room.is_hidden(post):
                continue
            if tag != room_tag and await asyncio.to_thread(
                self._removed_in, hub.room, post, originals or {}
            ):
                continue
            if not hub.hides_original(post, originals or {}):
                hub.broadcast(post, originals=originals)

    def _removed_in(self, room: Room, post: Post, originals: Mapping[Key, Post]) -> bool:
        """Whether a host of ``room`` removed ``post``, or the original it
        reposts (in a worker thread)."""
        removed = self.repo.removed(room.tag)
        if (post.network, post.id) in removed:
            return True
        return bool(self.repo.hidden_originals(room, originals.values(), removed))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for hub in list(self._hubs.values()):
            await hub.stop()
        self._hubs.clear()
