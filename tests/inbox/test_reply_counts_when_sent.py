"""A reply answers the customer only once the outbox has sent it: a queued
or failed reply leaves the case as it was (status, first response, the
report's counts, the response-time clock), and whichever sender records
the reply sent marks the case answered, at that moment. A clock stopped
after its target reads "breached", never "met", in the CLI and the JSON.
On SQLite and PostgreSQL, against the loopback X write server."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest

from hubbub.cli.inbox import _clock
from hubbub.inbox.build import build_cases
from hubbub.inbox.model import Actor, Clock
from hubbub.inbox.replies import batch_of
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.outbox.queue import Outbox
from hubbub.outbox.sender import Sender
from hubbub.outbox.service import writer_factory
from hubbub.outbox.writers.http import new_client
from hubbub.store import Store
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import T0, add_user, ingest, post
from tests.loopback.write_servers import Running, XState, x_app

ANN = Actor("ann", "agent")


@pytest.fixture
def x_server() -> Iterator[tuple[XState, str]]:
    state = XState()
    with Running(x_app(state)) as server:
        yield state, server.url


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(secrets.token_bytes(32))


def _case(store: Store, box: SecretBox, server: str, token: str) -> tuple[Inbox, int]:
    add_account(store, box, "default", "x", "xacct", token, server=server)
    record_check(store, "default", "xacct", "ok: @acme")
    inbox = Inbox(scope(store, "default"))
    add_user(inbox.scope, "ann", "agent")
    ingest(
        store,
        post(
            "x",
            "7001",
            "cust1",
            "@acme my flight was cancelled, no refund, why?",
            mentions=("acme",),
        ),
    )
    # Seen a minute after it was written, weeks ago: timed, and long past an hour.
    build_cases(inbox.scope, now=T0 + timedelta(minutes=1))
    (case,) = inbox.list_cases(ANN)
    inbox.set_target(
        Actor("cli:test"), "normal", first_response_minutes=60, resolution_minutes=None
    )
    return inbox, case.id


def _send(store: Store, box: SecretBox, batch: str) -> None:
    async def run() -> None:
        async with new_client(5.0) as client:
            # No retries: the first unknown outcome fails the row (the test's clock).
            sender = Sender(
                Outbox(store, "default"),
                writer_factory(store, box, "default", client),
                retry_delays=(),
            )
            await sender.run_batch(batch, poll=0.05, deadline=30)

    asyncio.run(run())


def test_a_failed_reply_answers_nobody_and_a_sent_one_counts_when_sent(
    store: Store, box: SecretBox, x_server: tuple[XState, str]
) -> None:
    state, url = x_server
    inbox, case_id = _case(store, box, url, state.token)
    before = inbox.get_case(ANN, case_id)
    assert before.summary.status == "new" and before.summary.first_response_at is None

    key = "failed-reply-0001"
    event = inbox.reply(ANN, case_id, "We are sorry", key=key)
    # Queued, not sent: the case is exactly as it was and the clock runs on.
    queued = inbox.get_case(ANN, case_id)
    assert queued.summary.status == "new"
    assert queued.summary.first_response_at is None
    assert queued.first_response.met_at is None
    assert inbox.report(ANN).team.first_response_business.count == 0

    state.faults.next.append("503")  # the network refuses before storing: the send fails
    _send(store, box, batch_of(key))
    failed = inbox.get_case(ANN, case_id)
    (line,) = [e for e in failed.timeline if e.kind == "reply"]
    assert line.id == event.id and line.outbox_status == "failed"  # the timeline says so
    assert failed.summary.status == "new"
    assert failed.summary.first_response_at is None
    assert failed.first_response.met_at is None
    report = inbox.report(ANN)
    assert report.team.cases_handled == 0
    assert report.team.first_response_business.count == 0
    assert report.agents == ()
    assert state.tweets == []

    # Tried again and sent: now it counts, at the moment the outbox recorded it.
    outbox = Outbox(store, "default")
    assert event.outbox_id is not None and outbox.retry(event.outbox_id)
    _send(store, box, batch_of(key))
    action = outbox.get(event.outbox_id)
    assert action is not None and action.status == "sent" and action.sent_at is not None
    sent = inbox.get_case(ANN, case_id)
    assert sent.summary.status == "pending"
    assert sent.summary.first_response_at == action.sent_at
    assert sent.first_response.met_at == action.sent_at
    report = inbox.report(ANN)
    assert report.team.first_response_business.count == 1
    assert [(a.who, a.cases_handled) for a in report.agents] == [("ann", 1)]
    status_lines = [e for e in sent.timeline if e.kind == "status"]
    assert [(e.actor, e.detail.get("to")) for e in status_lines] == [("ann", "pending")]
    assert [t["text"] for t in state.tweets] == ["We are sorry"]


def test_a_reply_sent_before_it_is_linked_to_its_case_still_answers_it_once(
    store: Store, box: SecretBox, x_server: tuple[XState, str]
) -> None:
    # A worker can claim and send the outbox row between the reply being
    # queued and the timeline line pointing at it: the send must still count.
    state, url = x_server
    inbox, case_id = _case(store, box, url, state.token)
    repo = ReplyRepo(inbox.scope)
    at = T0 + timedelta(minutes=5)
    target = repo.reply_target(case_id, "ann", at)
    key = "early-send-0001"
    reserved = repo.reserve_reply(case_id, key, "Sorry!", "ann", at, target, "xacct")
    outbox = Outbox(store, "default")
    action = outbox.enqueue(
        batch=batch_of(key),
        account="xacct",
        network="x",
        kind="reply",
        payload={"text": "Sorry!", "target": reserved.target},
    )
    _send(store, box, batch_of(key))
    answered = inbox.get_case(ANN, case_id)
    assert answered.summary.status == "pending" and answered.summary.first_response_at
    repo.attach_reply(reserved, action.id, "ann", at)  # the late link changes nothing more
    again = inbox.get_case(ANN, case_id)
    assert again.summary.first_response_at == answered.summary.first_response_at
    assert len([e for e in again.timeline if e.kind == "status"]) == 1
    (line,) = [e for e in again.timeline if e.kind == "reply"]
    assert line.outbox_id == action.id and line.outbox_status == "sent"


def test_a_post_from_hubbub_post_touches_no_case(
    store: Store, box: SecretBox, x_server: tuple[XState, str]
) -> None:
    from hubbub.outbox.service import queue_post

    state, url = x_server
    inbox, case_id = _case(store, box, url, state.token)
    outbox = Outbox(store, "default")
    queued = queue_post(outbox, "We are sorry", reply_to="https://x.com/i/status/7001")
    _send(store, box, queued.batch)
    assert outbox.list(batch=queued.batch)[0].status == "sent"
    case = inbox.get_case(ANN, case_id)
    assert case.summary.status == "new" and case.summary.first_response_at is None


def test_a_clock_stopped_after_its_target_reads_breached_everywhere(
    store: Store, box: SecretBox, x_server: tuple[XState, str]
) -> None:
    late = Clock(target_minutes=60, used_minutes=60 * 26.45, met_at=T0, breached=True)
    assert late.state == "breached" and late.late_minutes == pytest.approx(60 * 25.45)
    text = _clock("first response", late, "answered")
    assert text == "first response: 26.45 of 1.00 business h, breached (answered 25.45 h late)"
    assert "met" not in text
    in_time = Clock(target_minutes=60, used_minutes=30, met_at=T0, breached=False)
    assert _clock("first response", in_time, "answered").endswith(", met")
    running = Clock(target_minutes=60, used_minutes=90, met_at=None, breached=True)
    assert _clock("first response", running, "answered").endswith("breached, 0.50 h late so far")

    # The case's JSON says the same of a reply sent after the target.
    state, url = x_server
    inbox, case_id = _case(store, box, url, state.token)
    inbox.reply(ANN, case_id, "We are sorry", key="late-reply-0001")
    _send(store, box, batch_of("late-reply-0001"))
    clock = inbox.get_case(ANN, case_id).as_json()["first_response"]
    assert isinstance(clock, dict)
    # The customer posted at T0 (a Monday 09:00 UTC, weeks ago): far past an hour.
    assert clock["met_at"] is not None and clock["breached"] is True
    assert clock["state"] == "breached" and clock["late_minutes"] > 0
