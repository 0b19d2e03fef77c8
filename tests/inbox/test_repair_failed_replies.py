"""Migration 0016 on SQLite and PostgreSQL: a database from before replies
counted only once sent still holds cases "answered" by a reply the outbox
failed to send. The repair takes the first response from the first reply
that was sent, or clears it (and puts back the status the failed reply
changed); first responses of sent replies stay. It also adds the index on
the timeline's link to the outbox."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import hubbub.store.engine as engine_module
from hubbub.inbox.build import build_cases
from hubbub.inbox.model import Actor
from hubbub.inbox.replies import batch_of
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.outbox.queue import Outbox
from hubbub.store import Store, open_store
from hubbub.store.inbox_schema import inbox_case_events, inbox_cases
from hubbub.store.scope import scope
from tests.inbox.helpers import T0, add_user, connect, ingest, post

ANN = Actor("ann", "agent")
INDEX = "ix_inbox_case_events_outbox"


def _config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(engine_module.__file__).with_name("migrations"))
    )
    return config


def _migrate(engine: sa.Engine, to: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if to == "head":
            command.upgrade(config, to)
        else:
            command.downgrade(config, to)


def _before_repair() -> str:
    revision = ScriptDirectory.from_config(_config()).get_revision("0016")
    assert revision is not None and isinstance(revision.down_revision, str)
    return revision.down_revision


def _indexes(engine: sa.Engine) -> set[str]:
    return {str(i["name"]) for i in sa.inspect(engine).get_indexes("inbox_case_events")}


@pytest.fixture
def db(db_url: str) -> Iterator[Store]:
    store = open_store(db_url)
    yield store
    store.close()


def _reply(inbox: Inbox, case_id: int, key: str, *, sent: bool) -> int:
    """A reply queued as the page or CLI queues it, then recorded by a
    sender as sent or failed. Its timeline line's id."""
    event = inbox.reply(ANN, case_id, "We are sorry, a refund is on its way", key=key)
    assert event.outbox_id is not None
    outbox = Outbox(inbox.scope.store, "default")
    claimed = outbox.claim("test-sender", batch=batch_of(key))
    assert claimed is not None and claimed.id == event.outbox_id
    if sent:
        assert outbox.mark_sent(claimed.id, "test-sender", f"remote-{claimed.id}", None)
    else:
        assert outbox.mark_failed(claimed.id, "test-sender", "403 from x: not allowed")
    return event.id


def _as_the_old_code_left_it(conn: sa.Connection, case_id: int, failed_event: int) -> None:
    """What queueing the failed reply did before 195ba3b: the case answered
    at that moment and, if new or open, pending, with its timeline line."""
    e, c = inbox_case_events, inbox_cases
    line = conn.execute(sa.select(e.c.at, e.c.workspace_id).where(e.c.id == failed_event)).one()
    status = conn.execute(sa.select(c.c.status).where(c.c.id == case_id)).scalar_one()
    if status in ("new", "open"):
        conn.execute(
            e.insert().values(
                workspace_id=line.workspace_id,
                case_id=case_id,
                at=line.at,
                actor="ann",
                kind="status",
                detail={"from": status, "to": "pending", "why": "replied"},
            )
        )
    conn.execute(
        c.update().where(c.c.id == case_id).values(first_response_at=line.at, status="pending")
    )


