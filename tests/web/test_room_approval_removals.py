"""An approved post goes live only where it may be shown.

Approving a held post in one room broadcast it to every live room it names,
checking only the approving room's removals: a host of another room who had
already removed it (or the original it reposts) saw it come back live until
the next page load. Real stores on both backends, the real bus and hubs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import orjson

from hubbub.pipeline.bus import LivePost, MemoryBus
from hubbub.post import Post
from hubbub.store import Ingest, open_store
from hubbub.store.chat_repo import ChatData
from hubbub.store.scope import scope
from hubbub.web.hub import Client, Hubs
from hubbub.web.rooms import Room, RoomRepo
from tests.web.conftest import make_post
from tests.web.test_room_access import in_thread, multi_tag_post

HERE, THERE = "approvedhere", "removedthere"


async def _until(client: Client, last: Post) -> list[str]:
    got: list[str] = []
    while not got or got[-1] != last.id:
        message = await asyncio.wait_for(client.queue.get(), 30)
        assert message is not None, "the client was cut off"
        got.append(orjson.loads(message)["id"])
    return got


def test_an_approval_does_not_bring_back_what_another_room_removed(db_url: str) -> None:
    post = multi_tag_post((HERE, THERE), "held, then approved")
    original = make_post(THERE, "removed there", network="bluesky", handle="a.example.com")
    other = make_post("unused", "x", network="bluesky", handle="reposter.bsky.social")
    repost = dataclasses.replace(other, text="", hashtags=(HERE, THERE), repost_of=original.id)
    last = multi_tag_post((HERE, THERE), "the last one")
    with open_store(db_url) as store:
        store.ingest([Ingest(post), Ingest(original), Ingest(repost)], "default")
        chat = ChatData(scope(store, "default"))
        chat.set_removed(THERE, post.network, post.id, "host")
        chat.set_removed(THERE, original.network, original.id, "host")

        async def run() -> tuple[list[str], list[str]]:
            bus = MemoryBus()
            hubs = Hubs(bus, RoomRepo(store, "default"))
            hubs.rooms[HERE], hubs.rooms[THERE] = Room(None, HERE), Room(None, THERE)
            here, there = (await hubs.get(HERE)).join(), (await hubs.get(THERE)).join()
            originals = {(original.network, original.id): original}
            await hubs.publish_approved(post, HERE)
            await hubs.publish_approved(repost, HERE, originals)
            await bus.publish(LivePost(last, time.time(), True))
            try:
                return await _until(here, last), await _until(there, last)
            finally:
                await hubs.stop()

        in_here, in_there = in_thread(run)
    assert in_here == [post.id, repost.id, last.id]
    assert in_there == [last.id]
