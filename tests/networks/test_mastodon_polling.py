"""mastodon:tag polling (no token) against loopback Mastodon servers: one tag
across two servers deduplicated by uri, min_id paging with Link, the
request budget and X-RateLimit-* honoured, REST faults backed off on
schedule, the instance's timelines_access obeyed; stored ids == served ids."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hubbub.networks.backoff import generic_policy
from hubbub.networks.budget import WindowBudget
from hubbub.networks.clock import FakeClock
from hubbub.networks.health import State
from hubbub.networks.mastodon import MastodonClient, base_url
from hubbub.pipeline import Pipeline
from hubbub.sources.mastodon import MastodonSource, rewound
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import (
    MastodonServer,
    RestFault,
    generated_statuses,
    load_templates,
)
from tests.networks.connector_oracle import assert_exactly, ingest_until, stored_ids

TAG = "hubchat"
POLICY = generic_policy()


def templates() -> list[dict[str, Any]]:
    return load_templates(require_shared_data() / "payloads" / "mastodon")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(scale=0.05)


def source(servers: list[MastodonServer], clock: FakeClock, **kwargs: Any) -> MastodonSource:
    clients = [MastodonClient(s.base, clock=clock) for s in servers]
    return MastodonSource(
        "tag", clients, tag=TAG, name=f"mastodon:tag:{TAG}", clock=clock, **kwargs
    )


def from_the_start(store: Store, src: MastodonSource, servers: list[MastodonServer]) -> None:
    """As after a restart that stored nothing yet: every server from its first status."""
    store.set_cursor(src.name, orjson.dumps({s.host: "0" for s in servers}).decode())


async def test_one_tag_across_two_servers_is_stored_once(store: Store, clock: FakeClock) -> None:
    base = templates()
    shared = generated_statuses(base, 30, tag=TAG, origin="a.example")
    only_a = generated_statuses(base, 70, tag=TAG, origin="a.example", first=100)
    only_b = generated_statuses(base, 45, tag=TAG, origin="b.example", first=200)
    other = generated_statuses(base, 10, tag="elsewhere", origin="b.example", first=300)
    with MastodonServer(now=clock.time) as a, MastodonServer(now=clock.time) as b:
        a.post(shared + only_a)
        b.post(shared[::-1] + only_b + other)  # same uris, other local ids and order
        src = source([a, b], clock)
        from_the_start(store, src, [a, b])
        expected = a.uris(TAG) | b.uris(TAG)
        stored = await ingest_until(store, src, "mastodon", expected)
        assert_exactly(stored, expected)
        assert len(expected) == len(shared) + len(only_a) + len(only_b)
        assert src.duplicates >= len(shared)
        for server in (a, b):
            for _path, _query, headers in server.requests:
                assert "Hubbub" in headers["user-agent"] and "https://" in headers["user-agent"]
            pages = [q for p, q, _ in server.requests if p.endswith(f"/tag/{TAG}")]
            assert pages and all("min_id=" in q for q in pages)
            assert server.over_budget == 0
        cursor = orjson.loads(store.get_cursor(src.name) or "{}")
        assert cursor[a.host] == max(a.statuses, key=lambda s: int(s["id"]))["id"]


async def test_new_statuses_are_picked_up_and_a_restart_resumes(
    store: Store, clock: FakeClock
) -> None:
    base = templates()
    with MastodonServer(now=clock.time) as a:
        a.post(generated_statuses(base, 50, tag=TAG, origin="a.example"))
        src = source([a], clock)
        from_the_start(store, src, [a])
        pipeline = Pipeline(store)
        await pipeline.start([src])
        try:
            async with asyncio.timeout(20):
                while len(stored_ids(store, "mastodon")) < 50:
                    await asyncio.sleep(0.05)
                a.post(generated_statuses(base, 25, tag=TAG, origin="a.example", first=500))
                while len(stored_ids(store, "mastodon")) < 75:
                    await asyncio.sleep(0.05)
        finally:
            await pipeline.stop()
        before = orjson.loads(store.get_cursor(src.name) or "{}")[a.host]
        a.post(generated_statuses(base, 20, tag=TAG, origin="a.example", first=900))
        requests_before = len(a.requests)
        src2 = source([a], FakeClock(scale=0.05))
        stored = await ingest_until(store, src2, "mastodon", a.uris(TAG))
        assert_exactly(stored, a.uris(TAG))
        first_page = next(
            q for p, q, _ in a.requests[requests_before:] if p.endswith(f"/tag/{TAG}")
        )
        assert f"min_id={rewound(before, src2.rewind)}" in first_page
        after = orjson.loads(store.get_cursor(src2.name) or "{}")[a.host]
        assert int(after) > int(before)


@pytest.mark.parametrize(
    ("faults", "expected_delays"),
    [
        ([RestFault("503", 2), RestFault("503", 3), RestFault("503", 4)], "http3"),
        ([RestFault("429", 2, reset_in=42.0)], "reset42"),
        ([RestFault("truncate", 3)], "http1"),
    ],
    ids=["5xx", "429-reset", "truncated-json"],
)
async def test_rest_faults_back_off_on_schedule_and_lose_nothing(
    store: Store, clock: FakeClock, faults: list[RestFault], expected_delays: str
) -> None:
    base = templates()
    with MastodonServer(now=clock.time) as a:
        a.post(generated_statuses(base, 130, tag=TAG, origin="a.example"))
        a.rest_faults = faults
        src = source([a], clock)
        from_the_start(store, src, [a])
        stored = await ingest_until(store, src, "mastodon", a.uris(TAG))
        assert all(f.fired for f in faults), "a scheduled fault never fired"
        assert_exactly(stored, a.uris(TAG))
        want = {
            "http3": [POLICY.http.delay(n) for n in (1, 2, 3)],
            "reset42": [42.0],
            "http1": [POLICY.http.delay(1)],
        }[expected_delays]
        delays = [d for _, d in src.delays]
        assert len(delays) == len(want), delays
        for got, expected in zip(delays, want, strict=True):
            assert abs(got - expected) <= 0.1 * expected
            assert any(abs(s - got) < 1e-9 for s in clock.sleeps)


async def test_budget_is_never_exceeded(store: Store) -> None:
    """A small budget on both sides: the client waits for the window instead
    of earning 429s, and the poll keeps going."""
    clock = FakeClock(scale=0.002)  # a 5-minute window passes in 0.6 real seconds
    base = templates()
    with MastodonServer(now=clock.time, budget=12) as a:
        a.post(generated_statuses(base, 600, tag=TAG, origin="a.example"))  # 15 pages of 40
        client = MastodonClient(a.base, clock=clock, budget=WindowBudget(12, 300.0, clock))
        src = MastodonSource("tag", [client], tag=TAG, name="mastodon:tag:b", clock=clock)
        from_the_start(store, src, [a])
        stored = await ingest_until(store, src, "mastodon", a.uris(TAG))
        assert_exactly(stored, a.uris(TAG))
        assert a.timeline_requests > 12  # more than one window's worth was needed
        assert a.over_budget == 0  # never a request the server had to refuse
        # (Whether the client had to wait depends on how fast the machine sent
        # them: on a busy one the window may have passed on its own.)


async def test_local_only_hashtag_feed_is_polled_with_local(store: Store, clock: FakeClock) -> None:
    base = templates()
    with MastodonServer(now=clock.time, hashtag_access=("public", "authenticated")) as a:
        a.post(generated_statuses(base, 15, tag=TAG, origin="a.example"))
        src = source([a], clock)
        from_the_start(store, src, [a])
        stored = await ingest_until(store, src, "mastodon", a.uris(TAG))
        assert_exactly(stored, a.uris(TAG))
        pages = [q for p, q, _ in a.requests if p.endswith(f"/tag/{TAG}")]
        assert pages and all("local=true" in q for q in pages)


@pytest.mark.parametrize("access", [("authenticated", "authenticated"), ("disabled", "disabled")])
async def test_closed_hashtag_feed_stops_with_a_reason(
    store: Store, clock: FakeClock, access: tuple[str, str]
) -> None:
    with MastodonServer(now=clock.time, hashtag_access=access) as a:
        src = source([a], clock)
        pipeline = Pipeline(store)
        await pipeline.start([src])
        try:
            async with asyncio.timeout(20):
                while pipeline.health()[src.name]["state"] != "done":
                    await asyncio.sleep(0.05)
        finally:
            await pipeline.stop()
        assert src.health.snapshot.state is State.STOPPED
        reason = src.health.snapshot.reason or ""
        assert a.host in reason
        assert ("account" in reason) if access[0] == "authenticated" else ("off" in reason)
        assert not [p for p, _, _ in a.requests if "/timelines/" in p]


def test_server_names_and_urls() -> None:
    assert base_url("mastodon.social") == "https://mastodon.social"
    assert base_url("http://127.0.0.1:8081/") == "http://127.0.0.1:8081"
    for bad in ("ftp://x.org", "not a host", "https://user:pw@x.org", ""):
        with pytest.raises(ValueError):
            base_url(bad)


def test_rewind_is_seconds_on_snowflake_ids() -> None:
    snowflake = str(1_780_000_000_000 << 16)
    assert int(snowflake) - int(rewound(snowflake, 5)) == 5000 << 16
    assert rewound("12345", 5) == "12345"  # not a snowflake: unchanged


async def test_public_timeline_is_polled_without_a_token(store: Store, clock: FakeClock) -> None:
    base = templates()
    with MastodonServer(now=clock.time) as a:
        a.post(generated_statuses(base, 25, tag="whatever", origin="a.example"))
        client = MastodonClient(a.base, clock=clock)
        src = MastodonSource("public", [client], name=f"mastodon:public@{a.base}", clock=clock)
        from_the_start(store, src, [a])
        stored = await ingest_until(store, src, "mastodon", a.uris())
        assert_exactly(stored, a.uris())
        pages = [p for p, _, h in a.requests if p.startswith("/api/v1/timelines/")]
        assert pages and set(pages) == {"/api/v1/timelines/public"}
        assert all("authorization" not in h for _, _, h in a.requests)
