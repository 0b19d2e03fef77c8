"""A live room is pushed the reposts its search finds: a repost whose own text
lost the hashtag (a truncated ``RT @x: …`` retweet, a Mastodon reblog, a
Bluesky repost with no text) reaches ``#tag``'s room when its original
carries the tag, through the real pipeline and the room's WebSocket, and the
room's reload (``GET /api/rooms/TAG/posts``, ``Store.search``) agrees."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
import websockets

from hubbub.post import Post
from tests.web.conftest import Server, http_client, make_post
from tests.web.test_room_access import in_thread, submit_from_thread, ws_url


def _repost_of(original: Post, text: str) -> Post:
    """A repost of ``original`` by someone else, with no hashtag of its own."""
    other = make_post("unused", "x", network=original.network, handle="reposter")
    return dataclasses.replace(other, text=text, hashtags=(), repost_of=original.id)


@pytest.mark.parametrize(
    ("network", "own_text"),
    [
        ("x", "RT @someone: the long original cut at 140 characters, before its hashtag…"),
        ("mastodon", ""),
        ("bluesky", ""),
    ],
)
def test_a_repost_reaches_the_room_of_its_originals_hashtag(
    server: Server, tag: str, network: str, own_text: str
) -> None:
    original = make_post(tag, "the original says it", network=network)
    server.submit(original)  # stored before its repost arrives
    repost = _repost_of(original, own_text)
    unrelated_original = make_post(tag + "other", "another room's post", network=network)
    server.submit(unrelated_original)
    unrelated = _repost_of(unrelated_original, "")
    marker = make_post(tag, "marker after the reposts")

    async def watch() -> list[dict]:
        async with websockets.connect(ws_url(server, tag)) as ws:
            for post in (repost, unrelated, marker):
                await submit_from_thread(server, post)
            return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]

    got = in_thread(watch)
    # The repost arrives, the repost of another room's post does not (the
    # marker, submitted after it, is the next message).
    assert [m["id"] for m in got] == [repost.id, marker.id]
    with http_client(server) as client:
        shown = client.get(f"/api/rooms/{tag}/posts").json()
    ids = [p["id"] for p in (shown["posts"] if isinstance(shown, dict) else shown)]
    assert repost.id in ids and unrelated.id not in ids  # the reload agrees with the live feed


def test_a_repost_with_an_unknown_original_stays_out(server: Server, tag: str) -> None:
    orphan = dataclasses.replace(
        make_post("unused", "x", handle="orphan"), text="RT @a: cut…", hashtags=(), repost_of="1"
    )
    marker = make_post(tag, "marker after the orphan")

    async def watch() -> dict:
        async with websockets.connect(ws_url(server, tag)) as ws:
            for post in (orphan, marker):
                await submit_from_thread(server, post)
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert in_thread(watch)["id"] == marker.id
