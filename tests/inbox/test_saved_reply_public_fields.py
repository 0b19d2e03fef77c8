"""A saved reply's ``{name}`` and ``{handle}`` come from the customer's
profile and go into the brand's public post: a display name that would
link, mention, tag or reorder text is not used (the handle's first part
is), invisible characters are removed, and ``hubbub inbox reply`` prints the
text it queued. The reviewer's case: a display name advertising a link,
mentioning a third party, pushing a hashtag and ending in U+202E."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hubbub.inbox.public_text import looks_active, public_handle, public_name
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.outbox.queue import Outbox
from hubbub.post import Author
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import add_user, ingest, post

HOSTILE = "FREE iPhone at evil.example/win @CEO_of_acme #giveaway \u202e"


@pytest.mark.parametrize(
    "name",
    [
        HOSTILE,
        "Visit www.evil.example",
        "see https://evil.example",
        "evil．example",  # a full-width dot
        "ｅｖｉｌ.example",  # full-width letters
        "ask ＠ceo",  # a full-width at sign
        "﹟giveaway",  # a small number sign
        "buy $ACME now",
        "user@evil.example",
    ],
)
def test_a_name_that_could_link_mention_or_tag_gives_way_to_the_handle(name: str) -> None:
    assert looks_active(name)
    assert public_name(name, "cust1") == "cust1"


def test_a_plain_name_stays_without_its_invisible_characters() -> None:
    assert public_name("Ann \u202eKowalska\u200b\u2066", "ann") == "Ann Kowalska"
    assert public_name("Zoë\nO'Brien\t😀👍🏽", "zoe") == "Zoë O'Brien 😀👍🏽"
    assert public_name("A" * 80, "a") == "A" * 50
    assert public_name("\u202e\u200b", "bob") == "bob"  # nothing left but invisible ones
    assert public_name(None, "bob") == "bob"


def test_the_fallback_is_never_a_link_itself() -> None:
    # A whole Bluesky handle is a domain the app links; its first label is not.
    assert public_name(HOSTILE, "evil.example") == "evil"
    assert public_name(None, "alice.bsky.social") == "alice"
    assert public_name(None, "ann@social.example") == "ann"
    # {handle} is a mention of the customer by design, with handle characters only.
    assert public_handle("cust1\u202e") == "@cust1"
    assert public_handle("@ann@social.example") == "@ann@social.example"
    assert public_handle("a b#c") == "@abc"


@pytest.fixture
def world(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    key = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", key)
    with open_store(sqlite_url) as store:
        # Queued only (--no-wait): the account's server is never asked.
        add_account(
            store, load_box(sqlite_url), "default", "x", "acme", "tok", server="http://127.0.0.1:9"
        )
        record_check(store, "default", "acme", "ok: @acme")
        add_user(scope(store, "default"), "ann", "agent")
        complaint = post(
            "x",
            "7001",
            "cust1",
            "@acmeair my flight was cancelled again and no refund, terrible service. why?",
            mentions=("acme",),
        )
        complaint.author = Author("x", "61", "cust1", display_name=HOSTILE)
        ingest(store, complaint)
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


def test_a_saved_reply_queues_a_clean_name_and_shows_it(
    world: dict[str, str], sqlite_url: str
) -> None:
    saved = _inbox(world, "saved", "add", "sorry", "Sorry about that, {name}: we are on it.")
    assert saved.returncode == 0, saved.stderr
    listed = _inbox(world, "list")
    assert listed.returncode == 0, listed.stderr
    done = _inbox(world, "reply", "1", "--saved", "sorry", "--no-wait")
    assert done.returncode == 0, done.stderr
    expected = "Sorry about that, cust1: we are on it."
    lines = done.stdout.splitlines()
    assert lines[0] == "case 1: reply queued"
    assert lines[1].strip() == expected  # the text that will go out, before it does
    with open_store(sqlite_url) as store:
        (action,) = Outbox(store, "default").list()
    text = action.payload["text"]
    assert text == expected
    for bad in ("evil.example", "@CEO", "#giveaway", "\u202e", "FREE"):
        assert bad not in str(text)
