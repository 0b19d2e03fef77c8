"""bluesky:… specs as users write them (clear errors), the Jetstream source
following what the workspace follows (saved queries, public rooms'
hashtags, picked up while running), and ``hubbub account check`` for a
Bluesky account against the loopback XRPC server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.sources.bluesky import BlueskySearchSource, JetstreamSource
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.bluesky_xrpc_server import HANDLE, XrpcServer
from tests.loopback.jetstream_server import (
    JetstreamServer,
    generated_posts,
    load_recorded,
    post_uri,
)
from tests.networks.connector_oracle import assert_exactly, ingest_until

PASSWORD = "app-pass-1234"  # noqa: S105 - the loopback account's


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


def env(follows: Follows | None = None, account: Credentials | None = None) -> SourceEnv:
    return SourceEnv(
        clock=FakeClock(scale=0.2),
        account=lambda network, name: account if network == "bluesky" else None,
        follows=lambda: follows or Follows(),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bluesky:firehose", "expected bluesky:jetstream"),
        (
            "bluesky:jetstream?url=https://jetstream.example",
            "jetstream.example.: not a WebSocket URL",
        ),
        ("bluesky:jetstream?colour=red", "unknown option"),
        ("bluesky:search:", "needs a query"),
        ("bluesky:search:storm", "needs a login"),
    ],
)
def test_bad_specs_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        network_source_from_spec(spec, env())


def test_specs_build_their_sources() -> None:
    src = network_source_from_spec(
        "bluesky:jetstream?url=ws://127.0.0.1:1,ws://127.0.0.1:2&collections=app.bsky.feed.post&all=1",
        env(),
    )
    assert isinstance(src, JetstreamSource)
    assert src.urls == ("ws://127.0.0.1:1", "ws://127.0.0.1:2")
    assert src.collections == ("app.bsky.feed.post",) and src.keep is None
    default = network_source_from_spec("bluesky:jetstream", env())
    assert isinstance(default, JetstreamSource)
    assert all(u.startswith("wss://jetstream") for u in default.urls) and default.keep is not None
    account = Credentials("sky", "bluesky", f"{HANDLE}\n{PASSWORD}", server="http://127.0.0.1:9")
    search = network_source_from_spec("bluesky:search:storm chaser?pages=3", env(account=account))
    assert isinstance(search, BlueskySearchSource)
    assert search.query == "storm chaser" and search.max_pages == 3
    assert PASSWORD not in repr(search.client)


async def test_jetstream_keeps_what_the_workspace_follows(store: Store) -> None:
    base = load_recorded(require_shared_data() / "payloads" / "bluesky_jetstream")
    start = max(e["time_us"] for e in base) + 1_000_000
    room = generated_posts(base, 30, tag="ourchat", start_us=start)
    other = generated_posts(base, 30, tag="unrelated", start_us=start + 5_000_000)
    for n, event in enumerate(other):
        event["commit"]["rkey"] = f"3oth{n:09d}"
        event["commit"]["rev"] = f"3orv{n:09d}"
        if n % 3 == 0:
            event["commit"]["record"]["text"] += " about the Hubbub launch"
    follows = Follows(queries=(("brand", "hubbub launch"),), hashtags=("OurChat",))
    async with JetstreamServer(base + room + other) as server:
        src = network_source_from_spec(f"bluesky:jetstream?url={server.url}", env(follows))
        assert isinstance(src, JetstreamSource)
        store.set_cursor(src.name, str(min(e["time_us"] for e in server.log) + src.rewind_us))
        wanted: list[dict[str, Any]] = room + [e for n, e in enumerate(other) if n % 3 == 0]
        expected = {u for e in wanted if (u := post_uri(e))}
        stored = await ingest_until(store, src, "bluesky", expected)
        assert_exactly(stored, expected)


def test_account_check_command(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with XrpcServer(now=time.time) as server:
        for name, password in (("good", PASSWORD), ("bad", "not-the-password")):
            added = CliRunner().invoke(
                main,
                ["account", "add", "bluesky", "--name", name, "--server", server.base, "--db", db],
                input=f"{HANDLE}\n{password}\n",
            )
            assert added.exit_code == 0, added.output
        ok = CliRunner().invoke(main, ["account", "check", "good", "--db", db])
        assert ok.exit_code == 0, ok.output
        assert f"@{HANDLE}" in ok.output
        bad = CliRunner().invoke(main, ["account", "check", "bad", "--db", db])
        assert bad.exit_code != 0
        assert "refused" in bad.output and "not-the-password" not in bad.output
        assert "Traceback" not in bad.output


async def test_search_sources_share_one_session_across_restarts() -> None:
    """The session is kept with the account (here: a dict standing in for the
    encrypted column), so a restarted source refreshes instead of logging in."""
    from tests.loopback.bluesky_xrpc_server import generated_views, load_search

    kept: dict[str, bytes] = {}
    clock = FakeClock(scale=0.05)
    with XrpcServer(now=clock.time, access_uses=1) as server:
        views = generated_views(
            load_search(require_shared_data() / "payloads" / "bluesky_xrpc"), 30, word="tide"
        )
        server.add(views)
        account = Credentials("sky", "bluesky", f"{HANDLE}\n{PASSWORD}", server=server.base)
        source_env = SourceEnv(
            clock=clock,
            account=lambda network, name: account,
            load_session=kept.get,
            save_session=kept.__setitem__,
        )
        for run in range(3):
            src = network_source_from_spec("bluesky:search:tide", source_env)
            pages = [item async for item in src]  # a backfill ends after its last page
            assert sum(len(p.value["posts"]) for p in pages) == len(views)
            assert len(server.searches) == run + 1
        assert server.creates == 1
        assert server.refreshes >= 2
        assert b"refreshJwt" in kept["sky"] and PASSWORD.encode() not in kept["sky"]


def test_a_connected_account_turns_on_the_filtered_firehose(store: Store) -> None:
    from datetime import UTC, datetime

    from hubbub.sources.bluesky import auto_specs
    from hubbub.store.network_accounts import AccountInfo

    assert auto_specs(store, "default", []) == []
    sky = AccountInfo("sky", "bluesky", None, datetime.now(UTC), None, None)
    assert auto_specs(store, "default", [sky]) == ["bluesky:jetstream"]
    src = network_source_from_spec("bluesky:jetstream", env())
    assert isinstance(src, JetstreamSource) and src.keep is not None  # filtered, not ?all=1
