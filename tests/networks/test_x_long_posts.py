"""Long posts (over 280 characters) fetched live from X keep their whole
text. X cuts ``text`` at 280 characters and sends the whole text, with its
entities, in ``note_tweet`` only when ``tweet.fields`` asks for it; the
loopback server does the same, so these fail if x:search or x:stream stop
asking."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.post import Post
from hubbub.store import Store
from tests.conftest import require_shared_data
from tests.loopback.x_server import XServer, load_recorded_tweets
from tests.networks.x_harness import start_run

# Past the 280th character: a hashtag and a mention the cut text does not have.
LONG_TEXT = (
    "A long post about our support queue. "
    + "Every reply we send is read twice before it goes out, and the slow ones wait. " * 3
    + "The part that matters comes last: #LateTag for @late_one, thank you all."
)


@pytest.fixture(scope="module")
def recorded():
    return load_recorded_tweets(require_shared_data() / "payloads")


def _found_by_late_hashtag(store: Store, post_id: str) -> Post | None:
    for post in store.search("#latetag", limit=None):
        if post.id == post_id:
            return post
    return None


def _check_whole(store: Store, server: XServer, post_id: str) -> None:
    served = server.posts[post_id]
    assert served["text"].endswith("…") and len(served["text"]) == 280
    assert "#LateTag" not in served["text"]  # the test's premise: the tag is after the cut
    post = _found_by_late_hashtag(store, post_id)
    assert post is not None, "the long post is not found by its hashtag after the cut"
    assert post.text == "#hubchat " + LONG_TEXT
    assert "late_one" in post.mentions


async def test_x_search_stores_long_posts_whole(tmp_path: Path, recorded) -> None:
    server = XServer(recorded)
    server.publish_generated(5)
    long_id = server.publish_long(LONG_TEXT)
    run = await start_run(tmp_path, server, spec="x:search:#hubchat?url={url}&poll=5", hashtags=())
    try:
        assert await run.wait(lambda: run.all_stored("#hubchat"))
        _check_whole(run.store, server, long_id)
        run.check("#hubchat")
    finally:
        await run.stop()


async def test_x_stream_stores_long_posts_whole(tmp_path: Path, recorded) -> None:
    server = XServer(recorded, keepalive=20 * 0.01 / 5)
    server.publish_generated(5)  # brought by the first start's backfill (a search)
    run = await start_run(tmp_path, server)
    try:
        assert await run.wait(lambda: server.open_streams == 1 and run.all_stored())
        searches = server.search_requests
        long_id = server.publish_long(LONG_TEXT)
        assert await run.wait(run.all_stored)
        assert server.search_requests == searches  # it came on the stream, not by a search
        _check_whole(run.store, server, long_id)
        run.check()
    finally:
        await run.stop()
