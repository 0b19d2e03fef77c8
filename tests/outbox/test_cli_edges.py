"""What `hubbub post`, `hubbub count` and `hubbub outbox send` do with input a
new user or an attacker gives them: a clear one-line error, never a
traceback, and nothing queued that cannot be sent."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import orjson
import pytest

from hubbub.networks.secrets import new_key_text
from tests.loopback.write_servers import MastodonState, Running, mastodon_app


@pytest.fixture
def mastodon() -> Iterator[tuple[MastodonState, str]]:
    state = MastodonState()
    with Running(mastodon_app(state)) as server:
        state.base = server.url
        yield state, server.url


def _hubbub(
    *args: str | bytes, db: str | None, stdin: bytes = b"", key: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HUBBUB_ACCOUNTS_KEY", "HUBBUB_ACCOUNTS_KEY_FILE", "HUBBUB_DB")
    }
    if key is not None:
        env["HUBBUB_ACCOUNTS_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args, *(("--db", db) if db else ())],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_post_without_the_accounts_key_queues_nothing_and_says_why(
    postgres_url: str, mastodon: tuple[MastodonState, str]
):
    state, url = mastodon
    key = new_key_text()
    added = _hubbub(
        "account", "add", "mastodon", "--name", "m", "--server", url,
        db=postgres_url, stdin=state.token.encode(), key=key,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    proc = _hubbub("post", "hello", "--json", db=postgres_url)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr and b"HUBBUB_ACCOUNTS_KEY" in proc.stderr
    result = orjson.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert result["status"] == "refused" and "HUBBUB_ACCOUNTS_KEY" in result["results"][0]["error"]
    listing = _hubbub("outbox", "list", "--json", db=postgres_url)
    assert listing.returncode == 0 and listing.stdout.strip() == b""
    assert state.statuses == []
    # A row queued for a worker (--no-wait) cannot be sent here without the key either.
    queued = _hubbub("post", "later", "--no-wait", db=postgres_url)
    assert queued.returncode == 0, queued.stderr
    drain = _hubbub("outbox", "send", db=postgres_url)
    assert drain.returncode == 1
    assert b"Traceback" not in drain.stderr and b"HUBBUB_ACCOUNTS_KEY" in drain.stderr
    assert _hubbub("outbox", "send", db=postgres_url, key=key).returncode == 0
    assert [s["text"] for s in state.statuses] == ["later"]


@pytest.mark.parametrize("command", ["count", "post"])
def test_text_that_is_not_utf8_is_a_usage_error(sqlite_url: str, command: str):
    # A shell passes raw bytes through; Python hands them on as lone surrogates.
    proc = _hubbub(command, b"caf\xe9 \xff", db=sqlite_url if command == "post" else None)
    assert proc.returncode == 2, proc.stderr
    assert b"Traceback" not in proc.stderr and b"not UTF-8" in proc.stderr


def test_bluesky_text_over_3000_bytes_is_refused_as_too_long():
    from hubbub.outbox.service import too_long

    # 130 ZWJ families: 130 graphemes (under 300) but 25 bytes each, 3,250 bytes.
    text = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466" * 130
    assert too_long(text, ["bluesky"]) == [("bluesky", "too long: 3250 of 3000 bytes")]
    proc = _hubbub("count", text, "--network", "bluesky", db=None)
    assert proc.returncode == 0 and b"too long" in proc.stdout and b"3250" in proc.stdout


def test_cancelling_a_row_that_may_be_on_the_network_says_so(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
):
    import asyncio

    from hubbub.networks.secrets import load_box
    from hubbub.outbox.queue import Outbox
    from hubbub.outbox.sender import Sender
    from hubbub.outbox.service import queue_post, writer_factory
    from hubbub.outbox.writers.http import new_client
    from hubbub.store import open_store
    from hubbub.store.network_accounts import add_account
    from tests.loopback.write_servers import XState, x_app

    key = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", key)
    state = XState()
    with Running(x_app(state)) as server:
        store = open_store(sqlite_url)
        try:
            box = load_box(sqlite_url)
            add_account(store, box, "default", "x", "xa", state.token, server=server.url)
            outbox = Outbox(store, "default")
            action_id = outbox.list(batch=queue_post(outbox, "hello").batch)[0].id
            # The post is stored but its answer lost: the row waits (a minute) to
            # retry, and X may already show it.
            state.faults.next.append("store_then_502")

            async def one_try() -> None:
                async with new_client(5.0) as client:
                    sender = Sender(
                        outbox, writer_factory(store, box, "default", client), retry_delays=(60.0,)
                    )
                    await sender.send_one()

            asyncio.run(one_try())
            waiting = outbox.get(action_id)
            assert waiting is not None and waiting.status == "queued" and waiting.maybe_sent
            assert len(state.tweets) == 1
        finally:
            store.close()
        proc = _hubbub("outbox", "cancel", str(action_id), db=sqlite_url, key=key)
        # Cancelling stops the retries, and says the post may be live already.
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr
        assert b"may already be on x" in proc.stderr
        listing = _hubbub("outbox", "list", "--json", db=sqlite_url, key=key)
        row = orjson.loads(listing.stdout.splitlines()[0])
        assert row["status"] == "cancelled" and "outcome unknown" in row["error"]


def test_account_names_one_account_per_network_and_keeps_the_other_networks(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
):
    from hubbub.networks.secrets import load_box
    from hubbub.outbox.queue import OutboxError
    from hubbub.outbox.service import choose_accounts
    from hubbub.store import open_store
    from hubbub.store.network_accounts import add_account

    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    store = open_store(sqlite_url)
    try:
        box = load_box(sqlite_url)
        for network, name, secret in (
            ("x", "xa", "tok"),
            ("bluesky", "ba", "h.test\npw"),
            ("mastodon", "m1", "tok"),
            ("mastodon", "m2", "tok"),
        ):
            add_account(store, box, "default", network, name, secret, server="http://127.0.0.1:9")
        # --network x,mastodon --account m2: X is not dropped (it used to be, exit 0).
        assert choose_accounts(store, "default", ["x", "mastodon"], "m2") == [
            ("xa", "x"),
            ("m2", "mastodon"),
        ]
        # Several names, one per network: a post on every network with two Mastodon accounts.
        assert choose_accounts(store, "default", None, "m1,xa,ba") == [
            ("m1", "mastodon"),
            ("xa", "x"),
            ("ba", "bluesky"),
        ]
        assert choose_accounts(store, "default", None, "m2") == [("m2", "mastodon")]
        with pytest.raises(OutboxError, match="m1, m2"):
            choose_accounts(store, "default", None, "m1,m2")
    finally:
        store.close()
