"""The facts behind ``hubbub inbox report``: per case opened in a period,
when it opened, when Hubbub first saw it, was first answered and resolved,
and by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hubbub.inbox.model import Hours, Priority, Status, Target
from hubbub.store.inbox_repo import InboxRepo
from hubbub.store.inbox_schema import inbox_case_events as _e
from hubbub.store.inbox_schema import inbox_cases as _c
from hubbub.store.outbox_schema import outbox_actions as _o


@dataclass(frozen=True, slots=True)
class ReportCase:
    id: int
    priority: Priority
    assignee: str | None
    opened_at: datetime
    seen_at: datetime  # when Hubbub made the case (first saw its post)
    first_response_at: datetime | None
    first_responder: str | None  # whose reply the outbox sent first
    resolved_at: datetime | None  # only while the case stays resolved
    resolver: str | None  # who resolved it last


def report_facts(
    repo: InboxRepo, since: datetime | None, until: datetime | None
) -> tuple[list[ReportCase], Hours, dict[Priority, Target]]:
    """Cases opened in [since, until), the business hours and the targets."""
    own = repo.scope.owns
    stmt = sa.select(_c).where(own(_c))
    if since is not None:
        stmt = stmt.where(_c.c.opened_at >= since)
    if until is not None:
        stmt = stmt.where(_c.c.opened_at < until)
    with repo.engine.connect() as conn:
        rows = list(conn.execute(stmt.order_by(_c.c.id)).mappings())
        ids = [int(r["id"]) for r in rows]
        first_reply: dict[int, str] = {}
        resolver: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # The first response is the first reply the outbox sent: a reply
            # that failed, or is still queued, answered nobody.
            sent = conn.execute(
                sa.select(_e.c.case_id, _e.c.actor)
                .select_from(_e.join(_o, sa.and_(_o.c.id == _e.c.outbox_id, own(_o))))
                .where(
                    own(_e),
                    _e.c.case_id.in_(chunk),
                    _e.c.kind == "reply",
                    _o.c.status == "sent",
                )
                .order_by(_o.c.sent_at, _e.c.id)
            )
            for case_id, actor in sent:
                first_reply.setdefault(int(case_id), actor)
            events = conn.execute(
                sa.select(_e.c.case_id, _e.c.actor, _e.c.detail)
                .where(own(_e), _e.c.case_id.in_(chunk), _e.c.kind == "status")
                .order_by(_e.c.id)
            )
            for case_id, actor, detail in events:
                if isinstance(detail, dict) and detail.get("to") == Status.RESOLVED.value:
                    resolver[int(case_id)] = actor
        hours = repo.hours_in(conn)
        targets = {Priority(p): repo.target_in(conn, Priority(p)) for p in Priority}
    facts = [
        ReportCase(
            id=int(r["id"]),
            priority=Priority(r["priority"]),
            assignee=r["assignee"],
            opened_at=r["opened_at"],
            seen_at=r["created_at"],
            first_response_at=r["first_response_at"],
            first_responder=first_reply.get(int(r["id"])),
            resolved_at=r["resolved_at"] if r["status"] == Status.RESOLVED.value else None,
            resolver=resolver.get(int(r["id"])) if r["status"] == Status.RESOLVED.value else None,
        )
        for r in rows
    ]
    return facts, hours, targets
