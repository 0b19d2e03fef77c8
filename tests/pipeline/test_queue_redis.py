"""RedisRawQueue against the real Redis: items put are consumed by a group
and round-trip equal; an unacked item of a consumer that died is claimed by
another; acked items are not delivered again; a bad entry and a poison entry
are dead-lettered, not fatal; workers built from the pipeline's stages
store and publish what sources queued."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from hubbub.formats import Context
from hubbub.pipeline import Batch, LivePost, Normalise, Publish, StoreStage
from hubbub.pipeline.bus_redis import RedisBus
from hubbub.pipeline.queue_redis import (
    Ack,
    BadEntry,
    RedisRawQueue,
    decode_raw,
    encode_raw,
)
from hubbub.pipeline.stages import Entry
from hubbub.sources.base import RawItem
from hubbub.sources.sim import SimSource
from hubbub.store import Store, open_store

pytestmark = pytest.mark.redis

DEADLINE = 10.0  # a safety net against hangs, never a timing assertion
FETCHED = datetime(2025, 3, 1, 18, 0, 0, 250001, tzinfo=UTC)

Consumer = AsyncIterator[tuple[RawItem, Ack]]


@pytest.fixture
async def make_queue(redis_url: str) -> AsyncIterator[Callable[..., RedisRawQueue]]:
    """Queues on a key prefix of this test's own; keys deleted afterwards."""
    prefix = f"hubbub-test-{uuid.uuid4().hex[:12]}"
    queues: list[RedisRawQueue] = []

    def make(**kwargs: object) -> RedisRawQueue:
        queue = RedisRawQueue(redis_url, "ws1", prefix=prefix, **kwargs)  # type: ignore[arg-type]
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        await queue.close()
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def item(n: int, **fields: object) -> RawItem:
    value = {"kind": "commit", "n": n, "text": f"post {n}"}
    return RawItem(value, Context(source="jetstream", fetched_at=FETCHED), **fields)  # type: ignore[arg-type]


async def take(consumer: Consumer, n: int) -> list[tuple[RawItem, Ack]]:
    out = []
    async with asyncio.timeout(DEADLINE):
        while len(out) < n:
            out.append(await anext(consumer))
    return out


def test_raw_items_encode_losslessly_and_junk_is_refused() -> None:
    odd = [
        item(1),
        item(2, raw=b'{"kind": "commit", "n": 2}\n', cursor="1740000000000001", fmt="bluesky"),
        item(3, raw=b"\xff\xfe not utf-8 \x00"),
        RawItem({"id": 2**80, "lone": "\ud800", "f": 0.1, "neg": -0.0}, Context("x", FETCHED)),
        RawItem(["a", None, True, 1.5e300], Context("mastodon:home", FETCHED, "example.social")),
        RawItem("just a string", Context(), "auto", b"", None),
    ]
    for original in odd:
        back = decode_raw(encode_raw(original))
        assert back == original
        if original.raw is not None:  # body() of a >64-bit int value fails on its own
            assert back.body() == original.body()
    for junk in (b"nope", b"{}", b'{"v": 1, "source": "s"}', b'{"v": 1, "source": "s",'):
        with pytest.raises(BadEntry):
            decode_raw(junk)


async def test_items_put_are_consumed_by_a_group_and_round_trip(make_queue) -> None:
    queue = make_queue()
    sent = [item(n, cursor=str(n)) for n in range(5)] + [item(5, raw=b"\x80binary")]
    await queue.put(sent[0])
    await queue.put_many(sent[1:])
    consumer = queue.consume("pipeline", "worker-1")
    try:
        got = await take(consumer, len(sent))
    finally:
        await consumer.aclose()
    assert [i for i, _ack in got] == sent
    assert await queue.pending("pipeline") == len(sent)  # delivered, not acked yet
    for _item, ack in got:
        await ack()
    assert await queue.pending("pipeline") == 0
    assert await queue.lag("pipeline") == 0
    health = queue.health()
    assert health["put"] == health["delivered"] == health["acked"] == len(sent)
    assert health["state"] == "ok" and health["dead"] == 0


