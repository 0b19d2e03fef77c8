"""Server-side sessions of signed-in users: start, look up, list, revoke.

The cookie holds a random token; the ``user_sessions`` row holds its SHA-256.
A session ends when its row is gone (logout, password change, a revoke from
the account page or ``hubbub user revoke``), when it has been idle longer than
the idle limit, or at its absolute end, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hubbub.settings import Settings
from hubbub.store import Store
from hubbub.store.auth_schema import user_sessions
from hubbub.store.web_schema import users
from hubbub.web.accounts import User

# last_seen_at is written at most this often per session: idle expiry is
# counted in hours, and a write on every request would contend with the
# pipeline for SQLite's single writer.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(slots=True, frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=12)
    absolute: timedelta = timedelta(days=14)


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(hours=settings.session_idle_hours),
        absolute=timedelta(days=settings.session_days),
    )


@dataclass(slots=True, frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None


@dataclass(slots=True, frozen=True)
class LiveSession:
    id: int
    user: User


def token_hash(token: str) -> str:
    # The token has 256 bits of entropy, so a plain hash is enough: there is
    # nothing to guess that a slow hash would protect.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    store: Store,
    workspace: str,
    user_id: int,
    *,
    now: datetime,
    policy: SessionPolicy,
    address: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, int]:
    """A new session for ``user_id``: (the cookie's token, the session's id)."""
    ws = store.workspace_id(workspace)
    token = secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
        # Forget sessions that have ended on their own (anyone's: a browser
        # that never comes back would otherwise leave its row for good), so
        # the table holds live sessions only, give or take.
        conn.execute(
            user_sessions.delete().where(
                sa.or_(
                    user_sessions.c.expires_at <= now,
                    user_sessions.c.last_seen_at <= now - policy.idle,
                ),
            )
        )
        result = conn.execute(
            user_sessions.insert().values(
                workspace_id=ws,
                user_id=user_id,
                token_hash=token_hash(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + policy.absolute,
                address=(address or None) and address[:64],
                user_agent=(user_agent or None) and user_agent[:200],
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row always has one
        return token, int(key[0])


def resolve_session(
    store: Store, workspace: str, token: str, *, now: datetime, policy: SessionPolicy
) -> LiveSession | None:
    """The live session a cookie's token names, or None (unknown, revoked,
    idle too long, past its end). Ended sessions are deleted on the way."""
    ws = store.workspace_id(workspace)
    digest = token_hash(token)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                user_sessions.c.id,
                user_sessions.c.last_seen_at,
                user_sessions.c.expires_at,
                users.c.id.label("user_id"),
                users.c.name,
                users.c.role,
            )
            .join(users, users.c.id == user_sessions.c.user_id)
            .where(user_sessions.c.token_hash == digest, user_sessions.c.workspace_id == ws)
        ).first()
    if row is None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        with store.engine.begin() as conn:
            conn.execute(user_sessions.delete().where(user_sessions.c.id == row.id))
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with store.engine.begin() as conn:
            conn.execute(
                user_sessions.update().where(user_sessions.c.id == row.id).values(last_seen_at=now)
            )
    return LiveSession(int(row.id), User(int(row.user_id), row.name, row.role))


def live_tokens(
    store: Store, workspace: str, tokens: set[str], *, now: datetime, policy: SessionPolicy
) -> set[str]:
    """Those of ``tokens`` (cookies' session tokens) whose sessions are still
    live: one query for every open WebSocket of a room (see Hubs). Nothing is
    written; ended rows are left to ``resolve_session`` and ``start_session``."""
    by_hash = {token_hash(t): t for t in tokens}
    ws = store.workspace_id(workspace)
    live: set[str] = set()
    hashes = list(by_hash)
    with store.engine.connect() as conn:
        for start in range(0, len(hashes), 500):
            rows = conn.execute(
                sa.select(user_sessions.c.token_hash).where(
                    user_sessions.c.workspace_id == ws,
                    user_sessions.c.token_hash.in_(hashes[start : start + 500]),
                    user_sessions.c.expires_at > now,
                    user_sessions.c.last_seen_at > now - policy.idle,
                )
            )
            live.update(by_hash[r.token_hash] for r in rows)
    return live


def end_session(store: Store, token: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(user_sessions.delete().where(user_sessions.c.token_hash == token_hash(token)))


def list_sessions(
    store: Store, workspace: str, user_id: int, *, now: datetime, policy: SessionPolicy
) -> list[SessionInfo]:
    """The user's live sessions, most recently used first."""
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(user_sessions)
            .where(
                user_sessions.c.workspace_id == ws,
                user_sessions.c.user_id == user_id,
                user_sessions.c.expires_at > now,
                user_sessions.c.last_seen_at > now - policy.idle,
            )
            .order_by(user_sessions.c.last_seen_at.desc(), user_sessions.c.id.desc())
        ).all()
    return [
        SessionInfo(
            id=int(r.id),
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            expires_at=min(r.expires_at, r.last_seen_at + policy.idle),
            address=r.address,
            user_agent=r.user_agent,
        )
        for r in rows
    ]


def revoke_sessions(
    store: Store,
    workspace: str,
    user_id: int,
    *,
    session_id: int | None = None,
    keep: int | None = None,
) -> int:
    """End one of the user's sessions (``session_id``) or all of them (but
    ``keep``). Returns how many ended; another user's session is never touched."""
    ws = store.workspace_id(workspace)
    condition = sa.and_(user_sessions.c.workspace_id == ws, user_sessions.c.user_id == user_id)
    if session_id is not None:
        condition = sa.and_(condition, user_sessions.c.id == session_id)
    if keep is not None:
        condition = sa.and_(condition, user_sessions.c.id != keep)
    with store.engine.begin() as conn:
        return int(conn.execute(user_sessions.delete().where(condition)).rowcount or 0)
