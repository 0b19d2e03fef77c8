"""The ``hubbub inbox`` command contract, run as a user runs it (a
subprocess); replies go to a loopback X write server. SQLite only: each
command is a new process, and the service under it is tested on both
databases in test_service.py / test_e2e_loopback.py."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hubbub.listen import add_query
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import add_user, ingest, post
from tests.loopback.write_servers import Running, XState, x_app


@pytest.fixture
def world(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, XState, dict]]:
    db_url = sqlite_url
    key = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", key)
    writes = XState(username="acme")
    with Running(x_app(writes)) as server:
        with open_store(db_url) as store:
            add_account(
                store, load_box(db_url), "default", "x", "acme", writes.token, server=server.url
            )
            record_check(store, "default", "acme", "ok: @acme")
            add_user(scope(store, "default"), "ann", "agent")
            complaint = post(
                "x",
                "7001",
                "cust",
                "@acme my order arrived broken and nobody answers",
                mentions=("acme",),
                conversation_id="7001",
            )
            # Written minutes before the commands see it (as a live source
            # delivers it): the case is timed and counts in the report.
            complaint.created_at = datetime.now(UTC) - timedelta(minutes=10)
            ingest(
                store,
                complaint,
                post("x", "7002", "=evil", "I want to buy 20 licenses for my team widgetco"),
            )
            add_query(store, "brand", "widgetco", workspace="default")
        env = {**os.environ, "HUBBUB_ACCOUNTS_KEY": key, "HUBBUB_DB": db_url}
        yield db_url, writes, env


def hubbub(env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "inbox", *args],
        capture_output=True,
        timeout=120,
        env=env,
    )
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    if ok:
        assert done.returncode == 0, err
    return done


def _jsonl(done: subprocess.CompletedProcess) -> list[dict]:
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def test_the_command_contract(world: tuple[str, XState, dict]) -> None:
    _db, writes, env = world
    (row,) = _jsonl(hubbub(env, "list", "--format", "jsonl"))
    assert {k: row[k] for k in ("status", "network", "author", "intent", "post_ids")} == {
        "status": "new",
        "network": "x",
        "author": "cust",
        "intent": "complaint",
        "post_ids": ["7001"],
    }
    case_id = str(row["id"])

    added = hubbub(env, "rule", "add", "--saved", "brand", "--intent", "lead")
    assert "brand" in added.stdout.decode()
    assert "brand → lead" in hubbub(env, "rule", "list").stdout.decode()
    rows = _jsonl(hubbub(env, "list", "--format", "jsonl"))
    assert sorted(r["author"] for r in rows) == ["=evil", "cust"]
    bad = hubbub(env, "rule", "add", "--saved", "nope", "--intent", "lead", ok=False)
    assert bad.returncode == 1 and b"no saved query named 'nope'" in bad.stderr

    assert b"assigned to ann" in hubbub(env, "assign", case_id, "ann").stdout
    mine = _jsonl(hubbub(env, "list", "--assignee", "ann", "--format", "jsonl"))
    assert [r["id"] for r in mine] == [int(case_id)]
    refused = hubbub(env, "assign", case_id, "nobody", ok=False)
    assert refused.returncode == 1 and b"no user named" in refused.stderr

    sent = hubbub(env, "reply", case_id, "Sorry about that! DM us the order number.")
    assert b"reply sent" in sent.stdout
    assert [(t["text"], t["in_reply_to"]) for t in writes.tweets] == [
        ("Sorry about that! DM us the order number.", "7001")
    ]
    too_long = hubbub(env, "reply", case_id, "x" * 300, ok=False)
    assert too_long.returncode == 1 and b"too long" in too_long.stderr
    assert len(writes.tweets) == 1

    shown = hubbub(env, "show", case_id).stdout.decode()
    assert "Sorry about that!" in shown and "assign" in shown
    assert f"outbox: sent https://x.com/acme/status/{writes.tweets[0]['id']}" in shown
    assert b"resolved" in hubbub(env, "resolve", case_id).stdout
    assert _jsonl(hubbub(env, "list", "--status", "resolved", "--format", "jsonl"))[0]["id"] == int(
        case_id
    )
    missing = hubbub(env, "show", "999999", ok=False)
    assert missing.returncode == 1 and b"no case 999999" in missing.stderr

    report = orjson.loads(hubbub(env, "report", "--format", "json").stdout)
    assert report["team"]["cases_handled"] == 1
    assert report["team"]["first_response"]["wall_clock_hours"]["count"] == 1
    table = list(csv.reader(io.StringIO(hubbub(env, "report", "--format", "csv").stdout.decode())))
    assert table[0][0] == "who" and {r[0] for r in table[1:]} >= {"team"}
    page = hubbub(env, "report", "--format", "html", "--since", "2020-01-01").stdout.decode()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert hubbub(env, "report", "--since", "yesterday", ok=False).returncode == 2

    assert b"removed rule brand" in hubbub(env, "rule", "remove", "brand").stdout


def test_saved_replies_hours_and_targets(world: tuple[str, XState, dict]) -> None:
    _db, writes, env = world
    (row,) = _jsonl(hubbub(env, "list", "--format", "jsonl"))
    hubbub(env, "saved", "add", "sorry", "Hi {name}, sorry! ({agent})")
    bad = hubbub(env, "saved", "add", "evil", "{name.__class__.__init__.__globals__}", ok=False)
    assert bad.returncode == 1 and b"not a field" in bad.stderr
    assert b"sorry" in hubbub(env, "saved", "list").stdout
    # {agent} is the name given with --as: never the command line's cli:<os user>.
    hubbub(env, "reply", str(row["id"]), "--saved", "sorry", "--as", "Ann")
    assert writes.tweets[0]["text"].startswith("Hi Cust, sorry! (Ann)")
    out = hubbub(
        env, "hours", "--timezone", "Europe/Warsaw", "--days", "mon-fri", "--hours", "09:00-17:00"
    ).stdout.decode()
    assert out.startswith("Europe/Warsaw mon,tue,wed,thu,fri 09:00-17:00")
    assert hubbub(env, "hours", "--timezone", "Nowhere/Land", ok=False).returncode == 1
    assert hubbub(env, "hours", "--hours", "9-5", ok=False).returncode == 1
    targets = hubbub(env, "target", "urgent", "--first-response", "15m", "--resolution", "4h")
    assert "urgent  first response     15m  resolution    240m" in targets.stdout.decode()
    assert hubbub(env, "target", "urgent", "--first-response", "soon", ok=False).returncode == 2


def test_show_says_whether_each_reply_went_out(world: tuple[str, XState, dict]) -> None:
    _db, writes, env = world
    (row,) = _jsonl(hubbub(env, "list", "--format", "jsonl"))
    case_id = str(row["id"])
    hubbub(env, "reply", case_id, "first, left queued", "--no-wait")
    # The account read before posting drops: nothing left, so it is safe to retry.
    writes.faults.reads.append("drop")
    failed = hubbub(env, "reply", case_id, "second, never left", ok=False)
    assert failed.returncode == 1
    hubbub(env, "reply", case_id, "third, sent")
    shown = hubbub(env, "show", case_id).stdout.decode().splitlines()
    states = [line.strip() for line in shown if line.strip().startswith("outbox: ")]
    assert states[0] == "outbox: queued"  # --no-wait: nobody sent it yet
    assert states[1].startswith("outbox: failed: not sent, safe to retry: reading the account")
    assert states[2].startswith("outbox: sent https://x.com/acme/status/")
    assert len(states) == 3


def test_reply_text_loses_controls_and_bidi_overrides(world: tuple[str, XState, dict]) -> None:
    _db, writes, env = world
    (row,) = _jsonl(hubbub(env, "list", "--format", "jsonl"))
    hubbub(env, "reply", str(row["id"]), "reply \x1b[31mRED\u202eX\u200f! \u2067ok\u2069\r\nbye")
    assert [t["text"] for t in writes.tweets] == ["reply REDX\u200f! ok\nbye"]
    refused = hubbub(env, "saved", "add", "c2", "text \x1b[31m", ok=False)
    assert refused.returncode == 1
    assert b"U+001B (ESCAPE) at character 6" in refused.stderr
    assert b"c2" not in hubbub(env, "saved", "list").stdout
    rtl = hubbub(env, "saved", "add", "c3", "\u05e9\u05dc\u05d5\u05dd {name}\u200f!\r\nbye")
    assert rtl.returncode == 0
