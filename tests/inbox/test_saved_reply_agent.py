"""A saved reply's ``{agent}`` never puts the command line's audit name
(``cli:<os user>``) into a public reply: from the command line it is the name
the operator gives with ``hubbub inbox reply --as NAME``, and without one the
reply is refused, saying so; on the web it is the signed-in user's Hubbub
name. The reviewer's case: ``'Hi {name}, {agent} here.'`` queued
"Hi …, cli:root here."."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hubbub.cli.audit import cli_actor
from hubbub.inbox.errors import InboxError
from hubbub.inbox.model import Actor
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.outbox.queue import Outbox
from hubbub.store import Store, open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import add_user, ingest, post

GREETING = "Hi {name}, {agent} here."


def _one_case(store: Store, db_url: str) -> None:
    # Queued only (--no-wait): the account's server is never asked.
    add_account(store, load_box(db_url), "default", "x", "acme", "tok", server="http://127.0.0.1:9")
    record_check(store, "default", "acme", "ok: @acme")
    add_user(scope(store, "default"), "ann", "agent")
    ingest(store, post("x", "7001", "cust1", "@acme my order never came, why?", mentions=("acme",)))


@pytest.fixture
def inbox(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    with open_store(db_url) as store:
        _one_case(store, db_url)
        box = Inbox(scope(store, "default"))
        box.refresh(Actor(cli_actor()))
        box.save_reply(Actor(cli_actor()), "hi", GREETING)
        yield box


def test_the_command_line_operator_has_no_agent_name_of_its_own(inbox: Inbox) -> None:
    operator = Actor(cli_actor())
    with pytest.raises(InboxError, match=r"signs with \{agent\}.*--as NAME"):
        inbox.render_saved_reply(operator, "hi", 1)
    filled = inbox.render_saved_reply(operator, "hi", 1, agent_name="Ann from Acme")
    assert filled == "Hi Cust1, Ann from Acme here."
    # A saved reply without {agent} needs no name.
    inbox.save_reply(operator, "thanks", "Thanks {name}!")
    assert inbox.render_saved_reply(operator, "thanks", 1) == "Thanks Cust1!"


def test_a_signed_in_user_signs_with_their_hubbub_name(inbox: Inbox) -> None:
    assert inbox.render_saved_reply(Actor("ann", "agent"), "hi", 1) == "Hi Cust1, ann here."


@pytest.mark.parametrize("bad", ["@ceo", "see evil.example", "", " \u202e "])
def test_an_agent_name_that_could_link_or_mention_is_refused(inbox: Inbox, bad: str) -> None:
    with pytest.raises(InboxError, match="agent name"):
        inbox.render_saved_reply(Actor(cli_actor()), "hi", 1, agent_name=bad)


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    key = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", key)
    with open_store(sqlite_url) as store:
        _one_case(store, sqlite_url)
    yield {**os.environ, "HUBBUB_ACCOUNTS_KEY": key, "HUBBUB_DB": sqlite_url}


def _inbox(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "inbox", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_the_cli_refuses_agent_without_a_name_and_queues_the_named_one(
    env: dict[str, str], sqlite_url: str
) -> None:
    assert _inbox(env, "saved", "add", "hi", GREETING).returncode == 0
    assert _inbox(env, "list").returncode == 0
    refused = _inbox(env, "reply", "1", "--saved", "hi", "--no-wait")
    assert refused.returncode == 1
    assert "--as NAME" in refused.stderr and "cli:" not in refused.stderr + refused.stdout
    with open_store(sqlite_url) as store:
        assert Outbox(store, "default").list() == []  # nothing queued
    done = _inbox(env, "reply", "1", "--saved", "hi", "--as", "Ann", "--no-wait")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].strip() == "Hi Cust1, Ann here."
    with open_store(sqlite_url) as store:
        (action,) = Outbox(store, "default").list()
    assert action.payload["text"] == "Hi Cust1, Ann here."
