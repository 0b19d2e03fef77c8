"""RedisBus: the Bus over Redis pub/sub, so live posts reach rooms served by
other web processes.

Same contract as ``MemoryBus`` (``publish``, ``subscribe``, ``close``), and the
same local semantics, because local fan-out *is* a ``MemoryBus``: tag filter
folded, one bounded queue per subscriber, ``overflowed`` and dropped when full.

How a post travels::

    publish(live) ──► local MemoryBus (this process's subscribers, at once)
                 └──► outbox ─(writer task)─► PUBLISH hubbub:{workspace}:live
    other process: (reader task) SUBSCRIBE ─► decode ─► its local MemoryBus

- The publisher never waits for Redis or for a subscriber: the message goes
  into a bounded outbox that one writer task sends in pipelined batches. When
  Redis is away the outbox keeps the newest ``outbox_size`` messages and
  counts the older ones it drops.
- A process delivers its own posts locally and skips them when they come back
  from Redis (each message names its origin), so local rooms keep working,
  and without a round trip, while Redis is down.
- One reader task per RedisBus, shared by all its local subscribers. When
  its connection breaks it reconnects with a doubling delay (``health()``
  shows the state). Pub/sub does not replay what was sent while a process
  was disconnected, so after a gap every local subscription is ended as
  ``overflowed``: the web rooms already treat that as "you missed posts,
  reload from the API", the same path a slow browser takes.

Messages are orjson of ``{post: post_to_json(post), entered_at, stored}``
plus what ``post_to_json`` leaves out (``deleted``, the author's profile
fields, and ``also_tags``, a repost's original's hashtags), so a LivePost
round-trips equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
import weakref
from collections import deque
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hubbub.formats import Context
from hubbub.formats.hubbub import parse as parse_post_row
from hubbub.formats.hubbub import post_to_json
from hubbub.pipeline.bus import LivePost, MemoryBus, Subscription
from hubbub.post import Author, Post, parse_time, rfc3339
from hubbub.sources.base import describe_error, redact

log = logging.getLogger(__name__)

MESSAGE_VERSION = 1
# Author fields post_to_json does not carry (it keeps network, id, handle,
# display_name); sent alongside so the round trip is lossless.
_AUTHOR_EXTRA = (
    "followers",
    "following",
    "posts_count",
    "verified",
    "avatar_url",
    "description",
    "url",
)


class BadMessage(ValueError):
    """A pub/sub message that is not a LivePost this version can read."""


def live_channel(workspace: str, prefix: str = "hubbub") -> str:
    """The pub/sub channel of one workspace's live posts."""
    return f"{prefix}:{workspace}:live"


def encode_live(live: LivePost, origin: str = "") -> bytes:
    """A LivePost as the bytes sent over pub/sub."""
    author = live.post.author
    extra: dict[str, Any] = {
        name: getattr(author, name) for name in _AUTHOR_EXTRA if getattr(author, name) is not None
    }
    if author.created_at is not None:
        extra["created_at"] = rfc3339(author.created_at, exact=True)
    message: dict[str, Any] = {
        "v": MESSAGE_VERSION,
        "origin": origin,
        "post": post_to_json(live.post),
        "entered_at": live.entered_at,
        "stored": live.stored,
    }
    if live.post.deleted:
        message["deleted"] = True
    if live.also_tags:
        message["also_tags"] = sorted(live.also_tags)
    if extra:
        message["author"] = extra
    return orjson.dumps(message)