async def test_each_group_gets_every_item_and_consumers_of_a_group_share_them(make_queue) -> None:
    queue = make_queue()
    await queue.put_many([item(n) for n in range(6)])
    # Items queued before any group existed are kept: groups start at the beginning.
    for group in ("pipeline", "archive"):
        consumer = queue.consume(group, "w")
        try:
            assert [i.value["n"] for i, _ in await take(consumer, 6)] == list(range(6))
        finally:
            await consumer.aclose()


async def test_an_item_a_dead_consumer_did_not_ack_is_claimed_by_another(make_queue) -> None:
    queue = make_queue(claim_idle=0.2)
    await queue.put_many([item(n) for n in range(3)])
    doomed = queue.consume("pipeline", "worker-1")
    taken = await take(doomed, 3)
    await taken[0][1]()  # stored and acked the first...
    await doomed.aclose()  # ...then died with two unacked

    survivor = queue.consume("pipeline", "worker-2")
    try:
        claimed = await take(survivor, 2)
        assert [i for i, _ in claimed] == [item(1), item(2)]
        for _item, ack in claimed:
            await ack()
        assert await queue.pending("pipeline") == 0
        assert queue.health()["claimed"] == 2
        # Nothing else comes back: the next delivery is a new item.
        await queue.put(item(99))
        ((nxt, ack),) = await take(survivor, 1)
        assert nxt == item(99)
        await ack()
    finally:
        await survivor.aclose()


async def test_acked_items_are_not_delivered_again(make_queue) -> None:
    queue = make_queue(claim_idle=0.05)
    await queue.put_many([item(n) for n in range(4)])
    first = queue.consume("pipeline", "worker-1")
    for _item, ack in await take(first, 4):
        await ack()
    await first.aclose()

    # The same consumer restarting (own pending first), another consumer
    # (claims), both see only what is new.
    again, other = queue.consume("pipeline", "worker-1"), queue.consume("pipeline", "worker-2")
    try:
        await queue.put(item(10))
        ((got, ack),) = await take(again, 1)
        assert got == item(10)
        await ack()
        await queue.put(item(11))
        ((got, ack),) = await take(other, 1)
        assert got == item(11)
        await ack()
    finally:
        await again.aclose()
        await other.aclose()
    assert queue.health()["claimed"] == 0
    assert await queue.pending("pipeline") == 0


async def test_a_restarted_consumer_gets_its_own_pending_items_first(make_queue) -> None:
    queue = make_queue(claim_idle=60.0)  # no one else would claim them for a minute
    await queue.put_many([item(n) for n in range(3)])
    crashed = queue.consume("pipeline", "worker-1")
    await take(crashed, 2)  # took two, acked none, crashed
    await crashed.aclose()
    restarted = queue.consume("pipeline", "worker-1")
    try:
        got = await take(restarted, 3)
    finally:
        await restarted.aclose()
    assert [i.value["n"] for i, _ in got] == [0, 1, 2]


async def test_a_bad_entry_is_reported_and_skipped(make_queue, redis_url) -> None:
    queue = make_queue()
    await queue.put(item(1))
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.xadd(queue.stream, {"item": b"{not json"})
        await client.xadd(queue.stream, {"something": b"else"})
    finally:
        await client.aclose()
    await queue.put(item(2))
    consumer = queue.consume("pipeline", "worker-1")
    try:
        got = await take(consumer, 2)
    finally:
        await consumer.aclose()
    assert [i for i, _ in got] == [item(1), item(2)]
    for _item, ack in got:
        await ack()
    health = queue.health()
    assert health["dead"] == 2 and "bad entry" in (health["last_error"] or "")
    assert await queue.pending("pipeline") == 0
    no_field, not_json = await queue.dead_letters()  # newest first
    assert no_field["reason"] == "bad entry: no 'item' field" and no_field["item"] == ""
    assert not_json["group"] == "pipeline" and not_json["item"] == "{not json"
    assert not_json["reason"].startswith("bad entry: not JSON")


