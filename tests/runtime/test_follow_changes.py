"""What a workspace follows changes while the runtime runs, and what a user
then reads in ``hubbub sources status`` and on the status page.

- A saved query added after the Mastodon account was connected
  (``hubbub listen add``) has its hashtag streamed without a restart or an
  account change, and removing it closes that stream.
- A source stopped because its account went, then started again when one
  comes back (or started at once with a replaced account), shows
  ``connected`` without the old source's reason as its last error; the
  stopped line says "stopped: " once.

On a loopback Mastodon server."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.listen.saved import add_query
from hubbub.networks.health import State
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.sources.followed import REMOVED, UNWANTED
from hubbub.store import open_store
from hubbub.web.routes_status import _row
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import generated_statuses, load_templates
from tests.runtime.test_account_changes import (
    NEW,
    OLD,
    TAG,
    Server,
    _add,
    _cli,
    _health,
    _remove,
    _rounds,
    _stored,
    _until,
    key,  # noqa: F401 - the fixture, used by name
)


def _status(db: str, workspace: str) -> str:
    result = CliRunner().invoke(main, ["sources", "status", "--db", db, "--workspace", workspace])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("key")
@pytest.mark.parametrize("workspace", ["default", "w2"])
async def test_a_query_added_after_the_account_is_streamed_without_a_restart(
    db_url: str, workspace: str
) -> None:
    templates = load_templates(require_shared_data() / "payloads" / "mastodon")
    server = Server(token=OLD)
    with server:
        _add(db_url, workspace, "toot", server.base, OLD)
        rt = Runtime(
            Settings(db=db_url),
            listen=False,
            send_outbox=False,
            accounts_check_seconds=0.1,
            follows_check_seconds=0.2,
        )
        await rt.start()
        try:
            await _rounds(rt, 5)
            assert server.open_streams() == 0  # no room, no query: nothing to stream

            _cli("listen", "add", "--db", db_url, "--workspace", workspace, "q", f"#{TAG}")
            await _until(lambda: server.open_streams() == 1, "the new query's hashtag streams")
            uris = {s["uri"] for s in server.post(generated_statuses(templates, 4, tag=TAG))}

            async def have() -> bool:
                return uris <= await asyncio.to_thread(_stored, db_url, workspace)

            await _until(have, "statuses with the new query's hashtag are stored")

            _cli("listen", "remove", "--db", db_url, "--workspace", workspace, "q")
            await _until(lambda: server.open_streams() == 0, "the stream closes with the query")

            async def says_unwanted() -> bool:
                rows = await asyncio.to_thread(_health, db_url, workspace)
                return bool(rows) and all(
                    r.state is State.STOPPED and r.reason == UNWANTED for r in rows
                )

            await _until(says_unwanted, "sources status says nothing asks for it")
            await _rounds(rt, 5)  # refreshed again with nothing changed: nothing restarted
            assert server.open_streams() == 0
        finally:
            await rt.stop()


@pytest.mark.usefixtures("key")
@pytest.mark.parametrize("how", ["removed-then-added", "replaced"])
async def test_a_source_started_again_does_not_show_the_old_ones_reason(
    sqlite_url: str, how: str
) -> None:
    """Rounds by hand (the interval is an hour), so "replaced" happens
    between two rounds: the new source is built before the old one stops."""
    templates = load_templates(require_shared_data() / "payloads" / "mastodon")
    server = Server(token=OLD)
    with server:
        _add(sqlite_url, "default", "toot", server.base, OLD)
        with open_store(sqlite_url) as store:
            add_query(store, "chat", f"#{TAG}")
        rt = Runtime(
            Settings(db=sqlite_url), listen=False, send_outbox=False, accounts_check_seconds=3600.0
        )
        await rt.start()
        try:
            await _until(lambda: server.open_streams() == 1, "the account's stream is open")
            _remove(sqlite_url, "default", "toot")
            if how == "removed-then-added":
                await rt.sync_accounts()
                await _until(lambda: server.open_streams() == 0, "the stream closes on removal")

                async def says_removed() -> bool:
                    rows = await asyncio.to_thread(_health, sqlite_url, "default")
                    return [r.state for r in rows] == [State.STOPPED]

                await _until(says_removed, "the stored row says stopped")
                out = await asyncio.to_thread(_status, sqlite_url, "default")
                assert f": stopped: {REMOVED}\n" in out
                assert "stopped: stopped" not in out
            server.token = NEW
            _add(sqlite_url, "default", "toot", server.base, NEW)
            await rt.sync_accounts()
            await _until(
                lambda: server.open_streams() == 1 and NEW in server.tokens_since(0),
                "one stream, with the new token",
            )
            uris = {s["uri"] for s in server.post(generated_statuses(templates, 2, tag=TAG))}

            async def connected_and_stored() -> bool:
                rows = await asyncio.to_thread(_health, sqlite_url, "default")
                stored = await asyncio.to_thread(_stored, sqlite_url, "default")
                return [r.state for r in rows] == [State.CONNECTED] and uris <= stored

            await _until(connected_and_stored, "the stored row says connected")
            [row] = await asyncio.to_thread(_health, sqlite_url, "default")
            assert row.reason is None
            out = await asyncio.to_thread(_status, sqlite_url, "default")
            assert ": connected\n" in out and "last error" not in out
            assert _row(row, row.updated_at)["reason"] is None  # the web status page
        finally:
            await rt.stop()
