"""Route a repost to the rooms of its original's hashtags.

A room's history is ``Store.search(#tag)``, and search matches a repost by
its original's text and facets (``query/reposts.py``): a truncated
``RT @x: …`` retweet, a Mastodon reblog or a Bluesky repost (no text at all)
is found by ``#tag`` when its original carries the tag. The bus routes by a
post's own hashtags, so without this stage the live feed of a room would
miss the very reposts its reload shows. This stage sets ``also_tags`` on each
repost whose original is known (in the batch, e.g. X ``includes.tweets`` or
a reblog's status, else stored), with the same rule as ``as_matched``: an
unknown or deleted original adds nothing.

It runs after the store stage (the original may have been stored in this
very batch) and before publish; it reads the store only for reposts whose
original is not in the batch.
"""

from __future__ import annotations

import asyncio
import dataclasses

from hubbub.pipeline.bus import LivePost, post_tags
from hubbub.pipeline.stages import Batch
from hubbub.post import Post
from hubbub.query.reposts import as_matched
from hubbub.store import Store
from hubbub.store.scope import scope
from hubbub.store.scoped_posts import WorkspacePosts

Key = tuple[str, str]


class RepostTags:
    """Sets ``LivePost.also_tags`` of reposts to their original's hashtags."""

    def __init__(self, store: Store, workspace: str = "default") -> None:
        self.store = store
        self.workspace = workspace

    async def __call__(self, batch: list[LivePost]) -> list[LivePost]:
        wanted = {
            (live.post.network, live.post.repost_of)
            for live in batch
            if live.post.repost_of is not None and not live.post.deleted
        }
        if not wanted:
            return batch
        originals = self._in_batch(batch, wanted)
        missing = wanted - originals.keys()
        if missing:
            originals.update(await asyncio.to_thread(self._stored, missing))
        out = [self._tagged(live, originals) for live in batch]
        return batch.derive(out) if isinstance(batch, Batch) else out

    @staticmethod
    def _in_batch(batch: list[LivePost], wanted: set[Key]) -> dict[Key, Post]:
        """Originals the batch carries: published posts, and (in a ``Batch``)
        every parsed post, embedded copies included, since an original that
        was stored before is not passed on again but its copy is still here."""
        found: dict[Key, Post] = {}
        posts: list[Post] = [live.post for live in batch]
        if isinstance(batch, Batch):
            posts += [p.ingest.item for p in batch.pending if isinstance(p.ingest.item, Post)]
        for post in posts:
            key = (post.network, post.id)
            if key in wanted and key not in found:
                found[key] = post
        return found

    def _stored(self, keys: set[Key]) -> dict[Key, Post]:
        return WorkspacePosts(scope(self.store, self.workspace)).posts(keys)

    @staticmethod
    def _tagged(live: LivePost, originals: dict[Key, Post]) -> LivePost:
        post = live.post
        if post.repost_of is None:
            return live
        seen = as_matched(post, originals.get((post.network, post.repost_of)))
        if seen is post:
            return live
        extra = post_tags(seen) - post_tags(post)
        return dataclasses.replace(live, also_tags=live.also_tags | extra) if extra else live
