"""The outbox table, scoped to one workspace: every state change of an action.

``hubbub.outbox.queue`` explains the states and what a crash in each leaves
behind; this module is where they are written. Each state change is one short
transaction, and claiming is a compare-and-set on the row (``UPDATE … WHERE
status and lease still as read``), atomic on SQLite and PostgreSQL alike, so
two senders never own one row. Every statement carries the scope's condition:
an action id of another workspace is not found, not changed.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from hubbub.store.inbox_repo_reply import reply_sent
from hubbub.store.outbox_schema import outbox_actions as _t
from hubbub.store.scope import Scope


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = (Status.SENT, Status.FAILED, Status.CANCELLED)


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    batch: str
    account: str
    network: str
    kind: str
    payload: Mapping[str, object]
    idempotency_key: str
    status: Status
    attempts: int
    next_try_at: datetime
    maybe_sent: bool
    remote_id: str | None
    remote_url: str | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None

    @property
    def text(self) -> str:
        value = self.payload.get("text")
        return value if isinstance(value, str) else ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "batch": self.batch,
            "account": self.account,
            "network": self.network,
            "kind": self.kind,
            "status": str(self.status),
            "attempts": self.attempts,
            "next_try_at": self.next_try_at.isoformat(),
            "url": self.remote_url,
            "remote_id": self.remote_id,
            "error": self.error,
            "text": self.text,
            "target": self.payload.get("target"),
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


def _action(row: sa.RowMapping) -> Action:
    payload = row["payload"] if isinstance(row["payload"], dict) else {}
    return Action(
        id=row["id"],
        batch=row["batch"],
        account=row["account"],
        network=row["network"],
        kind=row["kind"],
        payload=payload,
        idempotency_key=row["idempotency_key"],
        status=Status(row["status"]),
        attempts=row["attempts"],
        next_try_at=row["next_try_at"],
        maybe_sent=bool(row["maybe_sent"]),
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        error=row["error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


class OutboxActions:
    """One workspace's outbox rows. ``now`` is injectable for tests of timing."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def _scoped(self) -> sa.ColumnElement[bool]:
        return self.scope.owns(_t)

    def add(
        self,
        *,
        batch: str,
        account: str,
        network: str,
        kind: str,
        payload: Mapping[str, object],
        idempotency_key: str,
    ) -> Action:
        """A new queued row, due now (the feature checked what it holds)."""
        now = self.now()
        values = {
            **self.scope.values(),
            "batch": batch,
            "account": account,
            "network": network,
            "kind": kind,
            "payload": dict(payload),
            "idempotency_key": idempotency_key,
            "status": Status.QUEUED.value,
            "attempts": 0,
            "next_try_at": now,
            "maybe_sent": False,
            "created_at": now,
            "updated_at": now,
        }
        with self.scope.engine.begin() as conn:
            new_id = conn.execute(_t.insert().values(**values).returning(_t.c.id)).scalar_one()
        found = self.get(int(new_id))
        assert found is not None
        return found

    def get(self, action_id: int) -> Action | None:
        with self.scope.engine.connect() as conn:
            row = (
                conn.execute(sa.select(_t).where(self._scoped(), _t.c.id == action_id))
                .mappings()
                .first()
            )
        return _action(row) if row else None

    def list(
        self, *, batch: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[Action]:
        stmt = sa.select(_t).where(self._scoped())
        if batch is not None:
            stmt = stmt.where(_t.c.batch == batch)
        if status is not None:
            stmt = stmt.where(_t.c.status == status)
        stmt = stmt.order_by(_t.c.id.desc()).limit(max(1, min(limit, 10_000)))
        with self.scope.engine.connect() as conn:
            return [_action(r) for r in conn.execute(stmt).mappings()]

    def _claimable(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(
            sa.and_(_t.c.status == Status.QUEUED.value, _t.c.next_try_at <= now),
            # A sender that died while it owned the row: its lease ran out.
            sa.and_(_t.c.status == Status.SENDING.value, _t.c.lease_until < now),
        )

    def claim(
        self, owner: str, *, lease_seconds: float = 60.0, batch: str | None = None
    ) -> Action | None:
        """Own the oldest due row (or None). The lease must outlast one try."""
        now = self.now()
        stmt = sa.select(_t.c.id).where(self._scoped(), self._claimable(now))
        if batch is not None:
            stmt = stmt.where(_t.c.batch == batch)
        with self.scope.engine.connect() as conn:
            candidates = list(conn.execute(stmt.order_by(_t.c.id).limit(20)).scalars())
        for action_id in candidates:
            with self.scope.engine.begin() as conn:
                taken = conn.execute(
                    _t.update()
                    .where(self._scoped(), _t.c.id == action_id, self._claimable(now))
                    .values(
                        status=Status.SENDING.value,
                        lease_owner=owner,
                        lease_until=now + timedelta(seconds=lease_seconds),
                        attempts=_t.c.attempts + 1,
                        updated_at=now,
                    )
                ).rowcount
            if taken == 1:
                return self.get(action_id)
        return None

    def _owned_update(self, action_id: int, owner: str, **values: object) -> bool:
        return self._owned_change(action_id, owner, values)

    def _owned_change(
        self,
        action_id: int,
        owner: str,
        values: dict[str, object],
        then: Callable[[sa.Connection], None] | None = None,
    ) -> bool:
        """Change a row this sender owns; ``then`` runs in the same transaction
        when the row was changed."""
        values.setdefault("updated_at", self.now())
        with self.scope.engine.begin() as conn:
            done = conn.execute(
                _t.update()
                .where(
                    self._scoped(),
                    _t.c.id == action_id,
                    _t.c.status == Status.SENDING.value,
                    _t.c.lease_owner == owner,
                )
                .values(**values)
            ).rowcount
            if done == 1 and then is not None:
                then(conn)
        return done == 1

    def extend_lease(self, action_id: int, owner: str, seconds: float) -> bool:
        return self._owned_update(
            action_id, owner, lease_until=self.now() + timedelta(seconds=seconds)
        )

    def mark_maybe_sent(self, action_id: int, owner: str) -> bool:
        """Recorded before a creating request leaves (see the module doc)."""
        return self._owned_update(action_id, owner, maybe_sent=True)

    def mark_not_sent(self, action_id: int, owner: str) -> bool:
        """The request of this try never left (see ``hubbub.outbox.sender``)."""
        return self._owned_update(action_id, owner, maybe_sent=False)

    def mark_sent(self, action_id: int, owner: str, remote_id: str, url: str | None) -> bool:
        now = self.now()
        return self._owned_change(
            action_id,
            owner,
            {
                "status": Status.SENT.value,
                "remote_id": remote_id,
                "remote_url": url,
                "error": None,
                "sent_at": now,
                "lease_owner": None,
                "lease_until": None,
            },
            # A case's reply answers the customer only once it is sent, and in
            # the transaction that says so: a crash cannot split the two.
            lambda conn: reply_sent(conn, self.scope, action_id, now),
        )

    def retry_later(
        self, action_id: int, owner: str, at: datetime, error: str, *, count_try: bool = True
    ) -> bool:
        values: dict[str, object] = {
            "status": Status.QUEUED.value,
            "next_try_at": at,
            "error": error[:500],
            "lease_owner": None,
            "lease_until": None,
        }
        if not count_try:  # waiting out a rate limit is not a failed try
            values["attempts"] = _t.c.attempts - 1
        return self._owned_update(action_id, owner, **values)

    def mark_failed(self, action_id: int, owner: str, error: str) -> bool:
        return self._owned_update(
            action_id,
            owner,
            status=Status.FAILED.value,
            error=error[:500],
            lease_owner=None,
            lease_until=None,
        )

    def _move(self, action_id: int, from_states: tuple[Status, ...], **values: object) -> bool:
        """Change a row only while it is in one of ``from_states``."""
        values.setdefault("updated_at", self.now())
        with self.scope.engine.begin() as conn:
            done = conn.execute(
                _t.update()
                .where(
                    self._scoped(),
                    _t.c.id == action_id,
                    _t.c.status.in_([s.value for s in from_states]),
                )
                .values(**values)
            ).rowcount
        return done == 1

    def cancel(self, action_id: int) -> bool:
        """Only what has not started can be cancelled (a row being sent cannot)."""
        return self._move(action_id, (Status.QUEUED, Status.FAILED), status=Status.CANCELLED.value)

    def retry(self, action_id: int) -> bool:
        """Queue a failed or cancelled row again, keeping its idempotency key."""
        return self._move(
            action_id,
            (Status.FAILED, Status.CANCELLED),
            status=Status.QUEUED.value,
            attempts=0,
            next_try_at=self.now(),
        )

    def sent_since(self, account: str, since: datetime) -> builtins.list[tuple[datetime, str]]:
        """(sent_at, kind) of this account's actions sent since ``since``, oldest first."""
        stmt = (
            sa.select(_t.c.sent_at, _t.c.kind)
            .where(self._scoped(), _t.c.account == account, _t.c.sent_at >= since)
            .order_by(_t.c.sent_at)
        )
        with self.scope.engine.connect() as conn:
            return [(r.sent_at, r.kind) for r in conn.execute(stmt)]

    def thread_parent(self, action: Action) -> Action | None | bool:
        """For a ``thread`` action: the account's latest sent thread post on
        this network before it (None: it starts the thread), or False while an
        earlier thread post of the account is still on its way."""
        base = sa.select(_t).where(
            self._scoped(),
            _t.c.account == action.account,
            _t.c.network == action.network,
            _t.c.id < action.id,
            _t.c.kind.in_(["post", "reply"]),
        )
        with self.scope.engine.connect() as conn:
            rows = list(conn.execute(base.order_by(_t.c.id.desc()).limit(200)).mappings())
        for row in rows:
            earlier = _action(row)
            if not earlier.payload.get("thread"):
                continue
            if earlier.status in (Status.QUEUED, Status.SENDING):
                return False
            if earlier.status == Status.SENT:
                return earlier
        return None


__all__ = ["FINAL", "Action", "OutboxActions", "Status"]
