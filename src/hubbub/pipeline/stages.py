"""The pipeline's stages: normalise → store → publish, each over a batch.

A stage takes and returns a list of LivePosts (``Stage``). The list the
pipeline passes is a ``Batch``: a ``list[LivePost]`` that also carries what
the store needs (every parsed item with its raw payload, the sources'
cursors). Stages placed before ``StoreStage`` must therefore return the batch
they got (or ``batch.derive(...)``); stages after it (listening goes right
before publish) may return any list.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import orjson

from hubbub.formats import parse_record
from hubbub.formats.hubbub import post_to_json
from hubbub.pipeline.bus import Bus, LivePost
from hubbub.post import Author, Post
from hubbub.sources.base import RawItem, describe_error
from hubbub.store import Ingest, IngestResult, RawPayload, Store

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (network, post id)


@runtime_checkable
class Stage(Protocol):
    async def __call__(self, batch: list[LivePost]) -> list[LivePost]: ...


@dataclass(slots=True)
class Entry:
    """One thing that entered the pipeline, before parsing."""

    item: RawItem | Post
    entered_at: float  # time.time() on arrival
    source: str  # the source's name ("web" for submitted posts); keys health and cursors


@dataclass(slots=True)
class Pending:
    """One parsed item on its way to the store."""

    source: str
    ingest: Ingest
    entered_at: float


class Batch(list[LivePost]):
    """A batch of LivePosts plus the store stage's inputs (see module doc)."""

    def __init__(self, posts: Iterable[LivePost] = (), *, entries: Sequence[Entry] = ()) -> None:
        super().__init__(posts)
        self.entries: list[Entry] = list(entries)
        self.pending: list[Pending] = []
        self.cursors: dict[str, str] = {}  # source → position after its last item here

    def derive(self, posts: Iterable[LivePost]) -> Batch:
        """A batch with other posts and the same store inputs."""
        out = Batch(posts, entries=self.entries)
        out.pending, out.cursors = self.pending, self.cursors
        return out


# Reports what normalising did per source: (source, posts parsed, error or None).
NormaliseReport = Callable[[str, int, str | None], None]


class Normalise:
    """Raw items → Posts (and deletions) with ``hubbub.formats.parse_record``.
    A payload no parser reads is reported against its source and dropped;
    the rest of the batch goes on."""

    def __init__(self, report: NormaliseReport | None = None) -> None:
        self._report = report

    async def __call__(self, batch: list[LivePost]) -> list[LivePost]:
        if not isinstance(batch, Batch):
            return batch
        out = batch.derive([])
        for entry in batch.entries:
            item = entry.item
            if isinstance(item, Post):
                body = orjson.dumps(post_to_json(item))
                raw = RawPayload(body, entry.source, datetime.now(UTC), "hubbub")
                out.pending.append(Pending(entry.source, Ingest(item, raw), entry.entered_at))
                out.append(LivePost(item, entry.entered_at, True))
                self._count(entry.source, 1, None)
                continue
            try:
                fmt, items = parse_record(item.value, item.ctx, item.fmt)
            except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the batch
                message = describe_error(exc)
                log.warning("%s: unreadable payload skipped: %s", entry.source, message)
                self._count(entry.source, 0, message)
                continue
            for problem in item.ctx.problems:  # the page's other posts go on
                log.warning("%s: %s", entry.source, problem)
            raw = RawPayload(item.body(), entry.source, item.ctx.fetched_at, fmt)
            posts = 0
            for parsed in items:
                out.pending.append(Pending(entry.source, Ingest(parsed, raw), entry.entered_at))
                if isinstance(parsed, Post):
                    out.append(LivePost(parsed, entry.entered_at, True))
                    posts += not parsed.embedded
            if item.cursor is not None:
                out.cursors[entry.source] = item.cursor
            self._count(entry.source, posts, None)
        return out

    def _count(self, source: str, posts: int, error: str | None) -> None:
        if self._report is not None:
            self._report(source, posts, error)


@dataclass(slots=True)
class StoreStats:
    batches: int = 0
    failures: int = 0
    last_error: str | None = None
    new: int = 0
    updated: int = 0
    deleted: int = 0
    duplicates: int = 0
    last_batch_seconds: float = 0.0


