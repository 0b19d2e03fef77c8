"""bluesky:jetstream against a loopback Jetstream v1 server: the recorded
capture plus generated posts, every fault the server can inject, and after
each one the stored ids equal the served ids, nothing twice, the cursor never
back. Backoff delays are read from a fake clock and compared with the schedule."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.networks.clock import FakeClock
from hubbub.pipeline import Pipeline
from hubbub.sources.bluesky import JetstreamSource
from hubbub.store import Store
from tests.loopback.jetstream_server import (
    Fault,
    JetstreamServer,
    Refusal,
    generated_posts,
    post_uri,
)
from tests.networks.connector_oracle import assert_exactly, ingest_until, stored_ids
from tests.networks.jetstream_harness import (
    NAME,
    POLICY,
    drain_until,
    events,
    first_time,
    ingest_from,
    recorded,
    source,
    sqlite_store,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from sqlite_store(tmp_path)


def assert_cursors_forward(server: JetstreamServer, store: Store) -> None:
    asked = [c.cursor for c in server.connections if c.cursor is not None]
    assert asked == sorted(asked), f"a reconnection asked for an earlier cursor: {asked}"
    stored = int(store.get_cursor(NAME) or 0)
    newest = max(e["time_us"] for e in server.log)
    assert stored == newest


async def run(server: JetstreamServer, store: Store, src: JetstreamSource) -> list[str]:
    # The first start resumes from a stored cursor at the log's first event, as
    # after any restart, so the whole log is served and is the oracle.
    return await ingest_from(store, src, first_time(server.log), server.emitted_ids())


async def test_everything_served_is_stored_once(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    async with JetstreamServer(events()) as server:
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        generated = {i for i in server.emitted_ids() if "/3gen" in i}
        assert len(generated) == 300  # and the recorded posts and reposts besides
        assert len(server.emitted_ids()) > 300
        assert_cursors_forward(server, store)
        asked = server.connections[0]
        assert asked.collections == ["app.bsky.feed.post", "app.bsky.feed.repost"]
        assert asked.path.startswith("/subscribe?")


FAULTS = [
    [Fault("cut", at=40)],
    [Fault("truncate", at=55)],
    [Fault("duplicate", at=30, span=8), Fault("duplicate", at=200, span=5)],
    [Fault("reorder", at=10), Fault("reorder", at=90), Fault("reorder", at=250)],
    [Fault("close", at=120)],
    [Fault("cut", at=20), Fault("truncate", at=60), Fault("close", at=150), Fault("cut", at=240)],
]


@pytest.mark.parametrize("faults", FAULTS, ids=lambda f: "+".join(x.kind for x in f))
async def test_faults_lose_nothing_and_store_nothing_twice(
    store: Store, faults: list[Fault]
) -> None:
    clock = FakeClock(scale=0.2)
    async with JetstreamServer(events()) as server:
        server.faults = faults
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert all(f.fired for f in faults), "a scheduled fault never fired"
        assert_exactly(stored, server.emitted_ids())
        assert_cursors_forward(server, store)
        breaks = sum(f.kind in ("cut", "truncate", "close") for f in faults)
        # Each break forces a reconnection, unless it fired on a connection the
        # client had already left (the server writes ahead of the client's reads).
        if breaks:
            assert 2 <= len(server.connections) <= 1 + breaks
        else:
            assert len(server.connections) == 1
        # A connection that delivered events reconnects at once.
        assert clock.sleeps == []
        if any(f.kind == "duplicate" for f in faults):
            assert src.duplicates >= sum(f.span for f in faults if f.kind == "duplicate")
        if any(f.kind == "truncate" for f in faults):
            assert src.bad_messages == sum(f.kind == "truncate" for f in faults)


async def test_stall_is_detected_and_replayed(store: Store) -> None:
    log = events()[-300:]  # generated posts only: the resume is inside the replay window
    clock = FakeClock(max(e["time_us"] for e in log) / 1_000_000, scale=0.05)
    async with JetstreamServer(log) as server:
        server.faults = [Fault("stall", at=70)]
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        assert 30.0 in clock.timeouts  # the silence was timed on the stall limit
        assert src.health.snapshot.reason == "no data for 30 s"
        assert len(server.connections) == 2
        assert_cursors_forward(server, store)


async def test_refusals_back_off_on_schedule(store: Store) -> None:
    clock = FakeClock(scale=0.01)  # 197 s of backoff in about 2 real seconds
    async with JetstreamServer(events(50)) as server:
        server.refusals = [
            Refusal(503),
            Refusal(502),
            Refusal(500),
            Refusal(429, {"Retry-After": "42"}),
            Refusal(429),
        ]
        src = source(server.url, clock, stall_seconds=300.0)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        http = [POLICY.http.delay(n) for n in (1, 2, 3)]  # 5, 10, 20
        # A 429 with Retry-After waits that long; the next (no header) its own schedule's 2nd step.
        expected = [*http, 42.0, POLICY.rate_limit.delay(2)]
        assert len(clock.sleeps) == len(expected)
        for slept, want in zip(clock.sleeps, expected, strict=True):
            assert abs(slept - want) <= 0.1 * want, (clock.sleeps, expected)
        assert server.attempts == 6


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


async def test_failover_to_the_next_instance_with_network_backoff(store: Store) -> None:
    clock = FakeClock(scale=0.05)
    dead = _dead_url()
    async with JetstreamServer(events(50)) as server:
        # Two dead instances, then the live one: each failure waits its step.
        src = source((dead, dead, server.url), clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        expected = [POLICY.network.delay(1), POLICY.network.delay(2)]  # 1, 2
        assert len(clock.sleeps) == 2
        for slept, want in zip(clock.sleeps, expected, strict=True):
            assert abs(slept - want) <= 0.1 * want
        assert len(server.connections) == 1


async def test_live_tail_without_cursor_then_restart_resumes(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(120)
    older, newer = log[:-60], log[-60:]
    async with JetstreamServer(older) as server:
        src = source(server.url, clock)
        # No stored cursor: the live tail. Nothing published yet is read...
        pipeline = Pipeline(store)
        await pipeline.start([src])
        async with asyncio.timeout(10):
            while not server.connections:
                await asyncio.sleep(0.02)
        assert server.connections[0].cursor is None
        server.publish(newer[:30])
        first = {u for e in newer[:30] if (u := post_uri(e))}
        async with asyncio.timeout(10):
            while not first <= set(stored_ids(store, "bluesky")):
                await asyncio.sleep(0.02)
        await pipeline.stop()
        # ... and a restarted source continues from the stored cursor.
        server.publish(newer[30:])
        src2 = source(server.url, FakeClock(scale=0.2))
        # The restart asks for the last stored event minus the rewind, and so
        # gets (again) everything from there on, older events included.
        resume = max(e["time_us"] for e in newer[:30]) - src2.rewind_us
        again = {u for e in server.log if e["time_us"] >= resume and (u := post_uri(e))}
        expected = first | again
        stored = await ingest_until(store, src2, "bluesky", expected)
        assert_exactly(stored, expected)
        assert server.connections[-1].cursor == resume


async def test_only_posts_that_match_are_kept(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    base = recorded()
    start = max(e["time_us"] for e in base) + 1_000_000
    wanted = generated_posts(base, 40, tag="hubchat", start_us=start)
    other = generated_posts(base, 40, tag="elsewhere", start_us=start + 10_000_000)
    for n, event in enumerate(other):
        event["commit"]["rkey"] = f"3oth{n:09d}"
        event["commit"]["rev"] = f"3orv{n:09d}"
    async with JetstreamServer(base + wanted + other) as server:
        src = source(server.url, clock, keep=lambda post: "hubchat" in post.hashtags)

        expected = {u for e in wanted if (u := post_uri(e))}
        stored = await ingest_from(store, src, first_time(server.log), expected)
        assert_exactly(stored, expected)
        # Events not kept still move the cursor: up to the last kept post here.
        assert int(store.get_cursor(NAME) or 0) >= max(e["time_us"] for e in wanted)


def test_bad_instance_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a WebSocket URL"):
        JetstreamSource(("http://example.org",))


async def test_a_server_that_only_replays_is_backed_off() -> None:
    """Reconnecting at once is for connections that brought something new: a
    server that resends the same events and falls silent must not be hammered."""
    clock = FakeClock(scale=0.01)
    log = events(5)[-5:]  # five posts within a second: every resume replays them all
    async with JetstreamServer(log) as server:
        src = source(server.url, clock)
        src.resume_from(str(first_time(log) + src.rewind_us))
        await drain_until(src, lambda: len(server.connections) >= 4, deadline=20)
        assert src.fresh == 5 and src.duplicates >= 10
        # The first stall (after 5 new events) reconnects at once; replays back off 1 s, 2 s.
        assert clock.sleeps[:2] == [POLICY.network.delay(1), POLICY.network.delay(2)]


@pytest.mark.parametrize("hours_later", [0.1, 30.0])
async def test_a_resume_beyond_the_replay_window_is_reported(
    store: Store, hours_later: float
) -> None:
    log = events(40)[-40:]  # generated posts, a second apart at most
    newest = max(e["time_us"] for e in log) / 1_000_000
    clock = FakeClock(newest + hours_later * 3600, scale=0.2)
    async with JetstreamServer(log) as server:
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())  # whatever the server still has
        snap = src.health.snapshot
        if hours_later > 24:
            assert snap.gaps_found == 1 and snap.gaps_backfilled == 0
            assert "older posts may be missing" in (snap.reason or "")
        else:
            assert snap.gaps_found == 0
            assert "missing" not in (snap.reason or "")
