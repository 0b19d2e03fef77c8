"""Followers fetched through each network's client from loopback servers
speaking the real endpoints: 20,000 across X, Bluesky and Mastodon, through
paging and a 429 whose reset the fetch waits for (on an injected clock);
the stored followers equal the served ones, without duplicates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubbub.audience.fetch import fetch, source_for
from hubbub.networks.clock import FakeClock
from hubbub.networks.secrets import ENV_KEY, load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.audience_schema import audience_members
from hubbub.store.network_accounts import get_credentials
from hubbub.store.scope import scope
from tests.audience.followers_setup import add_accounts
from tests.loopback.followers_server import FollowersServer, make_followers

COUNTS = {"x": 8000, "bluesky": 6000, "mastodon": 6000}  # 20,000 in all


def _fetch_all(db_url: str, payloads: Path, counts: dict[str, int]) -> None:
    # One fake clock for the servers and the client: 30 s of reset take 1.5 s.
    clock = FakeClock(scale=0.05)
    servers = {
        n: FollowersServer(
            n,
            make_followers(n, c, payloads),
            rate_limit_at=(2,),
            reset_seconds=30.0,
            now=clock.time,
        )
        for n, c in counts.items()
    }
    for server in servers.values():
        server.__enter__()
    try:
        store = open_store(db_url)
        try:
            add_accounts(store, {n: s.url for n, s in servers.items()})
            box = load_box(str(store.engine.url.render_as_string(hide_password=False)))
            repo = AudienceRepo(scope(store, "default"))
            for network, server in servers.items():
                creds = get_credentials(store, box, "default", name=f"brand-{network}")
                source = source_for(creds, clock, server.url)

                async def run() -> object:
                    try:
                        return await fetch(repo, source, creds.name, clock)  # noqa: B023
                    finally:
                        await source.aclose()  # noqa: B023

                result = asyncio.run(run())
                snap = result.snapshot  # type: ignore[attr-defined]
                assert snap.state == "done", (network, snap.note)
                # The 429 was waited out for the reset the server gave (30 s
                # ahead, in whole seconds), on the injected clock: not the 60 s
                # used when no reset is readable. Loose bounds: fake time runs
                # on while the answer travels on a loaded machine.
                assert server.rate_limited == 1
                waits = result.waits  # type: ignore[attr-defined]
                assert len(waits) == 1 and 10.0 < waits[0] <= 31.0, (network, waits)
                stored = [m.member_id for m in repo.iter_members(snap.id)]
                assert len(stored) == len(set(stored)) == counts[network]
                assert (
                    set(stored)
                    == server.served_ids()
                    == {
                        str(o["did"] if network == "bluesky" else o["id"])
                        for o in server.lists["followers"]
                    }
                )
                assert snap.members == counts[network]
                with store.engine.connect() as conn:
                    n = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(audience_members)
                        .where(audience_members.c.snapshot_id == snap.id)
                    ).scalar_one()
                assert n == counts[network]
                # Scored at fetch time: the fake-looking ones (every 7th) are flagged.
                flagged = sum(1 for m in repo.iter_members(snap.id) if m.suspicious)
                assert flagged >= counts[network] // 7
        finally:
            store.close()
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def test_twenty_thousand_followers_sqlite(sqlite_url: str, shared_data: Path) -> None:
    _fetch_all(sqlite_url, shared_data / "payloads", COUNTS)


def test_followers_postgres(
    postgres_url: str, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY, new_key_text())  # the key must not live in PostgreSQL
    _fetch_all(postgres_url, shared_data / "payloads", {"x": 2500, "bluesky": 700, "mastodon": 900})


def test_bluesky_scores_use_detailed_profiles(sqlite_url: str, shared_data: Path) -> None:
    """getFollowers gives views without counts; the stored followers have them
    (from getProfiles), so they are scored, not 'not enough public data'."""
    with FollowersServer("bluesky", make_followers("bluesky", 30, shared_data / "payloads")) as s:
        store = open_store(sqlite_url)
        try:
            add_accounts(store, {"bluesky": s.url})
            box = load_box(str(store.engine.url.render_as_string(hide_password=False)))
            creds = get_credentials(store, box, "default", name="brand-bluesky")
            repo = AudienceRepo(scope(store, "default"))
            clock = FakeClock(scale=0.001)
            source = source_for(creds, clock, s.url)

            async def run() -> object:
                try:
                    return await fetch(repo, source, creds.name, clock)
                finally:
                    await source.aclose()

            snap = asyncio.run(run()).snapshot  # type: ignore[attr-defined]
            members = list(repo.iter_members(snap.id))
            assert all(m.followers is not None and m.posts is not None for m in members)
            assert not any("not enough public data" in r for m in members for r in m.reasons)
        finally:
            store.close()


@pytest.mark.parametrize("network", ["x", "mastodon"])
def test_cap_stops_x_reads(sqlite_url: str, shared_data: Path, network: str) -> None:
    """A cap stops the fetch before it passes it (state stopped, reason given)."""
    with FollowersServer(network, make_followers(network, 2500, shared_data / "payloads")) as s:
        store = open_store(sqlite_url)
        try:
            add_accounts(store, {network: s.url})
            box = load_box(str(store.engine.url.render_as_string(hide_password=False)))
            creds = get_credentials(store, box, "default", name=f"brand-{network}")
            repo = AudienceRepo(scope(store, "default"))
            clock = FakeClock(scale=0.001)
            source = source_for(creds, clock, s.url)

            async def run() -> object:
                try:
                    return await fetch(repo, source, creds.name, clock, cap=1234)
                finally:
                    await source.aclose()

            snap = asyncio.run(run()).snapshot  # type: ignore[attr-defined]
            assert snap.state == "stopped" and snap.members == 1234
            assert "cap" in (snap.note or "")
            assert len(s.served_ids()) == 1234
        finally:
            store.close()
