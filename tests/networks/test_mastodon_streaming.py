"""mastodon:tag streaming (a token for the server) against the loopback
Mastodon server, over SSE and WebSocket: REST backfill after every
(re)connection, stalls detected on the heartbeat, every streaming fault,
and after each the stored ids equal the served ids; the token only ever in
a header."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hubbub.networks.accounts_check import CheckFailed
from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials
from hubbub.networks.mastodon import MastodonClient, check_account
from hubbub.pipeline import Pipeline
from hubbub.sources.mastodon import MastodonSource
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import (
    MastodonServer,
    StreamFault,
    generated_statuses,
    load_templates,
)
from tests.networks.connector_oracle import assert_exactly, stored_ids

TAG = "hubchat"
TOKEN = "canary-token-0c5a1e"  # noqa: S105 - a test token, checked never to leave a header
DEADLINE = 30.0


def templates() -> list[dict[str, Any]]:
    return load_templates(require_shared_data() / "payloads" / "mastodon")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


async def stream_while_posting(
    store: Store,
    server: MastodonServer,
    src: MastodonSource,
    batches: list[list[dict[str, Any]]],
) -> list[str]:
    """Run the source; once it streams, post each batch (a short real pause
    between them, so faults land mid-stream); stop when all is stored."""
    pipeline = Pipeline(store)
    await pipeline.start([src])
    try:
        async with asyncio.timeout(DEADLINE):
            while server.stream_connections == 0:
                await asyncio.sleep(0.02)
            for batch in batches:
                server.post(batch)
                await asyncio.sleep(0.05)
            while not server.uris(TAG) <= set(stored_ids(store, "mastodon")):
                await asyncio.sleep(0.05)
    except TimeoutError:
        pass  # the comparison says what is missing
    finally:
        await pipeline.stop()
    return stored_ids(store, "mastodon")


def streaming_source(server: MastodonServer, clock: FakeClock, via: str = "sse") -> MastodonSource:
    client = MastodonClient(server.base, token=TOKEN, clock=clock)
    return MastodonSource(
        "tag", [client], tag=TAG, name=f"mastodon:tag:{TAG}", clock=clock, via=via
    )


def batches(count: int, size: int, first: int = 1000) -> list[list[dict[str, Any]]]:
    statuses = generated_statuses(templates(), count * size, tag=TAG, first=first)
    return [statuses[i : i + size] for i in range(0, len(statuses), size)]


def assert_token_only_in_headers(server: MastodonServer) -> None:
    for path, query, headers in server.requests:
        assert TOKEN not in path and TOKEN not in query
        assert "Hubbub" in headers.get("user-agent", "")
    streamed = [h for p, _, h in server.requests if p.startswith("/api/v1/streaming/hashtag")]
    assert streamed and all(h.get("authorization") == f"Bearer {TOKEN}" for h in streamed)


@pytest.mark.parametrize("via", ["sse", "ws"])
async def test_backfill_then_stream(store: Store, via: str) -> None:
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.post(generated_statuses(templates(), 60, tag=TAG))  # before the stream: REST only
        src = streaming_source(server, clock, via)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await stream_while_posting(store, server, src, batches(8, 5))
        assert_exactly(stored, server.uris(TAG))
        assert server.streamed >= 40  # the later posts came over the stream
        assert src.connections[server.host] == 1
        if via == "sse":
            assert_token_only_in_headers(server)


FAULTS = [
    [StreamFault("cut", 7)],
    [StreamFault("truncate", 12)],
    [StreamFault("duplicate", 5), StreamFault("duplicate", 20)],
    [StreamFault("reorder", 4), StreamFault("reorder", 15)],
    [StreamFault("close", 10)],
    [StreamFault("cut", 5), StreamFault("truncate", 18), StreamFault("close", 28)],
]


@pytest.mark.parametrize("faults", FAULTS, ids=lambda f: "+".join(x.kind for x in f))
async def test_stream_faults_lose_nothing(store: Store, faults: list[StreamFault]) -> None:
    # No backoff sleeps are expected here, so a slow fake clock costs nothing and keeps
    # the 30 s stall limit (6 real seconds) clear of a busy machine's pauses.
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.stream_faults = faults
        src = streaming_source(server, clock)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await stream_while_posting(store, server, src, batches(15, 4))
        assert all(f.fired for f in faults), "a scheduled fault never fired"
        assert_exactly(stored, server.uris(TAG))
        breaks = sum(f.kind in ("cut", "truncate", "close") for f in faults)
        assert src.connections[server.host] == 1 + breaks
        # Dropped connections that had worked reconnect at once: nothing slept.
        assert src.delays == []
        # Each reconnection read the gap over REST from the stored position, rewound.
        pages = [q for p, q, _ in server.requests if p.endswith(f"/tag/{TAG}")]
        assert len([q for q in pages if "min_id=" in q]) >= 1 + breaks


async def test_websocket_stream_faults_lose_nothing(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    faults = [StreamFault("cut", 5), StreamFault("truncate", 14), StreamFault("duplicate", 22)]
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.stream_faults = faults
        src = streaming_source(server, clock, via="ws")
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await stream_while_posting(store, server, src, batches(12, 4))
        assert all(f.fired for f in faults), "a scheduled fault never fired"
        assert_exactly(stored, server.uris(TAG))
        assert src.connections[server.host] == 3
        assert src.delays == []


async def test_stall_is_detected_on_the_heartbeat(store: Store) -> None:
    clock = FakeClock(scale=0.05)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.stream_faults = [StreamFault("stall", 6)]
        src = streaming_source(server, clock)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await stream_while_posting(store, server, src, batches(6, 3))
        assert_exactly(stored, server.uris(TAG))
        assert 30.0 in clock.timeouts  # 2 × the 15 s heartbeat
        assert src.connections[server.host] == 2
        assert src.health.snapshot.gaps_found == 1
        assert src.health.snapshot.gaps_backfilled == 1


async def test_a_streaming_server_elsewhere_never_gets_the_token(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.streaming_url = "wss://streaming.evil.example"  # not this server's host
        src = streaming_source(server, clock)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await stream_while_posting(store, server, src, batches(3, 4))
        assert_exactly(stored, server.uris(TAG))
        assert server.streamed >= 12  # streamed from the server itself


async def test_a_flapping_stream_is_backed_off(store: Store) -> None:
    """Streams that end as soon as they open, bringing nothing, are failed
    attempts: 1 s, 2 s, 4 s between them, not a reconnection loop."""
    clock = FakeClock(scale=0.01)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.drop_streams = 3
        src = streaming_source(server, clock)
        pipeline = Pipeline(store)
        await pipeline.start([src])
        try:
            async with asyncio.timeout(DEADLINE):
                while server.stream_connections < 4:
                    await asyncio.sleep(0.02)
                server.post(generated_statuses(templates(), 10, tag=TAG))
                while not server.uris(TAG) <= set(stored_ids(store, "mastodon")):
                    await asyncio.sleep(0.05)
        finally:
            await pipeline.stop()
        assert_exactly(stored_ids(store, "mastodon"), server.uris(TAG))
        assert [d for _, d in src.delays] == [1.0, 2.0, 4.0]


async def test_statuses_posted_while_disconnected_are_backfilled(store: Store) -> None:
    """Streaming replays nothing: what was posted while the stream was down
    arrives through the REST backfill of the reconnection."""
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        src = streaming_source(server, clock)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        first, second = batches(2, 15)
        await stream_while_posting(store, server, src, [first])
        server.post(second)  # nobody is streaming now
        src2 = streaming_source(server, FakeClock(scale=0.2))
        stored = await stream_while_posting(store, server, src2, [])
        assert_exactly(stored, server.uris(TAG))


async def test_streamed_edits_and_deletions_reach_the_store(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        src = streaming_source(server, clock)
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        pipeline = Pipeline(store)
        await pipeline.start([src])
        try:
            async with asyncio.timeout(DEADLINE):
                while server.stream_connections == 0:
                    await asyncio.sleep(0.02)
                first, second = server.post(generated_statuses(templates(), 2, tag=TAG))
                while len(stored_ids(store, "mastodon")) < 2:
                    await asyncio.sleep(0.02)
                server.edit(first["id"], f"<p>edited text #{TAG}</p>")
                server.delete(second["id"])
                while True:
                    edited = store.get_post("mastodon", first["uri"])
                    gone = store.get_post("mastodon", second["uri"])
                    if edited and "edited text" in edited.text and gone and gone.deleted:
                        break
                    await asyncio.sleep(0.02)
        finally:
            await pipeline.stop()
        assert edited is not None and edited.text.startswith("edited text")
        assert gone is not None and gone.deleted and not gone.text


async def test_account_check_against_the_server() -> None:
    with MastodonServer(token=TOKEN) as server:
        ok = Credentials("main", "mastodon", TOKEN, server=server.base)
        assert await check_account(ok) == f"@hubbub@{server.host}"
        bad = Credentials("main", "mastodon", "wrong-token", server=server.base)
        with pytest.raises(CheckFailed) as refused:
            await check_account(bad)
        assert "wrong-token" not in str(refused.value)
        assert "refused" in str(refused.value)


@pytest.mark.parametrize("via", ["sse", "ws"])
async def test_a_token_revoked_while_streaming_stops_the_source(store: Store, via: str) -> None:
    """The streaming endpoint refusing the token on a reconnection (401 on SSE, a
    refused upgrade on WebSocket) stops the source with the reason; it used to be
    an ordinary error, so the source reconnected with the dead token for ever."""
    from hubbub.networks.health import State

    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        server.stream_faults = [StreamFault("close", 3)]
        src = streaming_source(server, clock, via)
        pipeline = Pipeline(store)
        await pipeline.start([src])
        try:
            async with asyncio.timeout(DEADLINE):
                while server.stream_connections == 0:
                    await asyncio.sleep(0.02)
                server.token = "revoked-by-the-user"  # noqa: S105 - a loopback test token
                server.post(generated_statuses(templates(), 5, tag=TAG))  # the 3rd closes
                while src.health.snapshot.state is not State.STOPPED:
                    await asyncio.sleep(0.05)
            tries = sum(p.startswith("/api/v1/streaming") for p, _, _ in server.requests)
            await asyncio.sleep(1.0)  # with the fake clock at 0.2, five seconds of backoff
            assert sum(p.startswith("/api/v1/streaming") for p, _, _ in server.requests) == tries
        finally:
            await pipeline.stop()
        assert "refused the token" in (src.health.snapshot.reason or "")
        assert TOKEN not in (src.health.snapshot.reason or "")
