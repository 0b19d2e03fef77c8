"""Bluesky XRPC against a loopback PDS: one session kept and refreshed
(createSession is scarce), the login budget, authenticated searchPosts
paging into the store (stored ids == served ids, old posts kept), resume
from the newest stored post, faults backed off on schedule, account check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.formats import Context
from hubbub.formats import bluesky as bluesky_format
from hubbub.networks.accounts_check import CheckFailed
from hubbub.networks.backoff import generic_policy
from hubbub.networks.bluesky import BlueskyClient, LoginBudget, RateLimited, check_account
from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials
from hubbub.post import Post
from hubbub.sources.bluesky import BlueskySearchSource
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.bluesky_xrpc_server import (
    HANDLE,
    XrpcFault,
    XrpcServer,
    generated_views,
    load_search,
)
from tests.networks.connector_oracle import assert_exactly, ingest_until

PASSWORD = "app-pass-1234"  # noqa: S105 - the loopback account's
POLICY = generic_policy()


def recorded() -> dict[str, Any]:
    return load_search(require_shared_data() / "payloads" / "bluesky_xrpc")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


def post_ids(views: list[dict[str, Any]]) -> set[str]:
    """Every post the parser finds in these views (quoted posts included)."""
    items = bluesky_format.parse({"posts": views}, Context(source="oracle"))
    return {item.id for item in items if isinstance(item, Post)}


def client(server: XrpcServer, clock: FakeClock, **kwargs: Any) -> BlueskyClient:
    return BlueskyClient(HANDLE, PASSWORD, service=server.base, clock=clock, **kwargs)


async def test_search_backfill_stores_every_served_post(store: Store) -> None:
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time, access_uses=2) as server:
        views = recorded()["posts"] + generated_views(recorded(), 230, word="redistricting")
        server.add(views)
        src = BlueskySearchSource(client(server, clock), "redistricting", clock=clock)
        stored = await ingest_until(store, src, "bluesky", post_ids(views))
        assert_exactly(stored, post_ids(views))
        # 255 posts, 100 a page: three pages; the recorded ones from 2025 kept too.
        assert len(server.searches) == 3
        assert all(s["limit"] == "100" and s["sort"] == "latest" for s in server.searches)
        # Access tokens lasted 2 calls each: refreshed, never a second login.
        assert server.creates == 1
        assert server.refreshes >= 1
        for _path, query, _headers in server.requests:
            assert "acc-" not in query and "ref-" not in query and PASSWORD not in query
        # The cursor is the newest post seen, committed with the last page.
        assert store.get_cursor(src.name) == max(v["indexedAt"] for v in views)


async def test_a_second_run_asks_only_for_newer_posts(store: Store) -> None:
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time) as server:
        first = generated_views(recorded(), 120, word="vote")
        server.add(first)
        src = BlueskySearchSource(client(server, clock), "vote", clock=clock)
        await ingest_until(store, src, "bluesky", post_ids(first))
        newest = store.get_cursor(src.name)
        more = generated_views(recorded(), 150, word="vote")[120:]
        server.add(more)
        calls = len(server.searches)
        src2 = BlueskySearchSource(client(server, clock), "vote", clock=clock)
        stored = await ingest_until(store, src2, "bluesky", post_ids(first + more))
        assert_exactly(stored, post_ids(first + more))
        assert all(s.get("since") == newest for s in server.searches[calls:])


@pytest.mark.parametrize(
    ("fault", "want"),
    [
        (XrpcFault("502", 2), [POLICY.http.delay(1)]),
        (XrpcFault("429", 2, reset_in=75.0), [75.0]),
        (XrpcFault("truncate", 1), [POLICY.http.delay(1)]),
        (XrpcFault("expire", 2), []),
    ],
    ids=["5xx", "429-reset", "truncated-json", "expired-token"],
)
async def test_search_faults(store: Store, fault: XrpcFault, want: list[float]) -> None:
    clock = FakeClock(scale=0.01)
    with XrpcServer(now=clock.time) as server:
        views = generated_views(recorded(), 250, word="storm")
        server.add(views)
        server.faults = [fault]
        src = BlueskySearchSource(client(server, clock), "storm", clock=clock)
        stored = await ingest_until(store, src, "bluesky", post_ids(views))
        assert fault.fired
        assert_exactly(stored, post_ids(views))
        assert len(src.delays) == len(want)
        for got, expected in zip(src.delays, want, strict=True):
            assert abs(got - expected) <= 0.1 * expected
        assert server.creates == 1  # an expired token is refreshed, not a new login


async def test_refused_refresh_logs_in_again_once() -> None:
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time, access_uses=1) as server:
        server.add(generated_views(recorded(), 5, word="x"))
        async with client(server, clock) as bsky:
            await bsky.search_posts("x")
            server._refresh.clear()  # the PDS forgot every refresh token
            await bsky.search_posts("x")
            assert server.creates == 2
            assert bsky.logins == 2


async def test_login_budget_is_never_exceeded() -> None:
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time, login_limit=30) as server:
        budget = LoginBudget(clock)
        async with client(server, clock, budget=budget) as bsky:
            for _ in range(30):
                await bsky.login()
            with pytest.raises(RateLimited) as limited:
                await bsky.login()
            assert server.creates == 30  # the 31st never reached the server
            assert 0 < limited.value.reset_in <= 300
            clock.advance(301)
            await bsky.login()
            assert server.creates == 31


async def test_session_is_kept_for_the_next_process() -> None:
    clock = FakeClock(scale=0.05)
    kept: list[Any] = []
    with XrpcServer(now=clock.time) as server:
        async with client(server, clock, on_session=kept.append) as bsky:
            await bsky.check()
        async with client(server, clock, session=kept[-1]) as again:
            assert (await again.check())["handle"] == HANDLE
        assert server.creates == 1
        assert "accessJwt" not in repr(kept[-1]) and "acc-" not in repr(kept[-1])


async def test_account_check() -> None:
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time) as server:
        ok = Credentials("main", "bluesky", f"{HANDLE}\n{PASSWORD}", server=server.base)
        assert await check_account(ok) == f"@{HANDLE}"
        bad = Credentials("main", "bluesky", f"{HANDLE}\nwrong-password", server=server.base)
        with pytest.raises(CheckFailed) as refused:
            await check_account(bad)
        assert "wrong-password" not in str(refused.value)
        one_line = Credentials("main", "bluesky", "only-a-handle", server=server.base)
        with pytest.raises(CheckFailed, match="two lines"):
            await check_account(one_line)
