"""RedisBus against the real Redis: two buses stand for two web processes.
Posts cross between them filtered by tag, round-trip equal, a slow subscriber
overflows alone, a lost connection is noticed and repaired, and the pipeline
runs with a RedisBus end to end on a real SQLite store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from hubbub.pipeline import LivePost, Pipeline, Subscription
from hubbub.pipeline.bus_redis import BadMessage, RedisBus, decode_live, encode_live
from hubbub.post import Author, Post
from hubbub.sources.sim import SimSource
from hubbub.store import open_store

pytestmark = pytest.mark.redis

DEADLINE = 10.0  # a safety net against hangs, never a timing assertion
START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
async def make_bus(redis_url: str) -> AsyncIterator[Callable[..., RedisBus]]:
    """Builds connected RedisBuses on a channel prefix of this test's own;
    closes them all afterwards."""
    prefix = f"hubbub-test-{uuid.uuid4().hex[:12]}"
    buses: list[RedisBus] = []

    def make(**kwargs: object) -> RedisBus:
        bus = RedisBus(redis_url, "ws1", prefix=prefix, **kwargs)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


async def connected(bus: RedisBus) -> RedisBus:
    assert await bus.wait_connected(DEADLINE), bus.health()
    return bus


def post(n: int, *tags: str, **fields: object) -> Post:
    author = Author("bluesky", f"did:plc:author{n}", f"author{n}.bsky.social")
    return Post(
        "bluesky",
        f"at://did:plc:author{n}/app.bsky.feed.post/{n}",
        author,
        f"post {n} " + " ".join(f"#{t}" for t in tags),
        START,
        hashtags=tags,
        **fields,  # type: ignore[arg-type]
    )


def live(p: Post) -> LivePost:
    return LivePost(p, 1_740_000_000.25, True)


async def take(sub: Subscription) -> Post:
    got = await sub.get(DEADLINE)
    assert got is not None, f"nothing arrived (overflowed={sub.overflowed})"
    return got.post


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not check():
            await asyncio.sleep(0.01)


async def test_a_post_published_on_one_bus_reaches_subscribers_of_both_by_tag(make_bus) -> None:
    a, b = await connected(make_bus()), await connected(make_bus())
    a_all, a_chat = a.subscribe(), a.subscribe("#HubChat")
    b_chat, b_other = b.subscribe("hubchat"), b.subscribe("OTHER")
    chat1, other, chat2 = post(1, "HUBCHAT"), post(2, "other"), post(3, "HubChat", "hubchat")

    for p in (chat1, other, chat2):
        await a.publish(live(p))

    # Order is kept, so "the next one is X" also proves nothing else came between.
    assert [await take(a_all) for _ in range(3)] == [chat1, other, chat2]
    assert [await take(a_chat), await take(a_chat)] == [chat1, chat2]  # once, not echoed back
    assert [await take(b_chat), await take(b_chat)] == [chat1, chat2]
    assert await take(b_other) == other
    assert a_chat.qsize() == b_chat.qsize() == b_other.qsize() == 0

    # And the other way: b's post reaches a's subscribers.
    chat4 = post(4, "hubchat")
    await b.publish(live(chat4))
    assert await take(a_chat) == chat4
    assert await take(b_chat) == chat4
    await until(lambda: a.health()["received"] == 1)
    assert b.health()["received"] == 3
    assert a.health()["sent"] == 3 and a.health()["connected"]


async def test_a_live_post_round_trips_losslessly(make_bus) -> None:
    a, b = await connected(make_bus()), await connected(make_bus())
    sub = b.subscribe("chat")
    author = Author(
        "mastodon",
        "https://example.social/users/ana",
        "ana@example.social",
        display_name='Ana 🐝 "quotes" <b>',
        followers=12,
        following=0,
        posts_count=3456,
        created_at=datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        verified=False,
        avatar_url="https://example.social/a.png",
        description="line\nbreak",
        url="https://example.social/@ana",
    )
    full = Post(
        "mastodon",
        "https://example.social/users/ana/statuses/1",
        author,
        "Ünïcode ✓ \u2028 and a lone \\ud800 escape #Chat",
        datetime(2025, 3, 1, 18, 0, 0, 123456, tzinfo=UTC),
        url="https://example.social/@ana/1",
        langs=("en", "de"),
        reply_to="https://example.social/users/bo/statuses/0",
        quote_of="q",
        repost_of=None,
        conversation_id="c",
        hashtags=("Chat",),
        mentions=("bo@example.social",),
        links=("https://example.com/?a=1&b=2",),
        media_count=2,
        metrics={"likes": 3, "reposts": 0},
        place="Berlin",
        sensitive=True,
        content_warning="cw",
        source="Hubbub",
        edit_ids=("1", "2"),
        version_id="2",
        edited_at=datetime(2025, 3, 1, 18, 5, tzinfo=UTC),
        withheld="DE",
        seen_at=datetime(2025, 3, 1, 18, 0, 1, 5, tzinfo=UTC),
        aliases=("example.social/1",),
        embedded=True,
        matching_rules=("rule-1",),
    )
    tombstone = post(9, deleted=True)  # no hashtags: every room gets a deletion

    await a.publish(LivePost(full, 1_740_000_000.123456, False))
    await a.publish(LivePost(tombstone, 2.5, True))

    got = await sub.get(DEADLINE)
    assert got == LivePost(full, 1_740_000_000.123456, False)
    assert got is not None and got.post.author == author
    gone = await sub.get(DEADLINE)
    assert gone == LivePost(tombstone, 2.5, True) and gone.post.deleted


def test_messages_that_are_not_live_posts_are_refused() -> None:
    good = encode_live(live(post(1, "x")), origin="o")
    assert decode_live(good) == ("o", live(post(1, "x")))
    for bad in (b"{", b"[]", b'{"v": 2}', b'{"v": 1, "entered_at": 1, "post": {"id": 1}}'):
        with pytest.raises(BadMessage):
            decode_live(bad)


async def test_a_bad_message_on_the_channel_is_counted_and_skipped(make_bus, redis_url) -> None:
    b = await connected(make_bus())
    sub = b.subscribe()
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.publish(b.channel, b"not json at all")
        await client.publish(b.channel, encode_live(live(post(1, "t")), origin="elsewhere"))
    finally:
        await client.aclose()
    assert await take(sub) == post(1, "t")
    assert b.health()["bad_messages"] == 1
    assert "bad message" in (b.health()["last_error"] or "")


async def test_a_slow_subscriber_overflows_without_holding_up_the_others(make_bus) -> None:
    a, b = await connected(make_bus()), await connected(make_bus())
    slow = b.subscribe("hubchat", maxsize=3)  # never read until the end
    fast = b.subscribe("hubchat")
    local_slow = a.subscribe("hubchat", maxsize=3)
    posts = [post(n, "hubchat") for n in range(50)]

    for p in posts:
        await a.publish(live(p))  # returns although two subscribers are stuck

    assert [await take(fast) for _ in posts] == posts
    assert slow.overflowed and local_slow.overflowed
    assert [x async for x in slow] == []  # ended: the room would reload from the API
    assert b.subscribers() == 1 and a.subscribers() == 0
    assert b.health()["overflows"] == 1


async def test_a_lost_connection_is_reconnected_and_subscribers_told_they_missed_posts(
    make_bus, redis_url
) -> None:
    a, b = await connected(make_bus()), await connected(make_bus(reconnect_delay=0.05))
    before = b.subscribe("hubchat")
    name = b.health()["client_name"]
    admin = aioredis.Redis.from_url(redis_url)
    try:
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c.get("name") == name]
        assert ids, clients
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()

    # The old subscription ends as overflowed (posts may have been missed)...
    assert [x async for x in before] == [] and before.overflowed
    await until(lambda: b.health()["gaps"] == 1 and b.health()["connected"])
    assert b.health()["reconnects"] >= 1 and b.health()["reader"] == "connected"
    # ...and a new one gets posts again.
    after = b.subscribe("hubchat")
    await a.publish(live(post(1, "hubchat")))
    assert await take(after) == post(1, "hubchat")


async def test_with_redis_away_publishing_neither_blocks_nor_fails() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", prefix="nowhere", reconnect_delay=0.05, outbox_size=5)
    try:
        local = bus.subscribe()
        for n in range(8):
            await bus.publish(live(post(n, "t")))
        assert [await take(local) for _ in range(8)] == [post(n, "t") for n in range(8)]
        await until(lambda: bus.health()["reader"] == "backing_off")
        health = bus.health()
        assert not health["connected"] and health["last_error"]
        assert health["outbox"] <= 5 and health["dropped"] >= 3 and health["sent"] == 0
    finally:
        await bus.close()  # does not wait for a Redis that is not there
    assert bus.health()["reader"] == "closed"


@pytest.fixture
def sqlite_store(tmp_path: Path):
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def test_the_pipeline_publishes_through_redis_to_another_process(
    make_bus, sqlite_store
) -> None:
    web = await connected(make_bus())  # a web process that runs no pipeline
    room = web.subscribe("hubchat")
    bus = await connected(make_bus())
    pipeline = Pipeline(sqlite_store, "ws1", batch_size=20, bus=bus)
    source = SimSource(
        "hubchat", rate=50.0, speed=10.0, seed=3, limit=60, start=START, sleep=_no_sleep
    )
    await pipeline.start([source])
    await until(lambda: pipeline.health()["sim:hubchat"]["state"] == "done")
    await until(lambda: sqlite_store.count(workspace="ws1") >= 60)
    await pipeline.stop()  # flushes and closes the pipeline's RedisBus
    stored = sqlite_store.count(workspace="ws1")

    got: list[LivePost] = []
    while len(got) < stored:
        nxt = await room.get(DEADLINE)
        assert nxt is not None, f"{len(got)} of {stored} arrived; {web.health()}"
        got.append(nxt)
    assert room.qsize() == 0
    keys = [(x.post.network, x.post.id) for x in got]
    assert len(set(keys)) == len(keys) == stored
    assert all(x.stored and x.entered_at > 0 for x in got)
    assert all("hubchat" in {t.lower() for t in x.post.hashtags} for x in got)
    assert bus.health()["sent"] == web.health()["received"] == stored


async def test_a_repost_is_routed_by_its_originals_tags_across_processes(make_bus) -> None:
    # A Bluesky repost has no text or hashtags of its own; the pipeline sets
    # also_tags from its original (pipeline/repost_tags.py) and the other
    # process's room must be reached by them.
    a, b = await connected(make_bus()), await connected(make_bus())
    sub = b.subscribe("chat")
    repost = post(7, repost_of="at://did:plc:author1/app.bsky.feed.post/1")
    sent = LivePost(repost, 3.0, True, frozenset({"chat"}))
    await a.publish(sent)
    assert await sub.get(DEADLINE) == sent
    assert decode_live(encode_live(sent, "o")) == ("o", sent)
    with pytest.raises(BadMessage):
        decode_live(encode_live(sent).replace(b'"also_tags":["chat"]', b'"also_tags":[1]'))
