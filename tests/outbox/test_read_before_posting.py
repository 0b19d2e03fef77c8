"""A read a writer makes before its posting request (Mastodon's server
limits, X's account, a Bluesky session) that fails is "not sent, safe to
retry", never "outcome unknown": the posting request did not leave, so the
row is not marked as maybe on the network and a waiting ``hubbub post``
says so at once. A worker tries it again and it is posted once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hubbub.networks.secrets import load_box, new_key_text
from hubbub.outbox.queue import Outbox, Status
from hubbub.outbox.sender import Sender
from hubbub.outbox.service import queue_post, writer_factory
from hubbub.outbox.writers.http import new_client
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account
from tests.loopback.write_servers import (
    BlueskyState,
    MastodonState,
    Running,
    XState,
    bluesky_app,
    mastodon_app,
    x_app,
)

FAST = (0.05, 0.05, 0.05)


@dataclass
class Servers:
    x: XState
    bluesky: BlueskyState
    mastodon: MastodonState
    urls: dict[str, str]

    def posted(self) -> dict[str, int]:
        return {
            "x": len(self.x.tweets),
            "bluesky": len(self.bluesky.posts()),
            "mastodon": len(self.mastodon.statuses),
        }


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    x, bsky, masto = XState(), BlueskyState(), MastodonState()
    with (
        Running(x_app(x)) as xs,
        Running(bluesky_app(bsky)) as bs,
        Running(mastodon_app(masto)) as ms,
    ):
        masto.base = ms.url
        yield Servers(x, bsky, masto, {"x": xs.url, "bluesky": bs.url, "mastodon": ms.url})


def _queue(db_url: str, servers: Servers) -> tuple[Outbox, str]:
    store = open_store(db_url)
    box = load_box(db_url)
    for network, name, secret in (
        ("x", "xacct", servers.x.token),
        ("bluesky", "bsky", f"{servers.bluesky.handle}\n{servers.bluesky.password}"),
        ("mastodon", "masto", servers.mastodon.token),
    ):
        add_account(store, box, "default", network, name, secret, server=servers.urls[network])
    outbox = Outbox(store, "default")
    return outbox, queue_post(outbox, "hello after a failed read").batch


def _run(outbox: Outbox, db_url: str, batch: str, *, waiting: bool) -> None:
    async def run() -> None:
        async with new_client(5.0) as client:
            sender = Sender(
                outbox,
                writer_factory(outbox.store, load_box(db_url), "default", client),
                retry_delays=FAST,
                retry_not_sent=not waiting,
            )
            await sender.run_batch(batch, poll=0.02, deadline=30)

    asyncio.run(run())


@pytest.mark.parametrize("fault", ["drop", "502"])
def test_a_failed_read_before_posting_is_not_sent(
    sqlite_url: str, servers: Servers, fault: str
) -> None:
    for state in (servers.x, servers.bluesky, servers.mastodon):
        state.faults.reads.append(fault)
    outbox, batch = _queue(sqlite_url, servers)
    try:
        _run(outbox, sqlite_url, batch, waiting=True)
        rows = {a.network: a for a in outbox.list(batch=batch)}
    finally:
        outbox.store.close()
    assert servers.posted() == {"x": 0, "bluesky": 0, "mastodon": 0}
    assert [p for _, p, _ in servers.mastodon.requests] == ["/api/v2/instance"]
    assert not [p for _, p, _ in servers.x.requests if p == "/2/tweets"]
    for network, row in rows.items():
        assert row.status == Status.FAILED, network
        assert not row.maybe_sent, network  # the next try creates without a lookup
        assert row.error is not None and row.error.startswith("not sent, safe to retry: "), (
            network,
            row.error,
        )
        assert "outcome unknown" not in row.error, network
        assert "before posting failed" in row.error, network


def test_a_worker_posts_once_after_a_failed_read(sqlite_url: str, servers: Servers) -> None:
    for state in (servers.x, servers.bluesky, servers.mastodon):
        state.faults.reads.extend(["drop", "502"])
    outbox, batch = _queue(sqlite_url, servers)
    try:
        _run(outbox, sqlite_url, batch, waiting=False)
        rows = {a.network: a for a in outbox.list(batch=batch)}
    finally:
        outbox.store.close()
    assert {n: r.status for n, r in rows.items()} == {
        n: Status.SENT for n in ("x", "bluesky", "mastodon")
    }
    assert {n: r.attempts for n, r in rows.items()} == {"x": 3, "bluesky": 3, "mastodon": 3}
    assert servers.posted() == {"x": 1, "bluesky": 1, "mastodon": 1}


def test_a_failure_after_the_post_left_is_still_unknown(sqlite_url: str, servers: Servers) -> None:
    # The reads succeed and the posting request reaches the server, which
    # answers 503 each time: that request left, so "outcome unknown" it stays.
    servers.mastodon.faults.next.extend(["503"] * 4)
    outbox, batch = _queue(sqlite_url, servers)
    try:
        _run(outbox, sqlite_url, batch, waiting=True)
        row = next(a for a in outbox.list(batch=batch) if a.network == "mastodon")
    finally:
        outbox.store.close()
    assert row.status == Status.FAILED and row.maybe_sent
    assert row.error is not None and row.error.startswith("outcome unknown after 4 tries")
