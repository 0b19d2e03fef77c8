"""The bus: how stored posts reach live rooms.

``Bus`` is the interface the publish stage and the web app use; ``MemoryBus``
is the in-process implementation. A Redis implementation (Streams for workers,
pub/sub for fan-out across web processes) replaces it by implementing the same
two calls, without touching the stages.

A subscriber never slows the pipeline down: each one has a bounded queue, and
when it is full the subscriber is marked ``overflowed`` and dropped (the web
client then reloads from the API) instead of the publisher waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hubbub.post import Post
from hubbub.query.tokens import fold


@dataclass(slots=True, frozen=True)
class LivePost:
    post: Post
    entered_at: float  # time.time() when the raw item entered the pipeline (for latency)
    stored: bool  # False if the store stage failed for it (it is still published)
    # Folded hashtags the post is routed by besides its own: a repost's
    # original's (pipeline/repost_tags.py), so a room gets the reposts its
    # search finds (query/reposts.py) even when the repost's text lost the tag.
    also_tags: frozenset[str] = frozenset()


def post_tags(post: Post) -> frozenset[str]:
    """The folded hashtags a subscription's ``tag`` is compared with."""
    return frozenset(fold(tag) for tag in post.hashtags)


def live_tags(live: LivePost) -> frozenset[str]:
    """The folded hashtags ``live`` is routed by: its own plus ``also_tags``."""
    own = post_tags(live.post)
    return own | live.also_tags if live.also_tags else own


_CLOSED = object()


class Subscription:
    """Async iterator of LivePosts for one subscriber. Ends when closed or
    when it overflowed (then ``overflowed`` is True)."""

    def __init__(
        self, tag: str | None, maxsize: int, on_close: Callable[[Subscription], None] | None = None
    ) -> None:
        self.tag = fold(tag.lstrip("#")) if tag else None
        self.overflowed = False
        self.closed = False
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max(1, maxsize))
        self._on_close = on_close

    def offer(self, live: LivePost) -> bool:
        """Queue ``live`` without waiting; False (and overflowed) when full."""
        if self.closed:
            return False
        try:
            self._queue.put_nowait(live)
        except asyncio.QueueFull:
            self.overflowed = True
            self._finish()
            return False
        return True

    def qsize(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Leave: the iterator ends after what is already queued is dropped."""
        self._finish()

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._on_close is not None:
            self._on_close(self)
        # Wake a reader blocked on an empty queue; a full queue wakes it anyway.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_CLOSED)

    def __aiter__(self) -> AsyncIterator[LivePost]:
        return self

    async def __anext__(self) -> LivePost:
        if self.closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _CLOSED or self.closed:
            raise StopAsyncIteration
        assert isinstance(item, LivePost)
        return item

    async def get(self, timeout: float | None = None) -> LivePost | None:
        """The next post, or None when the subscription ended or ``timeout`` passed."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except (StopAsyncIteration, TimeoutError):
            return None


@runtime_checkable
class Bus(Protocol):
    async def publish(self, live: LivePost) -> None: ...

    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> Subscription: ...

    async def close(self) -> None: ...


class MemoryBus:
    """In-process fan-out. Subscribers are indexed by folded tag, so publishing
    costs one dict lookup per hashtag of the post plus the matching queues."""

    def __init__(self) -> None:
        self._by_tag: dict[str | None, set[Subscription]] = {}
        self.published = 0
        self.overflows = 0

    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(tag, maxsize, on_close=self._remove)
        self._by_tag.setdefault(sub.tag, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._by_tag.get(sub.tag)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_tag[sub.tag]

    def subscribers(self) -> int:
        return sum(len(s) for s in self._by_tag.values())

    async def publish(self, live: LivePost) -> None:
        self.published += 1
        if live.post.deleted:
            # A deletion's tombstone has no hashtags left; every room gets it and
            # a client that never showed the post ignores it.
            targets = [s for subs in self._by_tag.values() for s in subs]
        else:
            targets = list(self._by_tag.get(None, ()))
            for tag in live_tags(live):
                targets.extend(self._by_tag.get(tag, ()))
        seen: set[int] = set()
        for sub in targets:
            if id(sub) in seen:
                continue  # a post tagged #a and #A reaches each subscriber once
            seen.add(id(sub))
            if not sub.offer(live):
                self.overflows += 1

    async def close(self) -> None:
        for sub in [s for subs in self._by_tag.values() for s in subs]:
            sub.close()