def decode_live(data: bytes | str) -> tuple[str, LivePost]:
    """(origin, LivePost) from ``encode_live``'s bytes; BadMessage otherwise."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("v") != MESSAGE_VERSION:
        raise BadMessage("not a hubbub live message of version 1")
    entered_at = message.get("entered_at")
    if not isinstance(entered_at, int | float) or isinstance(entered_at, bool):
        raise BadMessage("entered_at must be a number")
    row = message.get("post")
    if not isinstance(row, dict):
        raise BadMessage("post must be an object")
    try:
        (post,) = parse_post_row(row, Context(source="redis-bus"))
    except Exception as exc:  # noqa: BLE001 - any parser complaint means the same thing here
        raise BadMessage(f"unreadable post: {describe_error(exc)}") from None
    assert isinstance(post, Post)
    extra = message.get("author") or {}
    if not isinstance(extra, dict):
        raise BadMessage("author must be an object")
    fields = {name: extra[name] for name in _AUTHOR_EXTRA if name in extra}
    if "created_at" in extra:
        fields["created_at"] = parse_time(extra["created_at"])
    author: Author = dataclasses.replace(post.author, **fields) if fields else post.author
    post = dataclasses.replace(post, author=author, deleted=bool(message.get("deleted")))
    also = message.get("also_tags") or []
    if not isinstance(also, list) or not all(isinstance(tag, str) for tag in also):
        raise BadMessage("also_tags must be a list of strings")
    origin = message.get("origin")
    return (origin if isinstance(origin, str) else ""), LivePost(
        post, float(entered_at), bool(message.get("stored", True)), frozenset(also)
    )


class RedisBus:
    """Bus over Redis pub/sub for one workspace (see module doc).

    ``url`` is a redis:// URL; ``prefix`` namespaces the channel (tests use a
    unique one). Tasks start on the first ``subscribe``/``publish`` inside a
    running loop, or with ``await start()``.
    """

    def __init__(
        self,
        url: str,
        workspace: str = "default",
        *,
        prefix: str = "hubbub",
        outbox_size: int = 10_000,
        write_batch: int = 500,
        reconnect_delay: float = 0.5,
        max_backoff: float = 30.0,
        close_timeout: float = 2.0,
        end_on_gap: bool = True,
    ) -> None:
        if outbox_size < 1 or write_batch < 1 or reconnect_delay <= 0:
            raise ValueError("outbox_size, write_batch ≥ 1 and reconnect_delay > 0")
        self.url = url
        self.workspace = workspace
        self.channel = live_channel(workspace, prefix)
        self.origin = uuid.uuid4().hex  # lets the reader skip this process's own posts
        self.client_name = f"hubbub-bus-{self.origin[:12]}"
        self.outbox_size = outbox_size
        self.write_batch = write_batch
        self.reconnect_delay = reconnect_delay
        self.max_backoff = max_backoff
        self.close_timeout = close_timeout
        self.end_on_gap = end_on_gap
        # No client-side retries: redis-py would otherwise reconnect the
        # pub/sub connection silently and we could not tell rooms they missed
        # posts. Our loops do the backoff and report it in health().
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=15,
            # Named so an operator (or a test) can find its connections in CLIENT LIST.
            client_name=self.client_name,
        )
        self._local = MemoryBus()
        # Ours to end after a gap; weak so closed subscriptions just vanish.
        self._subs: weakref.WeakSet[Subscription] = weakref.WeakSet()
        self._outbox: deque[bytes] = deque()
        self._in_flight = 0  # messages taken from the outbox, not yet confirmed sent
        self._wakeup = asyncio.Event()
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        # health
        self._reader_state = "idle"  # idle | connecting | connected | backing_off | closed
        self._writer_state = "idle"  # idle | ok | backing_off | closed
        self._retry_at: float | None = None
        self.last_error: str | None = None
        self.published = 0  # posts published by this process
        self.sent = 0  # messages PUBLISHed to Redis
        self.received = 0  # messages from other processes delivered locally
        self.dropped = 0  # messages dropped from a full outbox (Redis away too long)
        self.bad_messages = 0
        self.encode_errors = 0
        self.reconnects = 0
        self.gaps = 0  # reconnections after which local subscriptions were ended

    # -- the Bus protocol ----------------------------------------------------

    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> Subscription:
        sub = self._local.subscribe(tag, maxsize)
        self._subs.add(sub)
        self._start_tasks()
        return sub

    async def publish(self, live: LivePost) -> None:
        # Local subscribers first and without waiting: same as MemoryBus.
        self.published += 1
        await self._local.publish(live)
        if self._closed:
            return
        try:
            data = encode_live(live, self.origin)
        except Exception as exc:  # noqa: BLE001 - one odd post must not stop publishing
            self.encode_errors += 1
            self.last_error = describe_error(exc)
            log.warning("redis bus: post %s not sent: %s", live.post.id, self.last_error)
            return
        if len(self._outbox) >= self.outbox_size:
            self._outbox.popleft()  # keep the newest: live rooms care about now
            self.dropped += 1
        self._outbox.append(data)
        self._wakeup.set()
        self._start_tasks()

    async def close(self) -> None:
        """Send what is in the outbox (up to ``close_timeout``), stop the
        tasks, end the local subscriptions, close the connections."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and (self._outbox or self._in_flight):
            self._wakeup.set()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.close_timeout
            while (
                (self._outbox or self._in_flight)
                and loop.time() < deadline
                and self._writer_state != "backing_off"
            ):
                await asyncio.sleep(0.01)
        for task in (self._reader, self._writer):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._reader, self._writer) if t is not None), return_exceptions=True
        )
        self._reader_state = self._writer_state = "closed"
        await self._local.close()
        await self._client.aclose()

    # -- extras --------------------------------------------------------------

    async def start(self) -> None:
        """Start the reader and writer tasks (idempotent)."""
        self._start_tasks()

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """True once the reader is subscribed (posts from other processes
        arrive from then on); False if ``timeout`` passed first."""
        self._start_tasks()
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def subscribers(self) -> int:
        return self._local.subscribers()

    def health(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "url": redact(self.url),
            "client_name": self.client_name,
            "reader": self._reader_state,
            "writer": self._writer_state,
            "connected": self._connected.is_set(),
            "retry_at": self._retry_at,  # the reader's next attempt while backing off
            "last_error": self.last_error,
            "subscribers": self._local.subscribers(),
            "published": self.published,
            "overflows": self._local.overflows,
            "outbox": len(self._outbox),
            "sent": self.sent,
            "received": self.received,
            "dropped": self.dropped,
            "bad_messages": self.bad_messages,
            "encode_errors": self.encode_errors,
            "reconnects": self.reconnects,
            "gaps": self.gaps,
        }

    # -- tasks -----------------------------------------------------------------

    def _start_tasks(self) -> None:
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # subscribed outside a loop: start() or the first publish starts them
        if self._reader is None:
            self._reader_state = "connecting"
            self._reader = asyncio.create_task(
                self._read_loop(), name=f"redis-bus-reader:{self.channel}"
            )
        if self._writer is None:
            self._writer_state = "ok"
            self._writer = asyncio.create_task(
                self._write_loop(), name=f"redis-bus-writer:{self.channel}"
            )

    def _backoff(self, failures: int) -> float:
        return min(self.reconnect_delay * 2 ** (failures - 1), self.max_backoff)

    async def _read_loop(self) -> None:
        failures = 0
        was_connected = False
        while True:
            pubsub = self._client.pubsub()
            try:
                self._reader_state = "connecting"
                await pubsub.subscribe(self.channel)
                # "connected" only once Redis confirmed the subscription:
                # from then on nothing published is missed.
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "subscribe":
                        break
                if was_connected:
                    self._gap()
                was_connected = True
                failures = 0
                self._reader_state, self._retry_at = "connected", None
                self._connected.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        await self._deliver(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis going away is reported and retried
                failures += 1
                self.last_error = describe_error(exc)
                if was_connected and failures == 1:
                    log.warning("redis bus %s: connection lost: %s", self.channel, self.last_error)
            finally:
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            delay = self._backoff(failures)
            self._reader_state, self._retry_at = "backing_off", time.time() + delay
            await asyncio.sleep(delay)
            self.reconnects += 1

    def _gap(self) -> None:
        """The reader was disconnected: posts from other processes may be
        lost, so end the local subscriptions as overflowed (rooms reload)."""
        self.gaps += 1
        if not self.end_on_gap:
            return
        subs = [sub for sub in self._subs if not sub.closed]
        for sub in subs:
            sub.overflowed = True
            sub.close()
        log.warning(
            "redis bus %s: reconnected; ended %d subscriptions that may have missed posts",
            self.channel,
            len(subs),
        )

    async def _deliver(self, data: bytes) -> None:
        try:
            origin, live = decode_live(data)
        except BadMessage as exc:
            self.bad_messages += 1
            self.last_error = redact(f"bad message on {self.channel}: {exc}")
            log.warning("redis bus: %s", self.last_error)
            return
        if origin == self.origin:
            return  # already delivered locally when it was published
        self.received += 1
        await self._local.publish(live)

    async def _write_loop(self) -> None:
        failures = 0
        while True:
            if not self._outbox:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            # Take the batch out first: publish() may drop from the front of
            # the outbox while we wait on the network.
            batch = [
                self._outbox.popleft() for _ in range(min(self.write_batch, len(self._outbox)))
            ]
            self._in_flight = len(batch)  # close() waits for these too
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for data in batch:
                        pipe.publish(self.channel, data)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported, retried with backoff
                self._in_flight = 0
                failures += 1
                self.last_error = describe_error(exc)
                if failures == 1:
                    log.warning("redis bus %s: publish failed: %s", self.channel, self.last_error)
                # Put the batch back in front, within the outbox's bound.
                room = self.outbox_size - len(self._outbox)
                keep = batch[-room:] if room > 0 else []
                self.dropped += len(batch) - len(keep)
                self._outbox.extendleft(reversed(keep))
                delay = self._backoff(failures)
                self._writer_state = "backing_off"
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._writer_state = "ok"
            self.sent += len(batch)
            self._in_flight = 0
