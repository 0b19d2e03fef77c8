"""``hubbub worker --source mastodon:tag:TAG@SERVER,SERVER`` in its own
process against two loopback Mastodon servers (polling, no account): one
hashtag across both, stored once by uri; statuses posted while it runs are
picked up; SIGTERM stops it cleanly with a position per server."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import orjson

from hubbub.store import open_store
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import MastodonServer, generated_statuses, load_templates
from tests.networks.connector_oracle import assert_exactly, stored_ids

DEADLINE = 60.0


async def test_worker_polls_a_tag_on_two_servers(tmp_path: Path) -> None:
    base = load_templates(require_shared_data() / "payloads" / "mastodon")
    shared = generated_statuses(base, 20, tag="hubchat", origin="a.example")
    db = str(tmp_path / "hubbub.db")
    log = tmp_path / "worker.log"
    with MastodonServer() as a, MastodonServer() as b:
        a.post(shared + generated_statuses(base, 15, tag="hubchat", origin="a.example", first=50))
        b.post(shared + generated_statuses(base, 10, tag="hubchat", origin="b.example", first=90))
        spec = f"mastodon:tag:hubchat@{a.base},{b.base}?poll=1"
        with open_store(db) as store:
            store.set_cursor(spec, orjson.dumps({a.host: "0", b.host: "0"}).decode())
        with log.open("ab") as err:
            worker = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hubbub.cli",
                "worker",
                "--db",
                db,
                "--source",
                spec,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )

        async def stored() -> list[str]:
            with open_store(db) as store:
                return stored_ids(store, "mastodon")

        try:
            async with asyncio.timeout(DEADLINE):
                while not a.uris() | b.uris() <= set(await stored()):
                    await asyncio.sleep(0.2)
                b.post(generated_statuses(base, 5, tag="hubchat", origin="b.example", first=200))
                while not a.uris() | b.uris() <= set(await stored()):
                    await asyncio.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(worker.wait(), 20)
        assert code == 0, log.read_text()
        assert_exactly(await stored(), a.uris() | b.uris())
        with open_store(db) as store:
            cursor = orjson.loads(store.get_cursor(spec) or "{}")
        assert set(cursor) == {a.host, b.host}
        assert cursor[b.host] == max(b.statuses, key=lambda s: int(s["id"]))["id"]
        assert "Traceback" not in log.read_text()
