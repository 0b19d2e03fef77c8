"""Repair cases answered by replies that never went out; index the timeline's outbox link.

Before 195ba3b a case counted as answered when its reply was queued: the
first reply set ``first_response_at`` (to the moment it was queued) and moved
a new or open case to pending, even if the outbox then failed to send it.
Now only a reply the outbox records ``sent`` answers a case. A database from
before still holds cases whose first response is a reply that failed (or was
cancelled, or still waits in the outbox); their clocks read "met" and the
report counts them as answered.

A case's first response stands when a reply of it that the outbox sent was
written at or before it (under the old rule it is that reply's queueing
time, under the new one its sending time: both are kept). Any other first
response came from a reply that was not sent: it becomes the sending time of
the case's first sent reply, or nothing. A case left with no sent reply that
is pending only because such a reply moved it there (its latest status line
is the "replied" one) goes back to the status it had, with a timeline line
saying why. A reply still queued answers the case when it is sent, as any
reply does now.

The index on ``inbox_case_events (workspace_id, outbox_id)`` serves the
outbox's lookup of the reply it just sent and the joins from sent outbox rows
to their cases. Migration 0010 creates the inbox tables from the current
metadata, so on a new database the index exists already: it is created only
when missing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_INDEX = "ix_inbox_case_events_outbox"

# The columns this repair reads and writes, as they were at 0015 (the live
# metadata may change after this migration is written).
_cases = sa.table(
    "inbox_cases",
    sa.column("id", sa.BigInteger),
    sa.column("workspace_id", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("first_response_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
_events = sa.table(
    "inbox_case_events",
    sa.column("id", sa.BigInteger),
    sa.column("workspace_id", sa.BigInteger),
    sa.column("case_id", sa.BigInteger),
    sa.column("at", sa.DateTime),
    sa.column("actor", sa.String),
    sa.column("kind", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("outbox_id", sa.BigInteger),
)
_outbox = sa.table(
    "outbox_actions",
    sa.column("id", sa.BigInteger),
    sa.column("workspace_id", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("sent_at", sa.DateTime),
)

_SENT_REPLIES = _events.join(
    _outbox,
    sa.and_(_outbox.c.id == _events.c.outbox_id, _outbox.c.workspace_id == _events.c.workspace_id),
)


def _sent_reply_of(case_id: sa.ColumnElement[int] | int) -> sa.ColumnElement[bool]:
    return sa.and_(
        _events.c.case_id == case_id,
        _events.c.kind == "reply",
        _outbox.c.status == "sent",
        _outbox.c.sent_at.is_not(None),
    )


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if _INDEX not in {i["name"] for i in inspector.get_indexes("inbox_case_events")}:
        op.create_index(_INDEX, "inbox_case_events", ["workspace_id", "outbox_id"])

    stands = (
        sa.select(sa.literal(1))
        .select_from(_SENT_REPLIES)
        .where(_sent_reply_of(_cases.c.id), _events.c.at <= _cases.c.first_response_at)
    )
    wrong = bind.execute(
        sa.select(_cases.c.id, _cases.c.workspace_id, _cases.c.status).where(
            _cases.c.first_response_at.is_not(None), ~sa.exists(stands)
        )
    ).all()
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as UTCDateTime stores it
    for case_id, workspace_id, status in wrong:
        first_sent = bind.execute(
            sa.select(sa.func.min(_outbox.c.sent_at))
            .select_from(_SENT_REPLIES)
            .where(_sent_reply_of(case_id), _events.c.workspace_id == workspace_id)
        ).scalar_one()
        values: dict[str, object] = {"first_response_at": first_sent, "updated_at": now}
        if first_sent is None and status == "pending":
            back = _status_before_unsent_reply(bind, case_id, workspace_id)
            if back is not None:
                values["status"] = back
                bind.execute(
                    _events.insert().values(
                        workspace_id=workspace_id,
                        case_id=case_id,
                        at=now,
                        actor="hubbub",
                        kind="status",
                        detail={"from": "pending", "to": back, "why": "reply not sent"},
                    )
                )
        bind.execute(
            _cases.update()
            .where(_cases.c.id == case_id, _cases.c.workspace_id == workspace_id)
            .values(**values)
        )


def _status_before_unsent_reply(bind: sa.Connection, case_id: int, workspace_id: int) -> str | None:
    """The status a case had before a reply that was never sent made it
    pending, if that is still the case's latest status change."""
    latest = bind.execute(
        sa.select(_events.c.detail)
        .where(
            _events.c.case_id == case_id,
            _events.c.workspace_id == workspace_id,
            _events.c.kind == "status",
        )
        .order_by(_events.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if not isinstance(latest, dict):
        return None
    before = latest.get("from")
    if (
        latest.get("why") == "replied"
        and latest.get("to") == "pending"
        and before in ("new", "open")
    ):
        return str(before)
    return None


def downgrade() -> None:
    # The repaired first responses are not put back: they were wrong.
    op.drop_index(_INDEX, table_name="inbox_case_events")
