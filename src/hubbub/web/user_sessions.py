"""Server-side sessions of signed-in users: start, look up, list, revoke.

The cookie holds a random token; the ``user_sessions`` row holds its SHA-256.
A session ends when its row is gone (logout, password change, a revoke from
the account page or ``hubbub user revoke``), when it has been idle longer than
the idle limit, or at its absolute end, whichever comes first.

A token names its session, and the session its user and workspace: a
request's workspace is the signed-in user's, found here. The rows are kept
by ``hubbub.store.sessions_repo``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from hubbub.settings import Settings
from hubbub.store import Store
from hubbub.store import sessions_repo as rows
from hubbub.store.scope import Scope, scope
from hubbub.web.accounts import User, existing_workspace

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


def _scope(store: Store, workspace: str) -> Scope | None:
    return existing_workspace(store, workspace)


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
    token = secrets.token_urlsafe(32)
    session_id = rows.SessionRepo(scope(store, workspace)).start(
        user_id,
        token_hash(token),
        now=now,
        idle=policy.idle,
        absolute=policy.absolute,
        address=(address or None) and address[:64],
        user_agent=(user_agent or None) and user_agent[:200],
    )
    return token, session_id


def resolve_session(
    store: Store, workspace: str | None, token: str, *, now: datetime, policy: SessionPolicy
) -> LiveSession | None:
    """The live session a cookie's token names, or None (unknown, revoked,
    idle too long, past its end; with ``workspace``, also a session of
    another workspace). Ended sessions are deleted on the way."""
    row = rows.find_by_hash(store, token_hash(token))
    if row is None or (workspace is not None and row.workspace != workspace):
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        rows.drop(store, session_id=row.session_id)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        rows.touch(store, row.session_id, now)
    user = User(row.user_id, row.name, row.role, row.workspace)
    return LiveSession(row.session_id, user)


def live_tokens(
    store: Store, workspace: str, tokens: set[str], *, now: datetime, policy: SessionPolicy
) -> set[str]:
    """Those of ``tokens`` (cookies' session tokens) whose sessions in
    ``workspace`` are still live: one query for every open WebSocket of a
    room (see Hubs). Nothing is written; ended rows are left to
    ``resolve_session`` and ``start_session``."""
    found = _scope(store, workspace)
    if found is None or not tokens:
        return set()
    by_hash = {token_hash(t): t for t in tokens}
    live = rows.SessionRepo(found).live_hashes(list(by_hash), now=now, idle=policy.idle)
    return {by_hash[h] for h in live}


def end_session(store: Store, token: str) -> None:
    rows.drop(store, digest=token_hash(token))


def list_sessions(
    store: Store, workspace: str, user_id: int, *, now: datetime, policy: SessionPolicy
) -> list[SessionInfo]:
    """The user's live sessions, most recently used first."""
    found = _scope(store, workspace)
    if found is None:
        return []
    return [
        SessionInfo(
            id=r.id,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            expires_at=min(r.expires_at, r.last_seen_at + policy.idle),
            address=r.address,
            user_agent=r.user_agent,
        )
        for r in rows.SessionRepo(found).live(user_id, now=now, idle=policy.idle)
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
    found = _scope(store, workspace)
    if found is None:
        return 0
    return rows.SessionRepo(found).revoke(user_id, session_id=session_id, keep=keep)
