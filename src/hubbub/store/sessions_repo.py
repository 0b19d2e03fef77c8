"""Rows of signed-in sessions (``user_sessions``).

Two doors, on purpose:
- ``SessionRepo(scope)``: a workspace's sessions, for starting, listing and
  revoking them (every statement scoped).
- ``find_by_hash`` / ``touch`` / ``drop``: a cookie's token
  names one session of one user, whichever workspace it is in; the row is
  what tells the server the workspace, so this lookup cannot be scoped
  beforehand. It hands back the workspace's name with the user, and callers
  build their scope from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.api import Store
from hubbub.store.auth_schema import user_sessions
from hubbub.store.scope import Scope
from hubbub.store.web_schema import users

_IN_CHUNK = 500  # hashes per IN (...) list: well under every database's limit


@dataclass(slots=True, frozen=True)
class SessionRow:
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None


@dataclass(slots=True, frozen=True)
class TokenRow:
    """What a token's lookup finds: the session, its user and their workspace."""

    session_id: int
    last_seen_at: datetime
    expires_at: datetime
    user_id: int
    name: str
    role: str
    workspace: str


class SessionRepo:
    """The sessions of ``scope``'s workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def start(
        self,
        user_id: int,
        digest: str,
        *,
        now: datetime,
        idle: timedelta,
        absolute: timedelta,
        address: str | None,
        user_agent: str | None,
    ) -> int:
        """A new session row for a user of this workspace; its id."""
        with self.scope.engine.begin() as conn:
            # Forget sessions that ended on their own (anyone's, any
            # workspace's: a browser that never comes back would otherwise
            # leave its row for good), so the table holds live sessions only.
            conn.execute(
                user_sessions.delete().where(
                    sa.or_(
                        user_sessions.c.expires_at <= now,
                        user_sessions.c.last_seen_at <= now - idle,
                    ),
                )
            )
            owner = conn.execute(
                sa.select(users.c.id).where(self.scope.owns(users), users.c.id == user_id)
            ).first()
            if owner is None:
                raise LookupError(f"no user {user_id} in workspace {self.scope.name!r}")
            result = conn.execute(
                user_sessions.insert().values(
                    **self.scope.values(),
                    user_id=user_id,
                    token_hash=digest,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + absolute,
                    address=address,
                    user_agent=user_agent,
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row always has one
            return int(key[0])

    def live(self, user_id: int, *, now: datetime, idle: timedelta) -> list[SessionRow]:
        """The user's live sessions, most recently used first."""
        s = user_sessions
        with self.scope.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    s.c.id,
                    s.c.created_at,
                    s.c.last_seen_at,
                    s.c.expires_at,
                    s.c.address,
                    s.c.user_agent,
                )
                .where(
                    self.scope.owns(s),
                    s.c.user_id == user_id,
                    s.c.expires_at > now,
                    s.c.last_seen_at > now - idle,
                )
                .order_by(s.c.last_seen_at.desc(), s.c.id.desc())
            ).all()
        return [
            SessionRow(
                int(r.id), r.created_at, r.last_seen_at, r.expires_at, r.address, r.user_agent
            )
            for r in rows
        ]

    def revoke(
        self, user_id: int, *, session_id: int | None = None, keep: int | None = None
    ) -> int:
        """End one session of the user (or all but ``keep``); how many ended."""
        s = user_sessions
        condition = sa.and_(self.scope.owns(s), s.c.user_id == user_id)
        if session_id is not None:
            condition = sa.and_(condition, s.c.id == session_id)
        if keep is not None:
            condition = sa.and_(condition, s.c.id != keep)
        with self.scope.engine.begin() as conn:
            return int(conn.execute(s.delete().where(condition)).rowcount or 0)

    def live_hashes(self, digests: list[str], *, now: datetime, idle: timedelta) -> set[str]:
        """Those of ``digests`` whose sessions (of this workspace) are live:
        one query per chunk, nothing written."""
        s = user_sessions
        live: set[str] = set()
        with self.scope.engine.connect() as conn:
            for start in range(0, len(digests), _IN_CHUNK):
                rows = conn.execute(
                    sa.select(s.c.token_hash).where(
                        self.scope.owns(s),
                        s.c.token_hash.in_(digests[start : start + _IN_CHUNK]),
                        s.c.expires_at > now,
                        s.c.last_seen_at > now - idle,
                    )
                )
                live.update(r.token_hash for r in rows)
        return live


def find_by_hash(store: Store, digest: str) -> TokenRow | None:
    """The session whose token hashes to ``digest``, with its user and workspace."""
    s, w = user_sessions, t.workspaces
    stmt = (
        sa.select(
            s.c.id,
            s.c.last_seen_at,
            s.c.expires_at,
            users.c.id.label("user_id"),
            users.c.name,
            users.c.role,
            w.c.name.label("workspace"),
        )
        .join(users, users.c.id == s.c.user_id)
        .join(w, w.c.id == s.c.workspace_id)
        # A session of one workspace never signs in a user of another.
        .where(s.c.token_hash == digest, users.c.workspace_id == s.c.workspace_id)
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return TokenRow(
        int(row.id),
        row.last_seen_at,
        row.expires_at,
        int(row.user_id),
        row.name,
        row.role,
        row.workspace,
    )


def touch(store: Store, session_id: int, now: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            user_sessions.update().where(user_sessions.c.id == session_id).values(last_seen_at=now)
        )


def drop(store: Store, *, session_id: int | None = None, digest: str | None = None) -> None:
    """Delete one session row, named by its id (found by its token) or its token's hash."""
    s = user_sessions
    with store.engine.begin() as conn:
        if session_id is not None:
            conn.execute(s.delete().where(s.c.id == session_id))
        if digest is not None:
            conn.execute(s.delete().where(s.c.token_hash == digest))
