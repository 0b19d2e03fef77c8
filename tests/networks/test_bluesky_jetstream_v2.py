"""bluesky:jetstream against a loopback Jetstream v2 server (and a v1-only one):
the v2 endpoint and sub-protocol, v1 fallback per instance, seq cursors with
inclusive replay, CursorTooOld, failover between instances by time, and the
frames a hostile or broken server can send. After each run the stored ids equal
the served ids, nothing twice. Backoff is read from a fake clock."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from hubbub.formats import Context
from hubbub.formats import bluesky as bluesky_format
from hubbub.networks.bluesky_jetstream import BadEvent
from hubbub.networks.bluesky_jetstream_v2 import (
    Event,
    ServerError,
    Skipped,
    decode_frame,
    events_url,
    floor_seq,
    instance_of,
)
from hubbub.networks.clock import FakeClock
from hubbub.pipeline import Pipeline
from hubbub.sources.bluesky import JetstreamSource
from hubbub.sources.jetstream_cursor import JetstreamCursor
from hubbub.store import Store, open_store
from hubbub.store import schema as t
from tests.loopback.jetstream_server import Fault, JetstreamServer, Refusal, post_uri
from tests.loopback.jetstream_v2_server import (
    ENDPOINT,
    HOSTILE,
    POST,
    REPOST,
    Entry,
    JetstreamV2Server,
    payload_of,
)
from tests.networks.connector_oracle import DEADLINE, assert_exactly, ingest_until, stored_ids
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


async def run(server: JetstreamV2Server, store: Store, src: JetstreamSource) -> list[str]:
    # A plain time_us cursor, as Hubbub stored before it spoke v2: it must still be read.
    log = [e.event for e in server.log]
    return await ingest_from(store, src, first_time(log), server.emitted_ids())


async def run_until(store: Store, src: JetstreamSource, done: Callable[[], bool]) -> None:
    pipeline = Pipeline(store)
    await pipeline.start([src])
    try:
        async with asyncio.timeout(DEADLINE):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        await pipeline.stop()


def stored_cursor(store: Store) -> JetstreamCursor:
    cursor = JetstreamCursor.load(store.get_cursor(NAME))
    assert cursor is not None, store.get_cursor(NAME)
    return cursor


class WatchedClock(FakeClock):
    """A fake clock that notes how many requests a server had seen at each sleep."""

    def __init__(self, server: JetstreamV2Server, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server = server
        self.requests_at_sleep: list[int] = []

    async def sleep(self, seconds: float) -> None:
        self.requests_at_sleep.append(len(self.server.requests))
        await super().sleep(seconds)


def deleted(store: Store, uri: str) -> bool | None:
    p = t.posts
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(p.c.deleted).where(p.c.post_id == uri)).first()
    return None if row is None else bool(row[0])


def utc(entry: Entry) -> str:
    """An event's time as the health line shows it."""
    return datetime.fromtimestamp(entry.event["time_us"] / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")


def host(url: str) -> str:
    return url.removeprefix("ws://")


# -- the live tail over v2 ----------------------------------------------------------


async def test_everything_served_over_v2_is_stored_once_and_deletions_apply(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events()
    target = next(e for e in log if "/3gen" in (post_uri(e) or ""))
    deletion = copy.deepcopy(target)
    deletion["time_us"] = max(e["time_us"] for e in log) + 1000
    deletion["commit"] = {
        k: v for k, v in target["commit"].items() if k in ("collection", "rkey")
    } | {"operation": "delete", "rev": "3revdelete"}
    async with JetstreamV2Server([*log, deletion]) as server:
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        uri = post_uri(target)
        assert uri is not None
        await run_until(store, src, lambda: deleted(store, uri) is True)

        conn = server.connections[0]
        assert conn.path.startswith(ENDPOINT + "?")
        assert conn.subprotocol == "xrpc.v1.json"
        assert conn.params["kinds"] == ["commit"]
        assert conn.params["collections"] == [POST, REPOST]
        assert conn.params["maxMessageSizeBytes"] == [str(2 * 1024 * 1024)]
        assert conn.cursor is not None and conn.cursor >= 10**15  # the stored time, as a time
        assert not any(r.startswith("/subscribe") for r in server.requests)
        # The stored cursor names the protocol, the instance and the seq, beside the time.
        cursor = stored_cursor(store)
        assert cursor.seq == server.log[-1].seq
        assert cursor.instance == instance_of(server.url)
        assert cursor.time_us == deletion["time_us"]
        assert src.health.snapshot.via == f"jetstream v2 at {host(server.url)}"
        assert clock.sleeps == []


FAULTS = [
    [Fault("cut", at=40)],
    [Fault("duplicate", at=30, span=8), Fault("duplicate", at=200, span=5)],
    [Fault("truncate", at=55)],
    [Fault("error", at=70)],
    [Fault("info", at=10), Fault("unknown", at=20)],
    [Fault("binary", at=45)],
    [Fault("huge", at=60)],
    [Fault("cut", at=20), Fault("error", at=90), Fault("duplicate", at=150), Fault("cut", at=240)],
]
BREAKS = ("cut", "truncate", "error", "binary", "huge")


@pytest.mark.parametrize("faults", FAULTS, ids=lambda f: "+".join(x.kind for x in f))
async def test_v2_faults_lose_nothing_and_store_nothing_twice(
    store: Store, faults: list[Fault]
) -> None:
    clock = FakeClock(scale=0.2)
    async with JetstreamV2Server(events()) as server:
        server.faults = faults
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert all(f.fired for f in faults), "a scheduled fault never fired"
        assert_exactly(stored, server.emitted_ids())
        asked = [c.cursor for c in server.connections]
        breaks = sum(f.kind in BREAKS for f in faults)
        if breaks:
            assert 2 <= len(server.connections) <= 1 + breaks
            # Reconnections ask the same instance for a seq (inclusive: the
            # last event comes again and is dropped), never going back.
            resumed = asked[1:]
            assert all(c is not None and c < 10**15 for c in resumed), asked
            assert resumed == sorted(resumed)
            assert src.duplicates >= len(resumed)
        else:
            assert len(server.connections) == 1
        assert clock.sleeps == []  # a connection that delivered reconnects at once
        kinds = {f.kind for f in faults}
        if "duplicate" in kinds:
            assert src.duplicates >= sum(f.span for f in faults if f.kind == "duplicate")
        if kinds & {"truncate", "binary"}:
            assert src.bad_messages == 1
        if "unknown" in kinds:
            assert src.skipped >= 2
        if "error" in kinds:
            assert src.server_errors and all("ConsumerTooSlow" in e for e in src.server_errors)
            for shown in [*src.server_errors, src.health.snapshot.reason or ""]:
                # Hostile text from the server is escaped, one line, never raw.
                assert "\x1b" not in shown and "\u202e" not in shown and "\n" not in shown
        assert stored_cursor(store).seq == server.log[-1].seq


async def test_an_unreadable_event_is_passed_over_and_the_stream_goes_on(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    async with JetstreamV2Server(events(100)) as server:
        server.faults = [Fault("broken", at=30), Fault("cut", at=60)]
        src = source(server.url, clock)
        store.set_cursor(NAME, str(first_time([e.event for e in server.log]) + src.rewind_us))
        last = server.log[-1].seq
        await run_until(store, src, lambda: stored_cursor(store).seq == last)
        (broken,) = server.broken
        lost = post_uri(broken.event)
        assert lost is not None
        assert_exactly(stored_ids(store, "bluesky"), server.emitted_ids() - {lost})
        assert src.skipped >= 1
        # The reconnection after the cut resumed after it, from the last event read.
        assert len(server.connections) == 2, [(c.cursor, c.sent) for c in server.connections]
        resumed = server.connections[1].cursor
        assert resumed is not None and broken.seq < resumed < 10**15


async def test_restart_resumes_by_seq_on_the_same_instance(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(120)
    older, newer = log[:-60], log[-60:]
    async with JetstreamV2Server(older) as server:
        src = source(server.url, clock)
        stored = await run(server, store, src)
        assert_exactly(stored, server.emitted_ids())
        last = stored_cursor(store).seq
        assert last == server.log[-1].seq
        server.publish(newer)  # posted while nothing runs
        src2 = source(server.url, FakeClock(scale=0.2))
        stored = await ingest_until(store, src2, "bluesky", server.emitted_ids())
        assert_exactly(stored, server.emitted_ids())
        assert server.connections[-1].cursor == last  # inclusive: the last one comes again...
        assert src2.duplicates == 1  # ... and is dropped by its seq


# -- telling v1 and v2 apart ----------------------------------------------------


async def test_a_v1_only_instance_is_spoken_v1_and_remembered(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    async with JetstreamServer(events(60)) as server:
        server.faults = [Fault("cut", at=20)]
        src = source(server.url, clock)
        stored = await ingest_from(store, src, first_time(server.log), server.emitted_ids())
        assert_exactly(stored, server.emitted_ids())
        # One v2 probe (answered 404), then v1 on every connection, the reconnection too.
        assert len(server.probes) == 1 and server.probes[0].startswith(ENDPOINT + "?")
        assert len(server.connections) == 2, [(c.cursor, c.sent) for c in server.connections]
        assert all(c.path.startswith("/subscribe?") for c in server.connections)
        assert src.protocols == {instance_of(server.url): "v1"}
        assert src.health.snapshot.via == f"jetstream v1 at {host(server.url)}"
        assert (store.get_cursor(NAME) or "").isdigit()  # a v1 cursor is a plain time
        assert clock.sleeps == []  # "no such endpoint" is an answer, not a failure


@pytest.mark.parametrize("status", [404, 405, 501, 503, 400])
async def test_which_refusals_mean_no_v2_here(status: int) -> None:
    async with JetstreamV2Server(events(5)) as server:
        clock = WatchedClock(server, scale=0.01)
        server.refusals = [Refusal(status)]
        src = source(server.url, clock)
        await drain_until(src, lambda: len(server.requests) >= 2)
        second = server.requests[1]
        if status in (404, 405, 501):
            # v1 asked at once: "no such endpoint" is an answer, not a failure.
            assert second.startswith("/subscribe")
            assert src.protocols == {instance_of(server.url): "v1"}
            assert 1 not in clock.requests_at_sleep
        else:
            assert second.startswith(ENDPOINT)  # still v2, after backing off
            assert src.protocols == {}
            assert clock.requests_at_sleep[0] == 1
            assert clock.sleeps[0] == POLICY.http.delay(1)


@pytest.mark.parametrize("answer", ["none", "evil.v9"])
async def test_the_sub_protocol_answer_is_checked(store: Store, answer: str) -> None:
    clock = FakeClock(scale=0.01)
    async with JetstreamV2Server(events(30), subprotocol_answer=answer) as server:
        src = source(server.url, clock)
        if answer == "none":
            # No answer is the lexicon's default framing: accepted.
            stored = await run(server, store, src)
            assert_exactly(stored, server.emitted_ids())
            return
        # An answer the client did not offer fails the connection (RFC 6455 §4.1).
        await drain_until(src, lambda: server.attempts >= 3)
        assert src.fresh == 0
        assert clock.sleeps[:2] == [POLICY.network.delay(1), POLICY.network.delay(2)]
        assert "subprotocol" in (src.health.snapshot.reason or "")


# -- cursors that the server no longer has, and failover ----------------------------


async def test_cursor_too_old_reports_the_hole_and_keeps_what_is_left(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(120)[-120:]  # generated posts only, 20 ms apart
    async with JetstreamV2Server(log, floor=61) as server:
        src = source(server.url, clock)
        old = server.log[9]
        gone = JetstreamCursor(old.event["time_us"], old.seq, instance_of(server.url))
        store.set_cursor(NAME, gone.dump())
        expected = server.emitted_ids(from_seq=61)
        stored = await ingest_until(store, src, "bluesky", expected)
        assert_exactly(stored, expected)
        status, body = server.answers[0]
        assert status == 400 and orjson.loads(body)["error"] == "CursorTooOld"
        # The seq was refused, the time was taken (and clamped): no loop, no wait.
        assert server.attempts == 2
        (conn,) = server.connections
        assert conn.cursor is not None and conn.cursor >= 10**15
        assert clock.sleeps == []
        snap = src.health.snapshot
        assert snap.gaps_found == 1 and snap.gaps_backfilled == 0
        reason = snap.reason or ""
        assert "cursor too old" in reason and "seq 10 to 61" in reason, reason
        assert f"lost, {utc(old)} to {utc(server.log[60])} UTC" in reason, reason
        assert "bluesky:search" in reason
        assert stored_cursor(store).seq == server.log[-1].seq


async def test_a_time_older_than_kept_is_clamped_and_the_hole_reported(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(120)[-120:]
    async with JetstreamV2Server(log, floor=61) as server:
        src = source(server.url, clock)
        # A time cursor (as stored by v1), older than what this instance keeps.
        store.set_cursor(NAME, str(server.log[9].event["time_us"]))
        expected = server.emitted_ids(from_seq=61)
        stored = await ingest_until(store, src, "bluesky", expected)
        assert_exactly(stored, expected)
        assert server.attempts == 1 and not server.answers  # a time is clamped, not refused
        snap = src.health.snapshot
        assert snap.gaps_found == 1 and snap.gaps_backfilled == 0
        reason = snap.reason or ""
        assert "no longer keeps" in reason and "starting at seq 61" in reason, reason
        assert f"lost, {utc(server.log[9])} to {utc(server.log[60])} UTC" in reason, reason


async def test_a_server_that_always_says_too_old_is_backed_off() -> None:
    clock = FakeClock(scale=0.01)
    async with JetstreamV2Server(events(5), too_old_always=True) as server:
        src = source(server.url, clock)
        src.resume_from(JetstreamCursor(2 * 10**15, 7, instance_of(server.url)).dump())
        await drain_until(src, lambda: server.attempts >= 5)
        asked = [r for r in server.requests]
        assert "cursor=7" in asked[0]  # the seq
        assert f"cursor={2 * 10**15 - src.rewind_us}" in asked[1]  # then the time
        assert "cursor=" not in asked[2]  # then the live tail; then backing off
        assert clock.sleeps[:2] == [POLICY.http.delay(1), POLICY.http.delay(2)]
        assert src.health.snapshot.gaps_found == 1


async def test_failover_to_another_instance_resumes_by_time(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(150)
    async with (
        JetstreamV2Server(log, accept_limit=1) as first,
        JetstreamV2Server(log, seq_offset=50_000) as second,
    ):
        first.faults = [Fault("cut", at=60)]
        src = source((first.url, second.url), clock)
        stored = await run(first, store, src)
        assert_exactly(stored, first.emitted_ids())
        # The first instance's seqs mean nothing on the second: it was asked by time.
        (conn,) = second.connections
        assert conn.cursor is not None and conn.cursor >= 10**15
        assert src.duplicates >= 1  # the rewound overlap, dropped by record identity
        assert clock.sleeps == [POLICY.http.delay(1)]  # the first refused once (503)
        cursor = stored_cursor(store)
        assert cursor.instance == instance_of(second.url) and cursor.seq > 50_000


async def test_a_stored_seq_of_another_instance_is_not_sent_here(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    log = events(60)
    async with JetstreamV2Server(log) as server:
        src = source(server.url, clock)
        elsewhere = JetstreamCursor(first_time(log) + src.rewind_us, 3, "wss://jetstream.example")
        store.set_cursor(NAME, elsewhere.dump())
        stored = await ingest_until(store, src, "bluesky", server.emitted_ids())
        assert_exactly(stored, server.emitted_ids())
        assert server.connections[0].cursor == first_time(log)


# -- the wire, frame by frame -----------------------------------------------------


def _v2(event: dict[str, Any], seq: int = 42) -> str:
    kind, payload = payload_of(Entry(seq, event))
    body = {"$type": f"network.bsky.jetstream.subscribeEvents#{kind}", **payload}
    return orjson.dumps({"$type": "message", "payload": body}).decode()


def test_a_v2_commit_maps_to_the_same_post_as_v1() -> None:
    ctx = Context(source=NAME, fetched_at=datetime.now(UTC))
    checked = 0
    for event in recorded():
        if event.get("kind") != "commit":
            continue
        frame = decode_frame(_v2(event))
        assert isinstance(frame, Event) and frame.seq == 42
        assert frame.time_us == event["time_us"]
        assert frame.event["commit"] == event["commit"]
        assert list(bluesky_format.parse(frame.event, ctx)) == list(
            bluesky_format.parse(event, ctx)
        )
        checked += 1
    assert checked > 10


def test_markers_are_events_with_a_seq() -> None:
    event = {"did": "did:plc:abc", "time_us": 1_725_911_162_329_308, "kind": "account"}
    event["account"] = {"active": False, "status": "deleted", "seq": 5}
    frame = decode_frame(_v2(event, seq=9))
    assert isinstance(frame, Event) and frame.seq == 9 and frame.event["kind"] == "account"


def test_frames_that_are_not_events() -> None:
    good = orjson.loads(
        _v2(
            {
                "did": "did:plc:abc",
                "time_us": 1_725_911_162_329_308,
                "kind": "commit",
                "commit": {"rev": "r", "operation": "delete", "collection": POST, "rkey": "k"},
            }
        )
    )

    def variant(**changes: Any) -> str:
        payload = {**good["payload"], **changes}
        return orjson.dumps({"$type": "message", "payload": payload}).decode()

    assert isinstance(decode_frame(variant()), Event)
    for bad in ("{not json", "[1, 2]", '"text"', b'{"$type": "message"}'):
        with pytest.raises(BadEvent):
            decode_frame(bad)
    error = orjson.dumps({"$type": "error", "error": "ConsumerTooSlow", "message": HOSTILE})
    with pytest.raises(ServerError) as caught:
        decode_frame(error.decode())
    assert caught.value.name == "ConsumerTooSlow"
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)
    assert "\\u202e" in caught.value.message  # shown escaped, not obeyed
    assert decode_frame('{"$type": "#future"}') == Skipped(None, "unknown frame type #future")
    unknown = decode_frame(variant(**{"$type": "network.bsky.jetstream.subscribeEvents#new"}))
    assert isinstance(unknown, Skipped) and unknown.seq is None  # the cursor does not move
    for changes, seq in (
        ({"rkey": None}, 42),
        ({"time": "2024-09-09T19:46:02.329308"}, 42),  # no zone: not a point in time
        ({"time": "yesterday"}, 42),
        ({"did": "plc:abc"}, 42),
        ({"seq": 10**15}, None),  # in the time range: not a seq
        ({"seq": True}, None),
        ({"seq": -3}, None),
    ):
        frame = decode_frame(variant(**changes))
        assert isinstance(frame, Skipped) and frame.seq == seq, (changes, frame)
    create = variant(operation="create")  # a create without its record
    assert isinstance(decode_frame(create), Skipped)


def test_the_subscribe_url_and_instance() -> None:
    url = events_url("wss://js.example/subscribe", (POST, REPOST), 12)
    assert url == (
        "wss://js.example/xrpc/network.bsky.jetstream.subscribeEvents?kinds=commit"
        "&collections=app.bsky.feed.post&collections=app.bsky.feed.repost"
        "&maxMessageSizeBytes=2097152&cursor=12"
    )
    for given in ("wss://JS.example", "wss://js.example/", "wss://js.example/subscribe", url):
        assert instance_of(given) == "wss://js.example"
    assert floor_seq("cursor 4 below lookback floor 1234; re-backfill") == 1234
    assert floor_seq("no number here") is None


def test_a_time_is_never_sent_where_it_would_read_as_a_seq() -> None:
    src = JetstreamSource(("wss://js.example",), rewind=5.0)
    src.resume_from("7000000")  # seven seconds after 1970: far older than anything kept
    assert src.subscribe_url().endswith(f"&cursor={10**15}")  # read as a time: the oldest kept


def test_stored_cursors_are_read_back_and_never_misread() -> None:
    assert JetstreamCursor.load("1725911162329308") == JetstreamCursor(1725911162329308)
    v2 = JetstreamCursor(1725911162329308, 77, "wss://js.example")
    assert JetstreamCursor.load(v2.dump()) == v2
    assert JetstreamCursor(1725911162329308).dump() == "1725911162329308"  # v1 form unchanged
    for text in (None, "", "-5", "١٢٣", "{}", '{"protocol": "jetstream-v2", "seq": 1}', "[1]"):
        assert JetstreamCursor.load(text) is None, text


async def test_sources_status_says_which_protocol_answered(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hubbub.cli import main
    from hubbub.networks.health import HealthBoard
    from hubbub.store.source_health import write_health

    db = str(tmp_path / "h.db")
    clock = FakeClock(scale=0.01)
    board = HealthBoard(clock)
    async with JetstreamServer(events(10)) as server:
        src = source(server.url, clock, health=board.tracker(NAME, "bluesky"))
        await drain_until(src, lambda: bool(server.connections))
    with open_store(db) as writer:
        write_health(writer, "default", board.take_dirty())
    text = CliRunner().invoke(main, ["sources", "status", "--db", db]).output
    assert f"{NAME}: connected\n  " in text
    assert f"  via: jetstream v1 at {host(server.url)}\n" in text
