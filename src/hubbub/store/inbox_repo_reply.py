"""Replies of cases, as the store keeps them: the timeline line (keyed, so
a reply is recorded once) and its link to the outbox row that sends it.
The steps and why they are crash-safe: ``hubbub.inbox.replies``.

A reply answers the customer only once the outbox has recorded it ``sent``:
queueing it changes nothing on the case, and a failed send leaves the case
as it was (its timeline line shows the failure). ``reply_sent`` is called by
the outbox in the very transaction that records ``sent`` (whoever sends it:
the command line, ``hubbub outbox send``, a worker, ``hubbub serve``), so a
crash cannot leave a sent reply uncounted or a counted one unsent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hubbub.inbox.model import CaseEvent, Status
from hubbub.store import schema as t
from hubbub.store.inbox_repo import InboxRepo
from hubbub.store.inbox_schema import inbox_case_events as _e
from hubbub.store.inbox_schema import inbox_case_posts as _p
from hubbub.store.outbox_schema import outbox_actions as _o
from hubbub.store.scope import Scope

BATCH_PREFIX = "inbox-"  # + the reply's key, cut to the outbox's 32-character batch column


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
        """Point the reply at its outbox row and end the replier's "being
        answered" claim. The case is not answered yet: that waits for the
        outbox to record the reply sent (``reply_sent``), unless it already
        has (a worker can send a row before this line runs)."""
        with self.engine.begin() as conn:
            # Lock the outbox row first, as its ``mark_sent`` does: one of the
            # two transactions then sees the other's work, never neither.
            sent = conn.execute(
                sa.select(_o.c.status, _o.c.sent_at)
                .where(self.scope.owns(_o), _o.c.id == outbox_id)
                .with_for_update()
            ).first()
            conn.execute(
                _e.update()
                .where(self.scope.owns(_e), _e.c.id == reserved.event_id, _e.c.outbox_id.is_(None))
                .values(outbox_id=outbox_id)
            )
            row = self._case_row(conn, reserved.case_id)
            values: dict[str, object] = {}
            if row["claimed_by"] == actor:
                values["claimed_by"] = None
                values["claim_until"] = None
            self._touch(conn, reserved.case_id, at, **values)
            if sent is not None and sent.status == "sent" and sent.sent_at is not None:
                self.answered(conn, reserved.event_id, sent.sent_at)

    def answered(self, conn: sa.Connection, event_id: int, sent_at: datetime) -> None:
        """The reply ``event_id`` was sent at ``sent_at``: the case's first
        response is then (if it had none) and it waits on the customer.
        Applied once per reply (the line remembers ``sent_at``), whichever of
        ``attach_reply`` and ``reply_sent`` gets here first."""
        line = (
            conn.execute(
                sa.select(_e).where(self.scope.owns(_e), _e.c.id == event_id).with_for_update()
            )
            .mappings()
            .first()
        )
        if line is None:
            return
        detail = dict(line["detail"]) if isinstance(line["detail"], dict) else {}
        if detail.get("sent_at"):
            return
        detail["sent_at"] = sent_at.isoformat()
        conn.execute(
            _e.update().where(self.scope.owns(_e), _e.c.id == event_id).values(detail=detail)
        )
        case_id = int(line["case_id"])
        row = self._case_row(conn, case_id)
        values: dict[str, object] = {}
        if row["first_response_at"] is None:
            values["first_response_at"] = sent_at
        before = row["status"]
        if before in (Status.NEW.value, Status.OPEN.value):
            values["status"] = Status.PENDING.value
            self._event(
                conn,
                case_id,
                "status",
                str(line["actor"]),
                sent_at,
                detail={"from": before, "to": Status.PENDING.value, "why": "replied"},
            )
        self._touch(conn, case_id, sent_at, **values)

    def reply_event(self, event_id: int) -> CaseEvent:
        with self.engine.connect() as conn:
            case_id = conn.execute(
                sa.select(_e.c.case_id).where(self.scope.owns(_e), _e.c.id == event_id)
            ).scalar_one()
            return next(e for e in self._timeline(conn, int(case_id)) if e.id == event_id)


def reply_sent(conn: sa.Connection, scope: Scope, action_id: int, sent_at: datetime) -> None:
    """The outbox recorded action ``action_id`` sent (inside ``conn``'s
    transaction): if it is a case's reply, that case is answered now."""
    action = conn.execute(
        sa.select(_o.c.kind, _o.c.batch, _o.c.payload).where(scope.owns(_o), _o.c.id == action_id)
    ).first()
    if action is None or action.kind != "reply" or not action.batch.startswith(BATCH_PREFIX):
        return  # a post or reply made with ``hubbub post``: no case to answer
    replies = sa.select(_e.c.id, _e.c.outbox_id, _e.c.text).where(
        scope.owns(_e), _e.c.kind == "reply"
    )
    # By key first (indexed, and found even before the line points at the
    # row); a key longer than the batch column holds is found by its row.
    key = action.batch.removeprefix(BATCH_PREFIX)
    line = conn.execute(replies.where(_e.c.reply_key == key)).first()
    if line is None or line.outbox_id not in (None, action_id):
        line = conn.execute(replies.where(_e.c.outbox_id == action_id)).first()
    payload = action.payload if isinstance(action.payload, dict) else {}
    if line is None or (line.outbox_id is None and payload.get("text") != line.text):
        return
    ReplyRepo(scope).answered(conn, int(line.id), sent_at)
