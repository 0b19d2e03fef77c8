"""The inbox names a Jetstream customer by handle, not by DID.

A case opened from a Jetstream post names its author by DID alone. The case
JSON (list and detail, as the inbox page gets them) keeps ``author`` (the
handle as stored: the DID) and ``author_id`` and adds ``author_handle`` (the
handle the store learnt, else null) and ``author_label`` (``@handle``, else
a shortened DID), on the case and on each of its posts; a list asks the
store once for all its cases. Real recorded Jetstream events imported by the
real CLI, a saved-query rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

from hubbub.inbox.build import build_cases
from hubbub.inbox.service import Inbox
from hubbub.listen import add_query
from hubbub.networks.secrets import SecretBox
from hubbub.store import open_store
from hubbub.store.scope import scope
from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.inbox.helpers import OPERATOR, connect, ingest, post
from tests.jetstream_authors import (
    audience_lookups,
    chat_events,
    followers_fetched,
    statements,
    write_jsonl,
)

STATUSES = ["new", "open", "pending", "resolved", "snoozed"]
NAME = "customer.example.com"


def test_a_jetstream_customer_is_named_by_known_handle_else_short_did(
    db_url: str, tmp_path: Path
) -> None:
    require_shared_data()
    chat = write_jsonl(tmp_path / "chat.jsonl", chat_events("didchat", "c"))
    done = hubbub("import", "--db", db_url, chat)
    assert done.returncode == 0, done.stderr
    with open_store(db_url) as store:
        add_query(store, "chat", "#didchat", workspace="default")
        inbox = Inbox(scope(store, "default"))
        inbox.add_rule(OPERATOR, "chat", ["complaint", "question", "lead"])
        # Every author of the capture is known only by DID. How many of its posts
        # become cases is the classifier's call (a retrained model may open more);
        # the first case is the one followed.
        cases = inbox.list_cases(OPERATOR, status=STATUSES)
        assert cases
        case = cases[0]
        did = case.author_id
        assert did.startswith("did:plc:") and case.author == did
        listed = case.as_json()
        assert (listed["author"], listed["author_id"]) == (did, did)  # as before
        assert (listed["author_handle"], listed["author_label"]) == (None, did[:16] + "…")
        shown = inbox.get_case(OPERATOR, case.id).as_json()
        assert (shown["author_handle"], shown["author_label"]) == (None, did[:16] + "…")
        (post,) = shown["posts"]
        assert post["author"] == did
        assert (post["author_handle"], post["author_label"]) == (None, did[:16] + "…")

        # An audience fetch later names the DID: the case shows the handle.
        followers_fetched(store, "default", {did: NAME})
        with statements(store.engine) as seen:
            listed_now = inbox.list_cases(OPERATOR, status=STATUSES)
        assert audience_lookups(seen) == 1  # one lookup for the whole list
        (case,) = [c for c in listed_now if c.id == case.id]
        others = {c.author_id for c in listed_now if c.author_id != did}
        assert all(
            c.as_json()["author_handle"] is None for c in listed_now if c.author_id in others
        )
        listed = case.as_json()
        assert (listed["author"], listed["author_id"]) == (did, did)
        assert (listed["author_handle"], listed["author_label"]) == (NAME, f"@{NAME}")
        shown = inbox.get_case(OPERATOR, case.id).as_json()
        assert (shown["author_handle"], shown["author_label"]) == (NAME, f"@{NAME}")
        assert [(p["author"], p["author_label"]) for p in shown["posts"]] == [(did, f"@{NAME}")]
        # Another workspace's inbox never sees the case, nor this handle.
        assert Inbox(scope(store, "other")).list_cases(OPERATOR, status=STATUSES) == []


def test_a_named_customer_keeps_the_handle_the_post_carries(tmp_path: Path) -> None:
    """Posts that carry a handle are labelled without asking the store."""
    with open_store(str(tmp_path / "h.db")) as store:
        connect(store, SecretBox(secrets.token_bytes(32)))
        ingest(
            store,
            post(
                "mastodon",
                "https://other.example/users/ann/statuses/1",
                "ann@other.example",
                "@acme my order arrived broken and nobody answers, terrible service",
                mentions=("acme@social.example",),
            ),
        )
        inbox = Inbox(scope(store, "default"))
        assert build_cases(inbox.scope).created == 1
        (case,) = inbox.list_cases(OPERATOR, status=STATUSES)
        data = case.as_json()
        assert data["author"] == data["author_handle"] == "ann@other.example"
        assert data["author_label"] == "@ann@other.example"