class StoreStage:
    """Writes the batch through ``Store.ingest`` in a worker thread, one batch
    at a time, each source's cursor in the same transaction as its posts.
    Passes on only what is new to the store (and updates and deletions), so
    a source that repeats itself never shows a post twice.

    When the store fails the batch is retried item by item, so one bad record
    loses nothing else; posts that still cannot be stored are passed on with
    ``stored=False`` (a live room should not go dark because the disk did).
    """

    def __init__(
        self, store: Store, workspace: str = "default", *, remember: int = 100_000
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.stats = StoreStats()
        self._lock = asyncio.Lock()
        # Keys already passed on, so a post published unstored during a store
        # outage is not published again when a replay finally stores it.
        self._published: OrderedDict[Key, None] = OrderedDict()
        self._remember = remember

    async def __call__(self, batch: list[LivePost]) -> list[LivePost]:
        if not isinstance(batch, Batch) or not batch.pending:
            return batch if not isinstance(batch, Batch) else batch.derive([])
        async with self._lock:
            began = time.perf_counter()
            lives = await asyncio.to_thread(self._write, batch)
            self.stats.last_batch_seconds = time.perf_counter() - began
        return batch.derive(lives)

    # -- in the worker thread ------------------------------------------------

    def _write(self, batch: Batch) -> list[LivePost]:
        self.stats.batches += 1
        groups: dict[str, list[Pending]] = {}
        for pending in batch.pending:
            groups.setdefault(pending.source, []).append(pending)
        order: dict[Key, int] = {}
        entered: dict[Key, float] = {}
        for index, pending in enumerate(batch.pending):
            item = pending.ingest.item
            if isinstance(item, Post):
                order.setdefault((item.network, item.id), index)
                entered.setdefault((item.network, item.id), pending.entered_at)
        news: list[LivePost] = []
        changes: list[LivePost] = []
        for source, group in groups.items():
            cursor = batch.cursors.get(source)
            group_news, group_changes = self._write_group(source, group, cursor, entered)
            news += group_news
            changes += group_changes
        # New posts in arrival order across sources; updates and deletions
        # after them (a deletion in this batch may be of a post new in it).
        news.sort(key=lambda live: order.get((live.post.network, live.post.id), len(order)))
        return news + changes

    def _write_group(
        self, source: str, group: list[Pending], cursor: str | None, entered: dict[Key, float]
    ) -> tuple[list[LivePost], list[LivePost]]:
        ingests = [p.ingest for p in group]
        try:
            result = self.store.ingest(
                ingests, self.workspace, cursor=(source, cursor) if cursor is not None else None
            )
        except Exception as exc:  # noqa: BLE001 - any store failure: retry one by one
            self._failed(exc)
        else:
            return self._lives(result, entered)
        news: list[LivePost] = []
        changes: list[LivePost] = []
        ok = True
        for pending in group:
            try:
                result = self.store.ingest([pending.ingest], self.workspace)
            except Exception as exc:  # noqa: BLE001
                ok = False
                self._failed(exc)
                item = pending.ingest.item
                if isinstance(item, Post) and self._first_time(item):
                    news.append(LivePost(item, pending.entered_at, False))
            else:
                one_news, one_changes = self._lives(result, entered)
                news += one_news
                changes += one_changes
        if ok and cursor is not None:
            try:
                self.store.set_cursor(source, cursor, self.workspace)
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
        return news, changes

    def _failed(self, exc: Exception) -> None:
        self.stats.failures += 1
        self.stats.last_error = describe_error(exc)
        log.error("store write failed: %s", self.stats.last_error)

    def _lives(
        self, result: IngestResult, entered: dict[Key, float]
    ) -> tuple[list[LivePost], list[LivePost]]:
        """(new posts not published before, updates and deletions)."""
        counts = result.counts
        self.stats.new += counts.imported
        self.stats.updated += counts.updated
        self.stats.deleted += counts.deleted
        self.stats.duplicates += counts.duplicates
        now = time.time()
        news = [
            LivePost(p, entered.get((p.network, p.id), now), True)
            for p in result.new
            if self._first_time(p)
        ]
        out = [LivePost(p, entered.get((p.network, p.id), now), True) for p in result.updated]
        for network, post_id in result.deleted:
            tombstone = self.store.get_post(network, post_id, self.workspace)
            if tombstone is None:
                tombstone = Post(network, post_id, Author(network, "", ""), "", datetime.now(UTC))
            tombstone.deleted = True
            out.append(LivePost(tombstone, now, True))
        return news, out

    def _first_time(self, post: Post) -> bool:
        """True once per new post (updates and deletions are not asked)."""
        key = (post.network, post.id)
        if key in self._published:
            return False
        self._published[key] = None
        if len(self._published) > self._remember:
            self._published.popitem(last=False)
        return True


class Publish:
    """Hands each LivePost to the bus, in order."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def __call__(self, batch: list[LivePost]) -> list[LivePost]:
        for live in batch:
            await self.bus.publish(live)
        return batch
