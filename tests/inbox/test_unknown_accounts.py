"""An account whose handle is not known (never checked, or its check failed)
cannot turn mentions into cases. A newcomer who ran `account add` and not
`account check` saw an empty inbox and no reason; now `account add` names the
next step, and `inbox list` and the inbox page say which accounts are not
checked and what to run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from tests.inbox.helpers import ingest, post
from tests.web.test_inbox_api import InboxServer, sign_in, start_inbox_server

NOTE = "the x account acme is not checked, so mentions of it do not become cases"


def _run(env: dict[str, str], *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
    return done


def test_cli_names_the_unchecked_account_until_it_is_checked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    env = {**os.environ, "HUBBUB_ACCOUNTS_KEY": new_key_text(), "HUBBUB_DB": db}
    added = _run(env, "account", "add", "x", "--name", "acme", stdin=b"a-token\n")
    assert b"Next: hubbub account check acme" in added.stdout
    with open_store(db) as store:
        ingest(
            store,
            post(
                "x", "9001", "cust", "@acme my parcel is lost, nobody answers", mentions=("acme",)
            ),
        )

    listed = _run(env, "inbox", "list", "--format", "jsonl")
    assert listed.stdout == b""  # no case: nothing says @acme is us
    assert NOTE in listed.stderr.decode()
    assert "hubbub account check acme" in listed.stderr.decode()

    with open_store(db) as store:
        record_check(store, "default", "acme", "failed: HTTP 401")
    assert NOTE in _run(env, "inbox", "list").stderr.decode()  # a failed check is no better

    with open_store(db) as store:
        record_check(store, "default", "acme", "ok: @acme")
    listed = _run(env, "inbox", "list", "--format", "jsonl")
    assert listed.stderr == b""
    (case,) = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert case["author"] == "cust"


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    yield from start_inbox_server(tmp_path_factory.mktemp("unknown"))


def test_inbox_page_names_unchecked_accounts_of_its_own_workspace_only(
    inbox_server: InboxServer,
) -> None:
    store = inbox_server.store
    box = load_box(str(inbox_server.server.db))  # the fixture's key is in the environment
    add_account(store, box, "default", "mastodon", "spare", "t", server="https://m.example")
    add_account(store, box, "otherco", "bluesky", "theirs", "h\np", server=None)
    client, _csrf = sign_in(inbox_server.url, "ann")
    try:
        page = client.get("/inbox")
    finally:
        client.close()
    assert page.status_code == 200
    assert "The mastodon account spare is not checked" in page.text
    assert "hubbub account check spare" in page.text
    assert "shop is not checked" not in page.text  # checked in the fixture
    assert "theirs" not in page.text  # another workspace's account
