"""``ListeningStage``: match every new post against the workspace's active
saved queries and classify it, storing both. Goes after ``StoreStage`` (it
needs the posts' keys in the store) and before publishing.

The work (matching, classifying, one transaction) runs in a worker thread per
batch so the event loop keeps serving rooms. The compiled matcher is rebuilt
only when the set of active queries changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hubbub.listen.classes import classify_rows
from hubbub.listen.matcher import Matcher
from hubbub.listen.saved import list_queries
from hubbub.pipeline.bus import LivePost
from hubbub.post import Post
from hubbub.query.reposts import as_matched
from hubbub.store import Store
from hubbub.store.listening import StageWrites
from hubbub.store.scope import scope
from hubbub.store.scoped_posts import WorkspacePosts

log = logging.getLogger(__name__)

# Classes computed ahead of the store for (network, post id, text, langs):
# a post_classes row without its post_pk. Keyed by text and langs too, so an
# edit merged in the store (another text) is classified again.
Preclassified = Mapping[tuple[str, str, str, tuple[str, ...]], Mapping[str, object]]


def class_key(post: Post) -> tuple[str, str, str, tuple[str, ...]]:
    return (post.network, post.id, post.text, tuple(post.langs))


# Called (in the worker thread) with {query name: [posts it matched]} per batch,
# e.g. to bump the dashboard's live counters or check alert rules.
OnMatches = Callable[[dict[str, list[LivePost]]], None]


@dataclass(slots=True)
class ListeningStats:
    batches: int = 0
    posts: int = 0
    matches: int = 0
    classified: int = 0
    failures: int = 0
    last_error: str | None = None
    last_batch_seconds: float = 0.0


class ListeningStage:
    def __init__(
        self,
        store: Store,
        workspace: str = "default",
        *,
        classify: bool = True,
        on_matches: OnMatches | None = None,
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.classify = classify
        self.on_matches = on_matches
        self.stats = ListeningStats()
        self._lock = asyncio.Lock()
        self._signature: tuple[tuple[int, str, str], ...] | None = None
        self._matcher = Matcher({})
        self._ids: list[int] = []

    async def __call__(self, batch: list[LivePost]) -> list[LivePost]:
        lives = [live for live in batch if live.stored]
        if not lives:
            return batch
        async with self._lock:
            began = time.perf_counter()
            try:
                await asyncio.to_thread(self.process, lives)
            except Exception as exc:  # noqa: BLE001 - listening must not stop the room
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.error("listening stage failed: %s", self.stats.last_error)
            self.stats.last_batch_seconds = time.perf_counter() - began
        return batch

    def matcher(self) -> Matcher:
        """The compiled matcher of the active queries, rebuilt when they change."""
        saved = list_queries(self.store, workspace=self.workspace, active_only=True)
        signature = tuple((q.id, q.name, q.query) for q in saved)
        if signature != self._signature:
            self._matcher = Matcher([(q.name, q.query) for q in saved])
            self._ids = [q.id for q in saved]
            self._signature = signature
        return self._matcher

    # -- in the worker thread ------------------------------------------------

    def process(
        self, lives: list[LivePost], preclassified: Preclassified | None = None
    ) -> dict[str, list[LivePost]]:
        """Match, classify and store one batch; returns the matches by query name.
        ``preclassified``: classes already computed for these texts (the
        importer classifies in its parser process), used instead of classifying."""
        self.stats.batches += 1
        self.stats.posts += len(lives)
        matcher = self.matcher()
        here = scope(self.store, self.workspace)
        posts = WorkspacePosts(here)
        lives = _one_version_each(lives, posts)
        pk_of = posts.row_keys((live.post.network, live.post.id) for live in lives)
        originals = self._originals(posts, lives)
        wanted: set[tuple[int, int]] = set()
        touched: list[int] = []
        by_name: dict[str, list[LivePost]] = {}
        to_classify: list[tuple[int, str, tuple[str, ...]]] = []
        ready: list[dict[str, object]] = []
        for live in lives:
            post = live.post
            pk = pk_of.get((post.network, post.id))
            if pk is None:
                continue
            touched.append(pk)
            if post.deleted:
                continue  # a tombstone keeps no matches (the store's search skips it too)
            # A repost matches by its original's text and facets, as search does.
            seen = as_matched(post, originals.get((post.network, post.repost_of or "")))
            for i in matcher.match_indexes(seen):
                wanted.add((self._ids[i], pk))
                by_name.setdefault(matcher.queries[i].name, []).append(live)
            known = preclassified.get(class_key(post)) if preclassified else None
            if known is not None:
                ready.append({**known, "post_pk": pk})
            else:
                to_classify.append((pk, post.text, post.langs))
        classes = classify_rows(to_classify) if self.classify and to_classify else []
        if self.classify:
            classes = ready + classes
        StageWrites(here).replace(touched, wanted, classes)
        self.stats.matches += len(wanted)
        self.stats.classified += len(classes)
        if self.on_matches is not None and by_name:
            self.on_matches(by_name)
        return by_name

    def _originals(
        self, posts: WorkspacePosts, lives: list[LivePost]
    ) -> dict[tuple[str, str], Post]:
        """The originals of the batch's reposts: from the batch itself (a page carries
        the retweeted tweet, a reblog its status), else from the store."""
        in_batch = {(live.post.network, live.post.id): live.post for live in lives}
        found: dict[tuple[str, str], Post] = {}
        missing: list[tuple[str, str]] = []
        for live in lives:
            post = live.post
            if post.repost_of is None:
                continue
            key = (post.network, post.repost_of)
            if key in in_batch:
                found[key] = in_batch[key]
            else:
                missing.append(key)
        if missing:
            found.update(posts.posts(missing))
        return found


def _one_version_each(lives: list[LivePost], posts: WorkspacePosts) -> list[LivePost]:
    """One live post per stored post: a batch can carry two versions of one post
    (a file holding a tweet and its edit, or a status and its update), and the
    store keeps one of them. Matches and classes are for that one, once: the
    version whose text the store holds, else the last in the batch. Without this,
    both versions' classes went to the same post and the import failed on
    post_classes' key."""
    by_key: dict[tuple[str, str], list[LivePost]] = {}
    for live in lives:
        by_key.setdefault((live.post.network, live.post.id), []).append(live)
    repeated = [key for key, versions in by_key.items() if len(versions) > 1]
    if not repeated:
        return lives
    stored = posts.posts(repeated)
    chosen: dict[tuple[str, str], LivePost] = {}
    for key in repeated:
        versions, kept = by_key[key], stored.get(key)
        same = [
            live
            for live in versions
            if kept is not None
            and live.post.text == kept.text
            and live.post.deleted == kept.deleted
        ]
        chosen[key] = (same or versions)[-1]
    return [
        live
        for live in lives
        if (key := (live.post.network, live.post.id)) not in chosen or chosen[key] is live
    ]