def test_the_repair_counts_only_replies_that_were_sent(db: Store) -> None:
    connect(db, SecretBox(secrets.token_bytes(32)))
    inbox = Inbox(scope(db, "default"))
    add_user(inbox.scope, "ann", "agent")
    ingest(
        db,
        *(
            post(
                "x",
                f"80{n}",
                f"cust{n}",
                "@acme my flight was cancelled, no refund, why?",
                mentions=("acme",),
            )
            for n in range(3)
        ),
    )
    build_cases(inbox.scope, now=T0 + timedelta(minutes=1))
    retried, failed_only, sent_only = sorted(c.id for c in inbox.list_cases(ANN))

    failed_first = _reply(inbox, retried, "retried-failed-01", sent=False)
    _reply(inbox, retried, "retried-sent-0001", sent=True)
    failed_alone = _reply(inbox, failed_only, "failed-alone-0001", sent=False)
    _reply(inbox, sent_only, "sent-alone-00001", sent=True)
    sent_at = {
        case_id: inbox.get_case(ANN, case_id).summary.first_response_at
        for case_id in (retried, sent_only)
    }
    assert all(sent_at.values())
    assert inbox.get_case(ANN, failed_only).summary.first_response_at is None

    # The database as it was before the fix (and before 0016).
    _migrate(db.engine, _before_repair())
    assert INDEX not in _indexes(db.engine)
    with db.engine.begin() as conn:
        _as_the_old_code_left_it(conn, retried, failed_first)
        _as_the_old_code_left_it(conn, failed_only, failed_alone)
    wrong = inbox.get_case(ANN, failed_only)
    assert wrong.summary.status == "pending" and wrong.first_response.met_at is not None
    old_report = inbox.report(ANN)
    # The failed-only case counts as handled and answered in the report.
    assert old_report.team.cases_handled == old_report.team.first_response_business.count == 3

    for _ in range(2):  # a second run (down and up again) changes nothing more
        _migrate(db.engine, "head")
        assert INDEX in _indexes(db.engine)

        # Failed, then sent: answered when the second reply went out.
        case = inbox.get_case(ANN, retried)
        assert case.summary.first_response_at == sent_at[retried]
        assert case.summary.status == "pending"
        assert case.first_response.met_at == sent_at[retried]

        # Failed only: unanswered and back to new, and the timeline says why.
        case = inbox.get_case(ANN, failed_only)
        assert case.summary.first_response_at is None
        assert case.summary.status == "new"
        assert case.first_response.met_at is None
        repaired = [e for e in case.timeline if e.kind == "status" and e.detail.get("to") == "new"]
        assert len(repaired) == 1
        assert (repaired[0].actor, repaired[0].detail) == (
            "hubbub",
            {"from": "pending", "to": "new", "why": "reply not sent"},
        )

        # Sent under the new rule: untouched.
        case = inbox.get_case(ANN, sent_only)
        assert case.summary.first_response_at == sent_at[sent_only]
        assert case.summary.status == "pending"

        report = inbox.report(ANN)
        assert report.team.cases_handled == 2
        assert report.team.first_response_business.count == 2
        _migrate(db.engine, _before_repair())
    _migrate(db.engine, "head")


def test_a_failed_reply_after_a_sent_one_changes_nothing(db: Store) -> None:
    """Old rule: the first reply was sent, so the first response is its
    queueing time; a later failed reply does not make the case wrong."""
    connect(db, SecretBox(secrets.token_bytes(32)))
    inbox = Inbox(scope(db, "default"))
    add_user(inbox.scope, "ann", "agent")
    ingest(db, post("x", "9001", "cust9", "@acme still no refund?", mentions=("acme",)))
    build_cases(inbox.scope, now=T0 + timedelta(minutes=1))
    (case_id,) = [c.id for c in inbox.list_cases(ANN)]
    first = _reply(inbox, case_id, "sent-first-00001", sent=True)
    _reply(inbox, case_id, "failed-later-0001", sent=False)
    _migrate(db.engine, _before_repair())
    with db.engine.begin() as conn:
        queued_at = conn.execute(
            sa.select(inbox_case_events.c.at).where(inbox_case_events.c.id == first)
        ).scalar_one()
        conn.execute(inbox_cases.update().values(first_response_at=queued_at))
    _migrate(db.engine, "head")
    case = inbox.get_case(ANN, case_id)
    assert case.summary.first_response_at == queued_at
    assert case.summary.status == "pending"
