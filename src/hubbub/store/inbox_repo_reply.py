"""Replies of cases, as the store keeps them: the timeline line (keyed, so
a reply is recorded once) and its link to the outbox row that sends it.
The steps and why they are crash-safe: ``hubbub.inbox.replies``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hubbub.inbox.model import CaseEvent, Status
from hubbub.store import schema as t
from hubbub.store.inbox_repo import InboxRepo
from hubbub.store.inbox_schema import inbox_case_events as _e
from hubbub.store.inbox_schema import inbox_case_posts as _p


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a case's reply goes: under the customer's latest post."""

    network: str
    post_id: str
    target: str  # what the outbox's writers take: a post URL, an at:// URI
    account: str | None  # the connected account the case concerns


@dataclass(frozen=True, slots=True)
class Reserved:
    """A reply's timeline line, before or after its outbox row exists."""

    event_id: int
    case_id: int
    text: str
    account: str
    network: str
    target: str
    outbox_id: int | None


def target_of(network: str, post_id: str, url: str | None) -> str:
    if network == "bluesky":
        return post_id  # the at:// URI the writer threads under
    if network == "x":
        return f"https://x.com/i/status/{post_id}"
    if url and url.startswith(("https://", "http://")):
        return url
    return post_id  # a Mastodon status URI is a URL too


class ReplyRepo(InboxRepo):
    """Reply bookkeeping of ``scope``'s cases."""

    def reply_target(self, case_id: int, actor: str, at: datetime) -> ReplyTarget:
        """CaseNotFound; Claimed when another agent is answering right now."""
        with self.engine.connect() as conn:
            row = self._case_row(conn, case_id)
            self.check_claim(conn, row, actor, at)
            latest = conn.execute(
                sa.select(_p.c.post_id, t.posts.c.url)
                .select_from(_p.outerjoin(t.posts, t.posts.c.pk == _p.c.post_pk))
                .where(self.scope.owns(_p), _p.c.case_id == case_id)
                .order_by(_p.c.posted_at.desc(), _p.c.post_id.desc())
                .limit(1)
            ).first()
        assert latest is not None, "a case always has a post"
        return ReplyTarget(
            network=row["network"],
            post_id=latest.post_id,
            target=target_of(row["network"], latest.post_id, latest.url),
            account=row["account"],
        )

    def _reserved(self, row: sa.RowMapping) -> Reserved:
        detail = row["detail"] if isinstance(row["detail"], dict) else {}
        return Reserved(
            event_id=int(row["id"]),
            case_id=int(row["case_id"]),
            text=row["text"] or "",
            account=str(detail.get("account", "")),
            network=str(detail.get("network", "")),
            target=str(detail.get("target", "")),
            outbox_id=row["outbox_id"],
        )

    def reply_by_key(self, key: str) -> Reserved | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(_e).where(self.scope.owns(_e), _e.c.reply_key == key))
                .mappings()
                .first()
            )
        return self._reserved(row) if row else None

    def reserve_reply(
        self,
        case_id: int,
        key: str,
        text: str,
        actor: str,
        at: datetime,
        target: ReplyTarget,
        account: str,
    ) -> Reserved:
        detail: dict[str, object] = {
            "account": account,
            "network": target.network,
            "target": target.target,
            "in_reply_to": target.post_id,
        }
        try:
            with self.engine.begin() as conn:
                self._case_row(conn, case_id)
                self._event(
                    conn, case_id, "reply", actor, at, text=text, detail=detail, reply_key=key
                )
                self._touch(conn, case_id, at)
        except sa.exc.IntegrityError:
            pass  # the same key at the same moment from elsewhere: that one stands
        found = self.reply_by_key(key)
        assert found is not None
        return found

    def attach_reply(self, reserved: Reserved, outbox_id: int, actor: str, at: datetime) -> None:
        """Point the reply at its outbox row; the case's first response is
        now (if it had none), it waits on the customer, and the replier's
        "being answered" claim ends."""
        with self.engine.begin() as conn:
            conn.execute(
                _e.update()
                .where(self.scope.owns(_e), _e.c.id == reserved.event_id, _e.c.outbox_id.is_(None))
                .values(outbox_id=outbox_id)
            )
            row = self._case_row(conn, reserved.case_id)
            values: dict[str, object] = {}
            if row["first_response_at"] is None:
                values["first_response_at"] = at
            if row["claimed_by"] == actor:
                values["claimed_by"] = None
                values["claim_until"] = None
            before = row["status"]
            if before in (Status.NEW.value, Status.OPEN.value):
                values["status"] = Status.PENDING.value
                self._event(
                    conn,
                    reserved.case_id,
                    "status",
                    actor,
                    at,
                    detail={"from": before, "to": Status.PENDING.value, "why": "replied"},
                )
            self._touch(conn, reserved.case_id, at, **values)

    def reply_event(self, event_id: int) -> CaseEvent:
        with self.engine.connect() as conn:
            case_id = conn.execute(
                sa.select(_e.c.case_id).where(self.scope.owns(_e), _e.c.id == event_id)
            ).scalar_one()
            return next(e for e in self._timeline(conn, int(case_id)) if e.id == event_id)