async def test_an_item_that_keeps_killing_its_workers_is_dead_lettered(make_queue) -> None:
    queue = make_queue(claim_idle=0.05, max_deliveries=2)
    await queue.put(item(1))
    for n in range(2):  # delivered twice, each worker dies holding it
        worker = queue.consume("pipeline", f"worker-{n}")
        await take(worker, 1)
        await worker.aclose()
    last = queue.consume("pipeline", "worker-last")
    nxt = asyncio.create_task(anext(last))  # claims item 1, finds it poison, waits on
    try:
        async with asyncio.timeout(DEADLINE):
            while queue.health()["dead"] == 0:
                await asyncio.sleep(0.01)
        await queue.put(item(2))
        got, ack = await asyncio.wait_for(nxt, DEADLINE)
        assert got == item(2)  # the poison item was never handed out a third time
        await ack()
    finally:
        nxt.cancel()
        await asyncio.gather(nxt, return_exceptions=True)
        await last.aclose()
    (dead,) = await queue.dead_letters()
    assert dead["reason"] == "delivered 3 times without an ack"
    assert decode_raw(dead["item"].encode()) == item(1)
    assert await queue.pending("pipeline") == 0


async def test_with_redis_away_consuming_backs_off_and_reports_it() -> None:
    queue = RedisRawQueue("redis://127.0.0.1:1/0", reconnect_delay=0.05)
    consumer = queue.consume("pipeline", "w")
    task = asyncio.create_task(anext(consumer))
    try:
        async with asyncio.timeout(DEADLINE):
            while queue.health()["state"] != "backing_off":
                await asyncio.sleep(0.01)
        assert queue.health()["last_error"]
        assert not task.done()  # still trying, not crashed
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await consumer.aclose()
        await queue.close()


async def run_worker(
    queue: RedisRawQueue, store: Store, bus: RedisBus, group: str, consumer: str
) -> None:
    """A pipeline worker as docs/scale.md describes it: the pipeline's own
    stages over each batch read from the queue, acked once stored."""
    normalise, store_stage, publish = Normalise(), StoreStage(store, "ws1"), Publish(bus)
    async for pairs in queue.consume_batches(group, consumer):
        batch: list[LivePost] = Batch(
            entries=[Entry(item, time.time(), item.ctx.source) for item, _ack in pairs]
        )
        failures = store_stage.stats.failures
        for stage in (normalise, store_stage, publish):
            batch = await stage(batch)
        if store_stage.stats.failures == failures:  # else: left pending, claimed again later
            await queue.ack(group, *(ack.id for _item, ack in pairs))


async def test_workers_store_and_publish_what_sources_queued(
    make_queue, redis_url, tmp_path
) -> None:
    queue = make_queue(count=25)
    items = list(
        SimSource("hubchat", rate=50.0, speed=10.0, seed=5, limit=80, start=FETCHED).items()
    )
    store = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    prefix = queue.stream.split(":")[0]
    web = RedisBus(redis_url, "ws1", prefix=prefix)  # a web process following the room
    workers_bus = RedisBus(redis_url, "ws1", prefix=prefix)
    workers = []
    try:
        assert await web.wait_connected(DEADLINE)
        room = web.subscribe("hubchat")
        await queue.put_many(items)
        workers = [
            asyncio.create_task(run_worker(queue, store, workers_bus, "pipeline", f"w{n}"))
            for n in range(2)
        ]
        async with asyncio.timeout(DEADLINE):
            while queue.health()["acked"] < len(items):
                await asyncio.sleep(0.01)
        stored = store.count(workspace="ws1")
        assert stored >= len(items)  # retweets also bring their originals
        got = []
        while len(got) < stored:
            live = await room.get(DEADLINE)
            assert live is not None, f"{len(got)} of {stored}; {web.health()}"
            got.append((live.post.network, live.post.id))
        assert len(set(got)) == len(got)
        assert await queue.pending("pipeline") == 0
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await workers_bus.close()
        await web.close()
        store.close()
