"""Cases from stored posts, on SQLite and PostgreSQL: mentions and replies
by the default rule, follow-ups joining, reopening, saved-query rules for
posts stored already and to come, and building twice adding nothing."""

from __future__ import annotations

import secrets

import pytest

from hubbub.inbox.build import build_cases
from hubbub.inbox.service import Inbox
from hubbub.listen import add_query
from hubbub.listen.saved import catch_up
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, connect, ingest, post

M = "https://other.example/users/{0}/statuses/{1}"


@pytest.fixture
def inbox(store: Store) -> Inbox:
    connect(store, SecretBox(secrets.token_bytes(32)))
    return Inbox(scope(store, "default"))


def _cases(inbox: Inbox) -> dict[str, dict[str, object]]:
    rows = inbox.list_cases(OPERATOR, status=["new", "open", "pending", "resolved", "snoozed"])
    return {c.author: c.as_json() for c in rows}


def test_mentions_by_the_default_rule_and_building_twice_adds_nothing(inbox: Inbox, store: Store):
    ingest(
        store,
        post(
            "mastodon",
            M.format("ann", 1),
            "ann@other.example",
            "@acme my order arrived broken and nobody answers, terrible service",
            mentions=("acme@social.example",),
        ),
        post(
            "mastodon",
            M.format("bob", 2),
            "bob@other.example",
            "@acme thanks, love it!",
            mentions=("acme@social.example",),
        ),
        post(
            "x",
            "1001",
            "cat",
            "@acme how do I reset my password?",
            mentions=("acme",),
            conversation_id="1001",
        ),
        # Someone else of the same user name on another server.
        post(
            "mastodon",
            M.format("kim", 3),
            "kim@other.example",
            "@acme how do I reset my password?",
            mentions=("acme@elsewhere.example",),
        ),
        # Not a mention of us: the same words about someone else.
        post("x", "1002", "dan", "@notacme how do I reset my password?", mentions=("notacme",)),
        # Our own account's post is never a case.
        post(
            "x", "1003", "acme", "@cat how do I reset my password? see our FAQ", mentions=("cat",)
        ),
    )
    first = build_cases(inbox.scope)
    assert first.created == 2
    cases = _cases(inbox)
    assert set(cases) == {"ann@other.example", "cat"}  # praise is no case by default
    assert cases["ann@other.example"]["intent"] == "complaint"
    assert cases["ann@other.example"]["post_ids"] == [M.format("ann", 1)]
    assert cases["cat"]["network"] == "x" and cases["cat"]["status"] == "new"
    again = build_cases(inbox.scope)
    assert (again.created, again.joined) == (0, 0)
    # A fresh cursor (another process, a crash before the cursor was saved)
    # still adds nothing: a post is in at most one case.
    from hubbub.store.inbox_repo_build import CaseBuilder

    builder = CaseBuilder(inbox.scope)
    with builder.engine.begin() as conn:
        builder.set_cursor(conn, "posts", "0")
    assert build_cases(inbox.scope).created == 0
    assert len(_cases(inbox)) == 2


def test_follow_up_joins_and_a_new_post_reopens_a_resolved_case(inbox: Inbox, store: Store):
    ingest(
        store,
        post(
            "x",
            "2001",
            "eve",
            "@acme the app crashes on login, fix it",
            mentions=("acme",),
            conversation_id="2001",
        ),
    )
    build_cases(inbox.scope)
    (case,) = inbox.list_cases(OPERATOR)
    # Same author, same thread: joins, whatever its intent.
    ingest(
        store,
        post("x", "2002", "eve", "thanks", minutes=5, reply_to="2001", conversation_id="2001"),
    )
    # Another author in the thread, and the same author elsewhere: no join.
    ingest(
        store,
        post("x", "2003", "fay", "same here", minutes=6, reply_to="2001", conversation_id="2001"),
    )
    ingest(store, post("x", "2004", "eve", "nice weather", minutes=7, conversation_id="2004"))
    built = build_cases(inbox.scope)
    assert (built.created, built.joined) == (0, 1)
    assert inbox.get_case(OPERATOR, case.id).summary.post_ids == ("2001", "2002")
    inbox.resolve(OPERATOR, case.id)
    assert inbox.list_cases(OPERATOR) == []  # resolved cases leave the default list
    ingest(
        store,
        post(
            "x",
            "2005",
            "eve",
            "it broke again",
            minutes=60,
            reply_to="2002",
            conversation_id="2001",
        ),
    )
    assert build_cases(inbox.scope).reopened == 1
    reopened = inbox.get_case(OPERATOR, case.id)
    assert reopened.summary.status == "open"
    assert reopened.summary.resolved_at is None
    kinds = [(e.kind, e.detail.get("to")) for e in reopened.timeline]
    assert kinds[-2:] == [("post", None), ("status", "open")]


