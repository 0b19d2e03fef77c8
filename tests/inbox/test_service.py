"""What agents do with a case, through the service the CLI and page share,
on SQLite and PostgreSQL: assignment by hand and round robin with caps,
"being answered" claims, status (snooze wakes up), priority, labels, notes,
the timeline, roles, and another workspace's case answering "not found"."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from hubbub.inbox.build import build_cases
from hubbub.inbox.errors import CaseNotFound, Claimed, InboxError, NotAllowed, TemplateError
from hubbub.inbox.model import Actor, Hours
from hubbub.inbox.service import Inbox
from hubbub.inbox.templates import FIELDS
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, add_user, connect, ingest, post

ANN = Actor("ann", "agent")
BOB = Actor("bob", "agent")
OWEN = Actor("owen", "owner")
VIC = Actor("vic", "viewer")


@pytest.fixture
def inbox(store: Store) -> Inbox:
    connect(store, SecretBox(secrets.token_bytes(32)))
    box = Inbox(scope(store, "default"))
    for actor in (ANN, BOB, OWEN, VIC):
        add_user(box.scope, actor.name, actor.role or "agent")
    return box


def _complaints(store: Store, inbox: Inbox, n: int) -> list[int]:
    for i in range(n):
        ingest(
            store,
            post(
                "x",
                f"50{i}",
                f"user{i}",
                f"@acme my order {i} arrived broken and nobody answers",
                minutes=i,
                mentions=("acme",),
            ),
        )
    build_cases(inbox.scope)
    return sorted(c.id for c in inbox.list_cases(OPERATOR))


def test_assign_by_hand_keeps_history_and_refuses_viewers(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    assert inbox.assign(ANN, case_id, "ann").status == "open"  # new -> open when taken
    inbox.assign(OWEN, case_id, "bob")
    with pytest.raises(InboxError, match="no user named"):
        inbox.assign(ANN, case_id, "nobody")
    with pytest.raises(InboxError, match="viewer"):
        inbox.assign(ANN, case_id, "vic")
    with pytest.raises(NotAllowed):
        inbox.assign(VIC, case_id, "ann")
    moves = [
        (e.actor, e.detail["from"], e.detail["to"])
        for e in inbox.get_case(VIC, case_id).timeline  # viewers read
        if e.kind == "assign"
    ]
    assert moves == [("ann", None, "ann"), ("owen", "ann", "bob")]
    assert [c.id for c in inbox.list_cases(BOB, "mine")] == [case_id]
    assert inbox.list_cases(ANN, "mine") == []
    assert inbox.list_cases(ANN, "unassigned") == []


def test_round_robin_takes_turns_and_respects_caps_and_availability(
    inbox: Inbox, store: Store
) -> None:
    ids = _complaints(store, inbox, 5)
    inbox.set_agent(OWEN, "owen", available=False)
    inbox.set_agent(OWEN, "ann", cap=2)
    inbox.set_agent(OWEN, "bob", cap=1)
    given = [inbox.auto_assign(OWEN, case_id).assignee for case_id in ids[:3]]
    assert given == ["ann", "bob", "ann"]
    with pytest.raises(InboxError, match="no available agent"):
        inbox.auto_assign(OWEN, ids[3])
    inbox.resolve(ANN, ids[0])  # room again under ann's cap
    assert inbox.auto_assign(OWEN, ids[3]).assignee == "ann"
    # An agent may mark themselves away, not change another's cap.
    inbox.set_agent(BOB, "bob", available=False)
    with pytest.raises(NotAllowed):
        inbox.set_agent(BOB, "ann", cap=50)
    agents = {a.name: a for a in inbox.agents(OWEN)}
    assert (agents["ann"].open_cases, agents["ann"].cap) == (2, 2)
    assert agents["bob"].available is False and "vic" not in agents


def test_new_cases_are_assigned_round_robin_when_the_workspace_says_so(
    inbox: Inbox, store: Store
) -> None:
    inbox.set_hours(OWEN, Hours(auto_assign=True))
    inbox.set_agent(OWEN, "owen", available=False)
    _complaints(store, inbox, 3)
    assert sorted(c.assignee or "-" for c in inbox.list_cases(OWEN)) == ["ann", "ann", "bob"]


def test_being_answered_is_one_agent_at_a_time(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    claim = inbox.claim(ANN, case_id)
    assert claim.user == "ann"
    with pytest.raises(Claimed) as refused:
        inbox.claim(BOB, case_id)
    assert refused.value.user == "ann"
    with pytest.raises(Claimed):
        inbox.reply(BOB, case_id, "I'll take it", key="bob-reply-0001")
    assert inbox.list_cases(BOB)[0].claim is not None  # the marker the others see
    inbox.release(BOB, case_id)  # not bob's to drop
    assert inbox.get_case(BOB, case_id).summary.claim == claim
    inbox.release(ANN, case_id)
    assert inbox.claim(BOB, case_id).user == "bob"


def test_status_priority_labels_notes_and_the_timeline(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    with pytest.raises(InboxError, match="snoozing needs"):
        inbox.set_status(ANN, case_id, "snoozed")
    with pytest.raises(InboxError, match="unknown status"):
        inbox.set_status(ANN, case_id, "closed")
    inbox.set_status(ANN, case_id, "pending")
    inbox.set_priority(ANN, case_id, "urgent")
    assert inbox.set_labels(ANN, case_id, ["Refund", "refund", " shipping "]).labels == (
        "refund",
        "shipping",
    )
    with pytest.raises(InboxError):
        inbox.set_labels(ANN, case_id, ["x" * 41])
    inbox.add_note(ANN, case_id, "Called the warehouse <b>not html</b>")
    with pytest.raises(InboxError):
        inbox.add_note(ANN, case_id, "   ")
    assert [c.id for c in inbox.list_cases(ANN, label="refund")] == [case_id]
    assert inbox.list_cases(ANN, label="billing") == []
    assert [c.id for c in inbox.list_cases(ANN, priority="urgent", network="x")] == [case_id]
    later = datetime.now(UTC) + timedelta(hours=2)
    assert inbox.set_status(ANN, case_id, "snoozed", until=later).status == "snoozed"
    case = inbox.get_case(ANN, case_id)
    kinds = [e.kind for e in case.timeline]
    assert kinds == ["created", "status", "priority", "labels", "note", "status"]
    assert case.timeline[4].text == "Called the warehouse <b>not html</b>"
    assert all(e.at.tzinfo is not None for e in case.timeline)
    assert case.accuracy.intent is not None and "intent" in case.accuracy.intent_note


def test_a_snoozed_case_wakes_up_open(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    inbox.set_status(ANN, case_id, "snoozed", until=datetime.now(UTC) + timedelta(seconds=1))
    # Not a timing assertion: the wake-up time is moved into the past.
    from hubbub.store.inbox_schema import inbox_cases

    with store.engine.begin() as conn:
        conn.execute(
            inbox_cases.update()
            .where(inbox_cases.c.id == case_id)
            .values(snoozed_until=datetime.now(UTC) - timedelta(minutes=1))
        )
    (case,) = inbox.list_cases(ANN)
    assert case.status == "open" and case.snoozed_until is None
    assert inbox.get_case(ANN, case_id).timeline[-1].actor == "hubbub"


def test_another_workspaces_case_is_not_found(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    other = Inbox(scope(store, "other"))
    for act in (
        lambda: other.get_case(OPERATOR, case_id),
        lambda: other.assign(OPERATOR, case_id, None),
        lambda: other.resolve(OPERATOR, case_id),
        lambda: other.add_note(OPERATOR, case_id, "hi"),
        lambda: other.claim(OPERATOR, case_id),
        lambda: other.reply(OPERATOR, case_id, "hi", key="other-ws-0001"),
        lambda: other.render_saved_reply(OPERATOR, "x", case_id),
    ):
        with pytest.raises((CaseNotFound, InboxError)):
            act()
    assert other.list_cases(OPERATOR) == []
    assert inbox.get_case(OPERATOR, case_id).summary.status == "new"  # untouched


def test_rules_and_settings_are_an_owners(inbox: Inbox) -> None:
    with pytest.raises(NotAllowed):
        inbox.set_hours(ANN, Hours())
    with pytest.raises(NotAllowed):
        inbox.add_rule(ANN, "x", ["lead"])
    with pytest.raises(NotAllowed):
        inbox.set_target(ANN, "high", first_response_minutes=5, resolution_minutes=None)
    with pytest.raises(InboxError, match="time zone"):
        inbox.set_hours(OWEN, Hours(timezone="Mars/Olympus"))
    with pytest.raises(InboxError, match="time zone"):
        inbox.set_hours(OWEN, Hours(timezone="../../etc/passwd"))
    with pytest.raises(InboxError):
        inbox.set_hours(OWEN, Hours(start_minute=600, end_minute=500))


def test_saved_replies_fill_only_plain_fields(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    inbox.save_reply(ANN, "sorry", "Hi {name} ({handle}), {agent} here about case {case}. {{ok}}")
    assert inbox.render_saved_reply(BOB, "sorry", case_id) == (
        f"Hi User0 (@user0), bob here about case {case_id}. {{ok}}"
    )
    for bad in (
        "{name.__class__}",
        "{name[0]}",
        "{name:>99999}",
        "{name!r}",
        "{0}",
        "{ name }",
        "{name",
        "name}",
    ):
        with pytest.raises(TemplateError):
            inbox.save_reply(ANN, "bad", bad)
    # Well formed but no case fills it: refused when saved, naming the field.
    with pytest.raises(TemplateError, match=r"unknown field \{nmae\}"):
        inbox.save_reply(ANN, "typo", "Hi {nmae}")
    # Every field a saved reply may name is one a case fills.
    inbox.save_reply(ANN, "all", " ".join("{" + f + "}" for f in FIELDS))
    assert "{" not in inbox.render_saved_reply(ANN, "all", case_id)
    with pytest.raises(InboxError):
        inbox.save_reply(ANN, "no spaces", "x")
    assert [r.code for r in inbox.saved_replies(VIC)] == ["all", "sorry"]
    with pytest.raises(NotAllowed):
        inbox.save_reply(VIC, "mine", "x")
    assert inbox.delete_saved_reply(ANN, "all") and not inbox.delete_saved_reply(ANN, "all")


def test_a_value_with_braces_is_not_read_again(inbox: Inbox, store: Store) -> None:
    from hubbub.inbox.templates import render

    assert render("Hi {name}", {"name": "{agent.__init__}"}) == "Hi {agent.__init__}"


def test_a_reply_is_queued_once_whatever_happens_between_the_steps(
    inbox: Inbox, store: Store
) -> None:
    from hubbub.outbox.queue import Outbox
    from hubbub.store.inbox_repo_reply import ReplyRepo

    (case_id,) = _complaints(store, inbox, 1)
    outbox = Outbox(store, "default")
    first = inbox.reply(ANN, case_id, "Sorry!", key="same-key-0001")
    assert inbox.reply(ANN, case_id, "Sorry!", key="same-key-0001").id == first.id
    assert [a.kind for a in outbox.list(batch="inbox-same-key-0001")] == ["reply"]
    (action,) = outbox.list(batch="inbox-same-key-0001")
    assert action.payload["target"] == "https://x.com/i/status/500"  # under the customer's post
    assert action.account == "xacct"
    # A crash after the timeline line was written and before the outbox row:
    # the retry with the same key queues it, once.
    repo = ReplyRepo(inbox.scope)
    at = datetime.now(UTC)
    target = repo.reply_target(case_id, "ann", at)
    repo.reserve_reply(case_id, "crash-key-0001", "Again", "ann", at, target, "xacct")
    assert outbox.list(batch="inbox-crash-key-0001") == []
    inbox.reply(ANN, case_id, "Again", key="crash-key-0001")
    inbox.reply(ANN, case_id, "Again", key="crash-key-0001")
    assert len(outbox.list(batch="inbox-crash-key-0001")) == 1
    replies = [e for e in inbox.get_case(ANN, case_id).timeline if e.kind == "reply"]
    assert [(e.text, e.outbox_status) for e in replies] == [
        ("Sorry!", "queued"),
        ("Again", "queued"),
    ]
    with pytest.raises(InboxError, match="another case"):
        (other,) = _complaints(store, inbox, 2)[1:]
        inbox.reply(ANN, other, "Sorry!", key="same-key-0001")
    with pytest.raises(InboxError, match="too long"):
        inbox.reply(ANN, case_id, "x" * 281)
    with pytest.raises(NotAllowed):
        inbox.reply(VIC, case_id, "hi")


def test_what_a_database_cannot_store_is_refused_first(inbox: Inbox, store: Store) -> None:
    (case_id,) = _complaints(store, inbox, 1)
    for act in (
        lambda: inbox.add_note(ANN, case_id, "a\x00b"),
        lambda: inbox.assign(ANN, case_id, "ann\x00"),
        lambda: inbox.reply(ANN, case_id, "hi \ud800"),
        lambda: inbox.save_reply(ANN, "code", "Hi\x00"),
        lambda: inbox.set_agent(OWEN, "x" * 101, cap=3),
        lambda: inbox.set_status(
            ANN, case_id, "snoozed", until=datetime.now(UTC) + timedelta(days=400)
        ),
        lambda: inbox.set_status(
            ANN, case_id, "snoozed", until=datetime.fromisoformat("9999-12-31T23:59:00-14:00")
        ),
    ):
        with pytest.raises(InboxError):
            act()
    assert [e.kind for e in inbox.get_case(ANN, case_id).timeline] == ["created"]
