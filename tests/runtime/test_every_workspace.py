"""One runtime, every workspace: a workspace other than the runtime's own
that connects a Mastodon account has its saved queries' hashtags followed
on that account's server (a loopback Mastodon), its posts stored into it
(not into the default workspace), matched and classified there, and its
sources' health written under it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.listen.saved import add_query
from hubbub.networks.health import State
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.store import open_store
from hubbub.store.listen_schema import post_classes, query_matches
from hubbub.store.source_health import read_health
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import MastodonServer, generated_statuses, load_templates

TOKEN = "acme-mastodon-token-5e0f"  # noqa: S105 - a loopback token
DEADLINE = 60.0


def _uris(db: str, workspace: str) -> set[str]:
    with open_store(db) as store:
        ws = store.find_workspace(workspace)
        if ws is None:
            return set()
        return {p.id for p in store.iter_posts(workspace=workspace) if p.network == "mastodon"}


def _counts(db: str) -> tuple[int, int]:
    with open_store(db) as store, store.engine.connect() as conn:
        matched = conn.execute(sa.select(sa.func.count()).select_from(query_matches)).scalar_one()
        classified = conn.execute(sa.select(sa.func.count()).select_from(post_classes)).scalar_one()
    return int(matched), int(classified)


async def test_a_second_workspace_is_followed_into_itself(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    base = load_templates(require_shared_data() / "payloads" / "mastodon")
    with MastodonServer(token=TOKEN) as server:
        server.post(generated_statuses(base, 12, tag="acmechat"))
        added = CliRunner().invoke(
            main,
            [
                "account", "add", "mastodon", "--name", "toot", "--server", server.base,
                "--db", db, "--workspace", "acme",
            ],
            input=TOKEN + "\n",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        with open_store(db) as store:
            add_query(store, "chat", "#acmechat", workspace="acme")
        expected = server.uris()
        assert len(expected) == 12
        rt = Runtime(Settings(db=db), send_outbox=False)
        await rt.start()
        try:
            assert rt.sources == []  # the default workspace has no account: nothing
            async with asyncio.timeout(DEADLINE):
                while not expected <= await asyncio.to_thread(_uris, db, "acme"):
                    await asyncio.sleep(0.2)
                while (await asyncio.to_thread(_counts, db)) < (12, 12):
                    await asyncio.sleep(0.2)
            assert rt.pipeline_for("acme") is rt.others["acme"].pipeline
            assert rt.pipeline_for("nobody") is None
            # The web's rooms of acme subscribe to that pipeline, so acme's
            # network posts reach them live (not a source-less one of its own).
            from hubbub.web.app import create_app

            app = create_app(Settings(db=db), runtime=rt)
            async with app.router.lifespan_context(app):
                tenant = await app.state.tenants.get("acme")
                assert tenant.pipeline is rt.pipeline_for("acme")
                assert not tenant.own_pipeline
        finally:
            await rt.stop()
    assert _uris(db, "acme") == expected
    assert _uris(db, "default") == set()
    assert _counts(db) == (12, 12)  # matched in acme's query, every post classified
    with open_store(db) as store:
        assert store.count(workspace="default") == 0
        assert store.count(workspace="acme") == 12
        rows = read_health(store, "acme")
        assert [r.network for r in rows] == ["mastodon"]
        assert rows[0].state is State.STOPPED  # the runtime said so when it stopped
        assert rows[0].posts >= 12
        assert read_health(store, "default") == []
