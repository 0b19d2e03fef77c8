"""``hubbub inbox show`` and ``report`` for a case made of an old post (an
imported archive of mentions): "not timed" with the reason, in the text and
the JSON, and left out of the report's times and breaches, which say how
many. Run as a user runs them (a subprocess, SQLite; the service under them
is tested on both databases in test_not_timed.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from tests.inbox.helpers import connect, ingest, post


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    key = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", key)
    now = datetime.now(UTC)
    with open_store(sqlite_url) as store:
        connect(store, load_box(sqlite_url))
        # Imported from an archive: written three days (and an hour) ago.
        old = post("x", "9001", "archived", "@acme my parcel never came, nobody answers")
        old.created_at = now - timedelta(days=3, hours=1)
        old.mentions = ("acme",)
        # Delivered live: written ten minutes ago.
        fresh = post("x", "9002", "fresh", "@acme my order arrived broken, nobody answers")
        fresh.created_at = now - timedelta(minutes=10)
        fresh.mentions = ("acme",)
        ingest(store, old, fresh)
    yield {**os.environ, "HUBBUB_ACCOUNTS_KEY": key, "HUBBUB_DB": sqlite_url}


def inbox(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "inbox", *args],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_show_and_report_say_an_old_case_is_not_timed(env: dict[str, str]) -> None:
    inbox(env, "target", "normal", "--first-response", "1h", "--resolution", "1d")
    rows = [orjson.loads(line) for line in inbox(env, "list", "--format", "jsonl").splitlines()]
    ids = {row["author"]: str(row["id"]) for row in rows}
    assert set(ids) == {"archived", "fresh"}

    shown = inbox(env, "show", ids["archived"])
    reason = "not timed: the post was 3 days old when Hubbub first saw it"
    assert f"first response: {reason}" in shown
    assert f"resolution: {reason}" in shown
    assert "breached" not in shown and "business h" not in shown

    data = orjson.loads(inbox(env, "show", ids["archived"], "--json"))
    assert data["not_timed"]["reason"] == "the post was 3 days old when Hubbub first saw it"
    assert data["first_response"]["state"] == data["resolution"]["state"] == "not timed"
    assert data["first_response"]["breached"] is False
    assert {"id", "status", "opened_at", "first_response_at", "posts", "timeline"} <= set(data)

    # The fresh case is timed as ever: ten minutes of its hour used.
    fresh = inbox(env, "show", ids["fresh"])
    assert "first response: 0.1" in fresh and "of 1.00 business h, running" in fresh
    fresh_data = orjson.loads(inbox(env, "show", ids["fresh"], "--json"))
    assert fresh_data["not_timed"] is None
    assert fresh_data["first_response"]["state"] == "running"

    report = orjson.loads(inbox(env, "report", "--format", "json"))
    assert report["cases"] == 2
    assert report["not_timed"]["cases"] == 1
    assert "more than 24 hours old" in report["not_timed"]["why"]
    # Neither case is past its target: the old one's three days are no breach.
    assert report["team"]["first_response"]["breaches"] == 0
    assert report["team"]["resolution"]["breaches"] == 0
    page = inbox(env, "report", "--format", "html")
    assert "Cases not timed, left out of every time and breach: 1 (" in page
