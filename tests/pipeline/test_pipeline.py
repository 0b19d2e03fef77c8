"""The pipeline on a real SQLite store: stored once, published once, per tag,
slow subscribers dropped, failing sources isolated, cursors committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubbub.formats import Context
from hubbub.pipeline import LivePost, Pipeline, Subscription
from hubbub.post import Author, Post
from hubbub.sources.base import RawItem
from hubbub.sources.sim import SimSource
from hubbub.store import Store, open_store

START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
DEADLINE = 10.0  # a safety net against hangs, never a timing assertion


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


def sim(tag: str, limit: int, seed: int = 1) -> SimSource:
    return SimSource(
        tag, rate=50.0, speed=10.0, seed=seed, limit=limit, start=START, sleep=_no_sleep
    )


class ListSource:
    """Yields fixed items, then optionally raises."""

    def __init__(self, name: str, items: list[RawItem], fail: Exception | None = None) -> None:
        self.name, self._items, self._fail = name, items, fail

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        for item in self._items:
            await asyncio.sleep(0)
            yield item
        if self._fail is not None:
            raise self._fail


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not check():
            await asyncio.sleep(0.005)


async def _drain(sub: Subscription) -> list[LivePost]:
    return [live async for live in sub]  # ends when the pipeline stops


async def test_each_new_post_is_stored_and_published_once_even_when_a_source_repeats(store) -> None:
    items = list(sim("hubchat", 120).items())
    again = list(sim("hubchat", 120).items())  # the same payloads, as after a reconnect
    pipeline = Pipeline(store, batch_size=25, flush_interval=0.01)
    sub = pipeline.subscribe()
    reader = asyncio.create_task(_drain(sub))
    await pipeline.start([ListSource("repeating", items + again[::-1] + items[:10])])
    await _until(lambda: pipeline.health()["repeating"]["state"] == "done")
    await pipeline.stop()
    published = await reader
    keys = [(live.post.network, live.post.id) for live in published]
    assert len(keys) == len(set(keys))
    own_posts = store.count()
    assert len(keys) == own_posts >= 120  # retweets also bring their (already stored) originals
    assert all(live.stored and live.entered_at > 0 for live in published)
    health = pipeline.health()["repeating"]
    assert health["errors"] == 0 and health["posts"] == 120 * 2 + 10


async def test_a_subscriber_filtered_by_tag_sees_only_that_tag(store) -> None:
    pipeline = Pipeline(store, batch_size=50, flush_interval=0.01)
    room_a = pipeline.subscribe("ChatA")  # tags compare folded: #chata, #CHATA...
    room_b = pipeline.subscribe("#chatb")
    everything = pipeline.subscribe(None)
    readers = [asyncio.create_task(_drain(s)) for s in (room_a, room_b, everything)]
    await pipeline.start([sim("chata", 80), sim("chatb", 60, seed=2)])
    await _until(lambda: all(h["state"] == "done" for h in pipeline.health().values()))
    await pipeline.stop()
    seen_a, seen_b, seen_all = [await r for r in readers]
    assert seen_a and seen_b
    assert all("chata" in {t.lower() for t in live.post.hashtags} for live in seen_a)
    assert all("chatb" in {t.lower() for t in live.post.hashtags} for live in seen_b)
    assert len(seen_a) + len(seen_b) == len(seen_all) == store.count()


async def test_a_slow_subscriber_overflows_without_blocking_others(store) -> None:
    pipeline = Pipeline(store, batch_size=20, flush_interval=0.01)
    slow = pipeline.subscribe("hubchat", maxsize=5)  # never read
    fast = pipeline.subscribe("hubchat")
    reader = asyncio.create_task(_drain(fast))
    await pipeline.start([sim("hubchat", 100)])
    await _until(lambda: pipeline.health()["sim:hubchat"]["state"] == "done")
    await pipeline.stop()
    assert len(await reader) == store.count() >= 100
    assert slow.overflowed
    assert [live async for live in slow] == []  # dropped: the client reloads from the API


async def test_a_failing_source_shows_in_health_and_others_continue(store) -> None:
    good = list(sim("hubchat", 30).items())
    secret = ConnectionError("lost https://user:hunter2@api.example/?token=abc123")
    broken = ListSource("broken", [], fail=secret)  # fails at once, every time
    flaky = ListSource("flaky", good[:3], fail=ConnectionError("reset"))  # fails after 3 items
    pipeline = Pipeline(
        store, batch_size=10, flush_interval=0.01, restart_delay=0.01, max_restarts=2
    )
    await pipeline.start([broken, flaky, sim("other", 60)])
    await _until(lambda: pipeline.health()["broken"]["state"] == "failed")
    await _until(lambda: pipeline.health()["flaky"]["restarts"] >= 3)
    await _until(lambda: pipeline.health()["sim:other"]["state"] == "done")
    await pipeline.stop()
    health = pipeline.health()
    assert health["broken"]["errors"] == 2 and health["broken"]["restarts"] == 1
    message = health["broken"]["last_error"]
    assert "ConnectionError" in message and "hunter2" not in message and "abc123" not in message
    # A source that delivers before failing is restarted, never given up on.
    assert health["flaky"]["state"] in ("connected", "backing_off")
    assert health["flaky"]["last_error"] == "ConnectionError: reset"
    assert health["sim:other"]["posts"] == 60 and health["sim:other"]["errors"] == 0
    assert store.count("#other") >= 60
    assert store.count("#hubchat") == 3  # the flaky source's repeats stored once


async def test_the_cursor_is_committed_with_the_batch(store) -> None:
    pipeline = Pipeline(store, batch_size=16, flush_interval=0.01)
    await pipeline.start([sim("hubchat", 40)])
    await _until(lambda: pipeline.health()["sim:hubchat"]["state"] == "done")
    await pipeline.stop()
    assert store.get_cursor("sim:hubchat") == "40"


async def test_bad_payloads_are_counted_and_the_rest_goes_through(store) -> None:
    good = list(sim("hubchat", 5).items())
    junk = RawItem({"hello": "world"}, Context(source="mixed"))
    pipeline = Pipeline(store, batch_size=100, flush_interval=0.01)
    await pipeline.start([ListSource("mixed", [good[0], junk, *good[1:]])])
    await _until(lambda: pipeline.health()["mixed"]["state"] == "done")
    await pipeline.stop()
    health = pipeline.health()["mixed"]
    assert health["errors"] == 1 and health["posts"] == 5 and "FormatError" in health["last_error"]
    assert store.count() == 5


async def test_web_posts_are_stored_and_published(store) -> None:
    pipeline = Pipeline(store, flush_interval=0.01)
    sub = pipeline.subscribe("hubchat")
    await pipeline.start()
    post = Post(
        network="web",
        id="web:0123abcd",
        author=Author(network="web", id="web:guest-1", handle="Ola", display_name="Ola"),
        text="Hello from the room #hubchat",
        created_at=datetime.now(UTC),
        hashtags=("hubchat",),
    )
    await pipeline.submit(post)
    got = await sub.get(timeout=DEADLINE)
    await pipeline.stop()
    assert got is not None and got.post.id == "web:0123abcd" and got.stored
    assert store.get_post("web", "web:0123abcd").text == post.text


async def test_deletions_reach_every_room(store) -> None:
    items = list(sim("hubchat", 12).items())
    bsky = next(i for i in items if i.fmt == "bluesky")
    commit = bsky.value["commit"]
    delete = {
        "did": bsky.value["did"],
        "time_us": bsky.value["time_us"] + 5_000_000,
        "kind": "commit",
        "commit": {"rev": "3lzzzzzzzzzzz", "operation": "delete",
                   "collection": commit["collection"], "rkey": commit["rkey"]},
    }  # fmt: skip
    pipeline = Pipeline(store, flush_interval=0.01)
    room = pipeline.subscribe("hubchat")
    reader = asyncio.create_task(_drain(room))
    await pipeline.start()
    for item in items:
        await pipeline.submit(item)
    await pipeline.submit(RawItem(delete, Context(source="jetstream")))
    await _until(lambda: store.count() == 11)
    await pipeline.stop()
    seen = await reader
    assert seen[-1].post.deleted and seen[-1].post.network == "bluesky"
    assert len([s for s in seen if not s.post.deleted]) == 12


class _BrokenStore(Store):
    """A real store whose writes fail, as with a full disk."""

    def ingest(self, items, workspace="default", cursor=None):  # type: ignore[override]
        raise OSError("disk full")


async def test_when_the_store_fails_posts_are_still_published_unstored(tmp_path: Path) -> None:
    real = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    broken = _BrokenStore(real.engine)
    pipeline = Pipeline(broken, flush_interval=0.01)
    sub = pipeline.subscribe()
    reader = asyncio.create_task(_drain(sub))
    await pipeline.start([sim("hubchat", 10)])
    await _until(lambda: pipeline.health()["sim:hubchat"]["state"] == "done")
    await pipeline.stop()
    seen = await reader
    real.close()
    assert len(seen) == 10 and not any(live.stored for live in seen)
    assert pipeline.stats()["store"]["failures"] >= 1
    assert "disk full" in pipeline.stats()["store"]["last_error"]


def _web_post(n: int) -> Post:
    return Post(
        network="web",
        id=f"web:batch{n:04d}",
        author=Author(network="web", id="web:guest-1", handle="Ola", display_name="Ola"),
        text=f"Post {n} #hubchat",
        created_at=datetime.now(UTC),
        hashtags=("hubchat",),
    )


async def test_default_batching_publishes_a_lone_post_without_waiting_for_more(store) -> None:
    # Adaptive batching: an item that finds the queue empty is a batch of its
    # own (no flush interval to wait out), and is published after its commit.
    pipeline = Pipeline(store)
    assert pipeline.flush_interval == 0
    sub = pipeline.subscribe("hubchat")
    await pipeline.start()
    for n in range(3):
        await pipeline.submit(_web_post(n))
        got = await sub.get(timeout=DEADLINE)
        assert got is not None and got.post.id == f"web:batch{n:04d}" and got.stored
    assert pipeline.batches == 3
    await pipeline.stop()


async def test_default_batching_groups_what_queued_up_while_busy(store) -> None:
    # Items that arrive while the batcher is busy (here: all queued before it
    # runs) go into one batch, one transaction, published in arrival order.
    pipeline = Pipeline(store, batch_size=200)
    sub = pipeline.subscribe("hubchat")
    await pipeline.start()
    for n in range(30):
        await pipeline.submit(_web_post(n))
    got = [await sub.get(timeout=DEADLINE) for _ in range(30)]
    await pipeline.stop()
    assert [g.post.id for g in got if g is not None] == [f"web:batch{n:04d}" for n in range(30)]
    assert pipeline.batches == 1 and pipeline.stats()["store"]["batches"] == 1
    assert store.count() == 30


async def test_a_restarted_replay_continues_after_the_stored_cursor(store, tmp_path: Path) -> None:
    """Run a replay to the end, then 'restart' with the cursor set back to line
    15: the new run sends only lines 16 and on, and stores nothing twice."""
    import orjson

    from hubbub.sources.replay import ReplaySource

    path = tmp_path / "capture.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(i.value) for i in sim("replayed", 30).items()) + b"\n")
    first = Pipeline(store)
    await first.start([ReplaySource(path, speed=1000.0, maxgap=0, sleep=_no_sleep)])
    name = f"replay:{path}"
    await _until(lambda: first.health()[name]["state"] == "done")
    await first.stop()
    lines = len(path.read_bytes().splitlines())
    assert store.get_cursor(name) == str(lines)
    stored = store.count()

    # Nothing new after a clean finish: the whole file is skipped.
    again = Pipeline(store)
    await again.start([ReplaySource(path, speed=1000.0, maxgap=0, sleep=_no_sleep)])
    await _until(lambda: again.health()[name]["state"] == "done")
    await again.stop()
    assert again.health()[name]["items"] == 0

    # As if the first run had stopped after line 15.
    store.set_cursor(name, "15")
    resumed = Pipeline(store)
    await resumed.start([ReplaySource(path, speed=1000.0, maxgap=0, sleep=_no_sleep)])
    await _until(lambda: resumed.health()[name]["state"] == "done")
    await resumed.stop()
    assert resumed.health()[name]["items"] == lines - 15
    assert store.count() == stored and store.get_cursor(name) == str(lines)
