"""The pipeline routes a repost to its original's rooms: a Mastodon reblog has
no content of its own, so ``#fediverse``'s room receives it only by its
original's hashtag; also when the original was stored before and only its
embedded copy travels in the payload (it is not published again)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

from hubbub.formats import Context
from hubbub.pipeline import Pipeline
from hubbub.sources.base import RawItem
from hubbub.store import Store, open_store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mastodon" / "reblog.json"
DEADLINE = 10.0  # a safety net against hangs, never a timing assertion


def _reblog_by(payload: dict, n: int) -> dict:
    """The fixture's reblog as boosted by another account (same original)."""
    other = copy.deepcopy(payload)
    other["id"] = str(int(payload["id"]) + n)
    other["uri"] = f"https://example.social/users/dan{n}/statuses/{other['id']}/activity"
    other["account"]["id"] = str(9000 + n)
    other["account"]["username"] = other["account"]["acct"] = f"dan{n}"
    other["account"]["url"] = f"https://example.social/@dan{n}"
    return other


async def test_a_reblog_reaches_its_originals_room(db_url: str) -> None:
    # On both databases: the third repost's original is read back from the store.
    payload = json.loads(FIXTURE.read_text())
    assert payload["content"] == "" and payload["tags"] == []  # nothing of its own
    store: Store = open_store(db_url)
    try:
        pipeline = Pipeline(store)
        room = pipeline.subscribe("#Fediverse")
        await pipeline.start()
        ctx = Context(source="masto", server="example.social")
        await pipeline.submit(RawItem(payload, ctx, "mastodon"))
        first = [await room.get(DEADLINE) for _ in range(2)]
        # The original was stored with the first reblog; the second brings only
        # an embedded copy of it, which is not published again.
        await pipeline.submit(RawItem(_reblog_by(payload, 1), ctx, "mastodon"))
        second = await room.get(DEADLINE)
        # A repost with no copy of its original in the batch: found in the store.
        assert second is not None
        bare = dataclasses.replace(
            second.post, id="https://example.social/users/eve/statuses/1/activity"
        )
        await pipeline.submit(bare)
        third = await room.get(DEADLINE)
        await pipeline.stop()
    finally:
        store.close()
    got = [live for live in first if live is not None]
    assert {live.post.repost_of is not None for live in got} == {True, False}
    assert second is not None and second.post.repost_of is not None
    assert second.post.author.handle.startswith("dan1")
    assert "fediverse" in second.also_tags and not second.post.hashtags
    assert third is not None and third.post.id == bare.id and "fediverse" in third.also_tags
