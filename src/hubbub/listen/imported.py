"""Imported posts go through the same match → classify stage as live ones,
in the import process, batch by batch (``hubbub import`` passes
``listen_after_import`` as the importer's ``on_batch``). Reports then read
stored matches and classes; they never match or classify inside a read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from hubbub.listen.stage import ListeningStage
from hubbub.pipeline.bus import LivePost
from hubbub.post import Author, Post
from hubbub.store import IngestResult, Store

_EPOCH = datetime.fromtimestamp(0, UTC)


def listen_after_import(store: Store, workspace: str) -> Callable[[IngestResult], None]:
    """An ``on_batch`` hook: match and classify each stored batch's new and
    updated posts (deletions drop their matches) in this thread."""
    stage = ListeningStage(store, workspace)

    def on_batch(result: IngestResult) -> None:
        now = time.time()
        lives = [LivePost(p, now, True) for p in (*result.new, *result.updated)]
        for network, post_id in result.deleted:
            tombstone = Post(network, post_id, Author(network, "", ""), "", _EPOCH)
            tombstone.deleted = True
            lives.append(LivePost(tombstone, now, True))
        if lives:
            stage.process(lives)

    return on_batch