def test_mastodon_follow_up_without_conversation_ids(inbox: Inbox, store: Store):
    """Mastodon gives no conversation id: the thread is walked by reply links."""
    first = M.format("gus", 10)
    ingest(
        store,
        post(
            "mastodon",
            first,
            "gus@other.example",
            "@acme where is my refund?",
            mentions=("acme@social.example",),
        ),
    )
    build_cases(inbox.scope)
    second = M.format("gus", 11)
    ingest(
        store,
        post("mastodon", second, "gus@other.example", "still waiting", minutes=30, reply_to=first),
    )
    assert build_cases(inbox.scope).joined == 1
    (case,) = inbox.list_cases(OPERATOR)
    assert case.post_ids == (first, second)


def test_rule_makes_cases_of_stored_matches_and_of_those_to_come(inbox: Inbox, store: Store):
    ingest(store, post("x", "3001", "hal", "I want to buy 20 licenses of widgetco for my team"))
    ingest(store, post("x", "3002", "ida", "widgetco thanks, love it!"))
    add_query(store, "brand", "widgetco", workspace="default")
    assert build_cases(inbox.scope).created == 0  # no rule yet: listening alone makes no case
    with pytest.raises(ValueError, match="unknown intent"):
        inbox.add_rule(OPERATOR, "brand", ["lead", "gossip"])
    rule = inbox.add_rule(OPERATOR, "brand", ["lead"])
    assert rule.intents == ("lead",)
    cases = _cases(inbox)
    assert set(cases) == {"hal"} and cases["hal"]["origin"] == "rule"
    ingest(store, post("x", "3003", "jo", "who sells widgetco? I want to buy 50 seats", minutes=3))
    catch_up(store, workspace="default")  # the listener's job in a running Hubbub
    build_cases(inbox.scope)
    assert set(_cases(inbox)) == {"hal", "jo"}
    assert [r.saved_query for r in inbox.rules(OPERATOR)] == ["brand"]
    assert inbox.remove_rule(OPERATOR, "brand")
    assert inbox.rules(OPERATOR) == []
    assert set(_cases(inbox)) == {"hal", "jo"}  # removing a rule keeps its cases


def test_a_reply_to_our_own_post_is_a_case(inbox: Inbox, store: Store) -> None:
    """A post sent through the outbox; a customer complains under it without
    mentioning us (a reply need not name the account it answers)."""
    from hubbub.outbox.queue import Outbox

    outbox = Outbox(store, "default")
    queued = outbox.enqueue(
        batch="ours", account="xacct", network="x", kind="post", payload={"text": "New app!"}
    )
    claimed = outbox.claim("test", batch="ours")
    assert claimed is not None and claimed.id == queued.id
    assert outbox.mark_sent(queued.id, "test", "4000", "https://x.com/acme/status/4000")
    ingest(
        store,
        post(
            "x",
            "4001",
            "lee",
            "the new app crashes on login, fix it",
            reply_to="4000",
            conversation_id="4000",
        ),
        post("x", "4002", "max", "love the new app", reply_to="4000", conversation_id="4000"),
    )
    assert build_cases(inbox.scope).created == 1
    (case,) = inbox.list_cases(OPERATOR)
    assert (case.author, case.origin, case.post_ids) == ("lee", "reply", ("4001",))
    assert inbox.get_case(OPERATOR, case.id).account == "xacct"


def test_no_account_no_case_no_write_and_old_posts_count_once_one_is_connected(
    store: Store,
) -> None:
    import sqlalchemy as sa

    from hubbub.store.inbox_schema import inbox_cursors

    ingest(
        store,
        post(
            "x",
            "6001",
            "nia",
            "@acme how do I reset my password?",
            mentions=("acme",),
            conversation_id="6001",
        ),
    )
    bare = Inbox(scope(store, "default"))
    assert build_cases(bare.scope).created == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(inbox_cursors)).scalar() == 0
    connect(store, SecretBox(secrets.token_bytes(32)))
    assert build_cases(bare.scope).created == 1  # the post stored before still counts
