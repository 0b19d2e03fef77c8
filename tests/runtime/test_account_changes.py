"""Accounts added and removed while the runtime runs, as a user does it:
``hubbub account remove`` (another process in real life; the same CLI code
here) stops the stream of that account at once, on a loopback Mastodon
server that sees the connection close and no request with the removed
token afterwards; ``hubbub account add`` starts one without a restart. For
the runtime's own workspace and for another one (its share), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.listen.saved import add_query
from hubbub.networks.health import HealthSnapshot, State
from hubbub.networks.secrets import new_key_text
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.sources.followed import REMOVED
from hubbub.store import open_store
from hubbub.store.source_health import read_health
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import MastodonServer, generated_statuses, load_templates

OLD = "old-mastodon-token-7c1d"  # noqa: S105 - loopback tokens
NEW = "new-mastodon-token-93ab"  # noqa: S105
TAG = "acmechat"
DEADLINE = 60.0  # generous: waits end on the event, not on time


class Server(MastodonServer):
    def open_streams(self) -> int:
        """Streaming connections open now (each is dropped from the list when it closes)."""
        return len(self._subscribers)

    def tokens_since(self, first: int) -> set[str]:
        """Bearer tokens sent in the requests from the ``first``-th on."""
        out = set()
        for _path, _query, headers in self.requests[first:]:
            auth = headers.get("authorization", "")
            if auth.startswith("Bearer "):
                out.add(auth.removeprefix("Bearer "))
        return out


def _cli(*args: str, input: str | None = None) -> None:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == 0, result.output


def _add(db: str, workspace: str, name: str, server: str, token: str) -> None:
    _cli(
        "account", "add", "mastodon", "--name", name, "--server", server,
        "--db", db, "--workspace", workspace, input=token + "\n",
    )  # fmt: skip


def _remove(db: str, workspace: str, name: str) -> None:
    _cli("account", "remove", name, "--db", db, "--workspace", workspace)


def _stored(db: str, workspace: str) -> set[str]:
    with open_store(db) as store:
        return {p.id for p in store.iter_posts(workspace=workspace) if p.network == "mastodon"}


def _health(db: str, workspace: str) -> list[HealthSnapshot]:
    with open_store(db) as store:
        return read_health(store, workspace)


async def _until(check: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                done = check()
                if not isinstance(done, bool):
                    done = await done
                if done:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE:g} s: {what}") from None


async def _rounds(rt: Runtime, n: int) -> None:
    """Let the accounts watcher run ``n`` more rounds."""
    target = rt.account_checks + n
    await _until(lambda: rt.account_checks >= target, f"{n} rounds of the accounts watcher")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())


@pytest.mark.usefixtures("key")
@pytest.mark.parametrize("workspace", ["default", "acme"])
async def test_removing_an_account_stops_its_stream_and_adding_one_starts_it(
    db_url: str, workspace: str
) -> None:
    templates = load_templates(require_shared_data() / "payloads" / "mastodon")
    server = Server(token=OLD)
    with server:
        _add(db_url, workspace, "toot", server.base, OLD)
        with open_store(db_url) as store:
            add_query(store, "chat", f"#{TAG}", workspace=workspace)
        rt = Runtime(
            Settings(db=db_url), listen=False, send_outbox=False, accounts_check_seconds=0.1
        )
        await rt.start()
        try:
            await _until(lambda: server.open_streams() == 1, "the account's stream is open")
            first = {s["uri"] for s in server.post(generated_statuses(templates, 5, tag=TAG))}

            async def have(uris: set[str]) -> bool:
                return uris <= await asyncio.to_thread(_stored, db_url, workspace)

            await _until(lambda: have(first), "posts streamed with the account are stored")

            _remove(db_url, workspace, "toot")
            await _until(lambda: server.open_streams() == 0, "the stream closes on removal")
            closed_at = len(server.requests)

            async def says_removed() -> bool:
                rows = await asyncio.to_thread(_health, db_url, workspace)
                return bool(rows) and all(
                    r.state is State.STOPPED and r.reason == REMOVED for r in rows
                )

            await _until(says_removed, "sources status says the account was removed")
            gap = generated_statuses(templates, 4, tag=TAG, first=100)
            gap_uris = {s["uri"] for s in server.post(gap)}
            await _rounds(rt, 3)
            assert server.open_streams() == 0
            assert OLD not in server.tokens_since(closed_at)
            assert not gap_uris & await asyncio.to_thread(_stored, db_url, workspace)
            assert rt.pipeline_for(workspace) is not None  # the web's rooms keep theirs

            # Another account (another token) on the same server: followed again.
            server.token = NEW
            _add(db_url, workspace, "toot2", server.base, NEW)
            await _until(lambda: server.open_streams() == 1, "the new account's stream opens")
            later = {
                s["uri"] for s in server.post(generated_statuses(templates, 3, tag=TAG, first=200))
            }
            # The statuses of the gap come with the newest page read on connecting.
            await _until(lambda: have(later | gap_uris), "posts after adding one are stored")
        finally:
            await rt.stop()
        assert server.tokens_since(closed_at) == {NEW}
    assert _stored(db_url, workspace) == first | gap_uris | later


@pytest.mark.usefixtures("key")
@pytest.mark.parametrize("named", [False, True], ids=["implied", "named"])
async def test_an_account_replaced_under_its_name_is_used_at_once(
    sqlite_url: str, named: bool
) -> None:
    """Removed and added again with another token between two rounds (on
    SQLite the new row even gets the old one's id): the stream is restarted
    with the new token, for a source the account implies and for one named
    with ``account=``. Rounds are run by hand: the interval is an hour."""
    templates = load_templates(require_shared_data() / "payloads" / "mastodon")
    server = Server(token=OLD)
    with server:
        _add(sqlite_url, "default", "toot", server.base, OLD)
        with open_store(sqlite_url) as store:
            add_query(store, "chat", f"#{TAG}")
        spec = f"mastodon:tag:{TAG}@{server.base}?account=toot"
        rt = Runtime(
            Settings(db=sqlite_url, sources=(spec,) if named else ()),
            follow_accounts=not named,
            listen=False,
            send_outbox=False,
            accounts_check_seconds=3600.0,
        )
        await rt.start()
        try:
            [source] = rt.sources
            await _until(lambda: server.open_streams() == 1, "the account's stream is open")
            server.token = NEW
            _remove(sqlite_url, "default", "toot")
            _add(sqlite_url, "default", "toot", server.base, NEW)
            await rt.sync_accounts()
            # The old source is gone (its connection closed on our side) and
            # a new one runs under the same name.
            [again] = rt.sources
            assert again is not source and again.name == source.name
            restarted_at = len(server.requests)
            await _until(
                lambda: server.open_streams() == 1 and NEW in server.tokens_since(0),
                "one stream, with the new token",
            )
            statuses = server.post(generated_statuses(templates, 3, tag=TAG))
            uris = {s["uri"] for s in statuses}

            async def have() -> bool:
                return uris <= await asyncio.to_thread(_stored, sqlite_url, "default")

            await _until(have, "posts streamed with the new token are stored")
            assert server.tokens_since(restarted_at) == {NEW}
            tracker = next(t for t in rt.health.trackers() if t.source == source.name)
            assert tracker.snapshot.state is not State.STOPPED  # the new one runs on it
            await rt.sync_accounts()  # nothing changed: nothing restarted
            assert rt.sources == [again]
        finally:
            await rt.stop()


@pytest.mark.usefixtures("key")
async def test_a_named_x_stream_stops_with_its_account_and_comes_back(sqlite_url: str) -> None:
    """``--source x:stream?account=brand`` on a loopback X: removing ``brand``
    closes the stream (and lets go of X's one-per-app lease), the named
    source waits without an account instead of failing the runtime, and
    adding it back (another token) connects again with no 429 for a second
    connection."""
    from tests.loopback.x_server import XServer, load_recorded_tweets

    x = XServer(load_recorded_tweets(require_shared_data() / "payloads"), keepalive=0.05)
    x.token = OLD
    url = await x.start()
    try:
        _cli(
            "account", "add", "x", "--name", "brand", "--db", sqlite_url, input=OLD + "\n"
        )  # fmt: skip
        with open_store(sqlite_url) as store:
            add_query(store, "chat", "#hubchat")
        spec = f"x:stream?url={url}&account=brand"
        rt = Runtime(
            Settings(db=sqlite_url, sources=(spec,)),
            follow_accounts=False,
            listen=False,
            send_outbox=False,
            accounts_check_seconds=0.1,
        )
        await rt.start()
        try:

            async def stored(ids: set[str]) -> bool:
                with open_store(sqlite_url) as store:
                    return ids <= {p.id for p in store.iter_posts() if p.network == "x"}

            [source] = rt.sources
            await _until(lambda: x.open_streams == 1 and bool(x.rules), "the stream and its rule")
            first = set(x.publish_generated(5))
            await _until(lambda: stored(first), "streamed posts are stored")

            _remove(sqlite_url, "default", "brand")
            await _until(lambda: x.open_streams == 0, "the stream closes on removal")
            await _rounds(rt, 3)
            assert x.open_streams == 0 and x.stream_connections == 1
            tracker = next(t for t in rt.health.trackers() if t.source == source.name)
            assert tracker.snapshot.state is State.STOPPED and tracker.snapshot.reason == REMOVED
            assert rt.sources == []

            x.token = NEW
            _cli(
                "account", "add", "x", "--name", "brand", "--db", sqlite_url, input=NEW + "\n"
            )  # fmt: skip
            await _until(lambda: x.stream_connections == 2 and x.open_streams == 1, "reconnected")
            later = set(x.publish_generated(3))
            await _until(lambda: stored(later), "posts after adding it back are stored")
            assert x.refused == []  # never two connections at once
        finally:
            await rt.stop()
    finally:
        await x.stop()
