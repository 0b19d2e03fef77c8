"""Which firehose posts a workspace keeps: those matching one of its active
saved queries (the compiled matcher, ``listen.matcher``) or carrying the
hashtag of one of its public rooms.

The follows are read from the store (blocking, so in a worker thread) when
the filter is first used and again every ``refresh_seconds``, so a query
saved or a room opened while the stream runs is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import logging

from hubbub.listen.matcher import Matcher
from hubbub.networks.clock import Clock
from hubbub.networks.env import Follows, FollowsReader
from hubbub.post import Post
from hubbub.query.parser import parse
from hubbub.query.tokens import fold
from hubbub.sources.base import describe_error

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0


class FollowFilter:
    def __init__(
        self, read: FollowsReader, clock: Clock, *, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self._read = read
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self._matcher: Matcher | None = None
        self._tags: frozenset[str] = frozenset()
        self._loaded_at: float | None = None

    async def refresh(self, *, force: bool = False) -> None:
        """Re-read the follows when due (the first call always reads)."""
        now = self._clock.monotonic()
        due = self._loaded_at is None or now - self._loaded_at >= self.refresh_seconds
        if not (force or due):
            return
        self._loaded_at = now
        try:
            follows = await asyncio.to_thread(self._read)
        except Exception as exc:  # noqa: BLE001 - keep the last good follows
            log.warning("follows not refreshed: %s", describe_error(exc))
            return
        self.load(follows)

    def load(self, follows: Follows) -> None:
        queries = []
        for name, text in follows.queries:
            try:
                queries.append((name, parse(text)))
            except Exception as exc:  # noqa: BLE001 - one bad saved query must not stop the stream
                log.warning("saved query %r not followed: %s", name, describe_error(exc))
        self._matcher = Matcher(queries) if queries else None
        self._tags = frozenset(fold(tag.lstrip("#")) for tag in follows.hashtags)

    def __call__(self, post: Post) -> bool:
        if self._tags and any(fold(tag) in self._tags for tag in post.hashtags):
            return True
        return self._matcher is not None and bool(self._matcher.match_indexes(post))
