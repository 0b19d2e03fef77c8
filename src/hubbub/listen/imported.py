"""Imported posts go through the same match → classify stage as live ones,
in the import, batch by batch (``hubbub import`` passes
``listen_after_import`` as the importer's ``on_batch``). Reports then read
stored matches and classes; they never match or classify inside a read.

Classifying needs only a post's text and languages, so it is the stage's
``prepare``: for a large file it runs in the importer's parser process, on
the other core, while this process writes and matches (matching waits for
the store: a repost matches by its stored original).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from hubbub.listen.classes import classify_rows
from hubbub.listen.stage import ListeningStage, Preclassified, class_key
from hubbub.pipeline.bus import LivePost
from hubbub.post import Author, Post
from hubbub.store import Ingest, IngestResult, Store
from hubbub.transfer.importer import BatchStage

_EPOCH = datetime.fromtimestamp(0, UTC)


def classify_batch(items: Sequence[Ingest]) -> Preclassified:
    """The classes of the batch's posts by ``class_key`` (no store needed).
    Posts the store then finds to be duplicates were classified for nothing;
    that costs the parser process's core, not the writer's."""
    posts = {
        class_key(item): item
        for item in (ingest.item for ingest in items)
        if isinstance(item, Post) and not item.deleted
    }
    keys = list(posts)
    rows = classify_rows([(i, posts[key].text, posts[key].langs) for i, key in enumerate(keys)])
    out: dict[tuple[str, str, str, tuple[str, ...]], dict[str, object]] = {}
    for key, row in zip(keys, rows, strict=True):
        row.pop("post_pk")
        out[key] = row
    return out


def listen_after_import(store: Store, workspace: str) -> BatchStage[Preclassified]:
    """The import's batch stage: classify each parsed batch, then match each
    stored batch's new and updated posts and store both (deletions drop their
    matches)."""
    stage = ListeningStage(store, workspace)

    def stored(result: IngestResult, classes: Preclassified) -> None:
        now = time.time()
        lives = [LivePost(p, now, True) for p in (*result.new, *result.updated)]
        for network, post_id in result.deleted:
            tombstone = Post(network, post_id, Author(network, "", ""), "", _EPOCH)
            tombstone.deleted = True
            lives.append(LivePost(tombstone, now, True))
        if lives:
            stage.process(lives, classes)

    return BatchStage(prepare=classify_batch, stored=stored)
