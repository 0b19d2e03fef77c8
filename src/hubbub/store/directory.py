"""What an operator asks before anything else: which users a workspace has,
and which workspaces the database holds.

Read-only summaries for ``hubbub user list`` and ``hubbub workspace list``.
``user_summaries`` is scoped like every repository (a ``Scope``), or, given
none, reads every workspace: the command line acts as the operator of the
database it opens. ``workspace_summaries`` is the operator's view across
workspaces by nature, like ``Store.workspaces``. A fixed number of queries
each (grouped counts, never one query per row), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.api import Store
from hubbub.store.audit import MAX_ACTOR, clean_text
from hubbub.store.audit_schema import audit_events
from hubbub.store.auth_schema import user_sessions
from hubbub.store.connect_schema import network_accounts
from hubbub.store.scope import Scope
from hubbub.store.web_schema import users


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class UserSummary:
    """One user of one workspace, as an operator lists them."""

    workspace: str
    name: str
    role: str
    created_at: datetime
    # The newest sign-in the database remembers (the audit log's ``signin``
    # events, or a session row); None when none is recorded.
    last_sign_in: datetime | None
    live_sessions: int

    def as_json(self) -> dict[str, object]:
        return {
            "workspace": self.workspace,
            "name": self.name,
            "role": self.role,
            "created_at": _iso(self.created_at),
            "last_sign_in": _iso(self.last_sign_in),
            "live_sessions": self.live_sessions,
        }


@dataclass(frozen=True, slots=True)
class WorkspaceSummary:
    """One workspace and how much it holds."""

    name: str
    created_at: datetime
    users: int
    posts: int
    accounts: int
    saved_queries: int
    # The IANA zone its reports and business hours use (store/workspace_settings.py).
    timezone: str = "UTC"

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "created_at": _iso(self.created_at),
            "timezone": self.timezone,
            "users": self.users,
            "posts": self.posts,
            "accounts": self.accounts,
            "saved_queries": self.saved_queries,
        }


def user_summaries(
    store: Store, scope: Scope | None, *, now: datetime, idle: timedelta
) -> list[UserSummary]:
    """The users of ``scope``'s workspace (None: of every workspace), sorted
    by workspace and name. A session is live as ``SessionRepo.live`` counts
    it: not past its end and used within ``idle``."""

    def only_here(table: sa.Table) -> list[sa.ColumnElement[bool]]:
        return [] if scope is None else [scope.owns(table)]

    w, s, a = t.workspaces, user_sessions, audit_events
    live = sa.and_(s.c.expires_at > now, s.c.last_seen_at > now - idle)
    with store.engine.connect() as conn:
        people = conn.execute(
            sa.select(
                users.c.id,
                users.c.workspace_id,
                users.c.name,
                users.c.role,
                users.c.created_at,
                w.c.name.label("workspace"),
            )
            .join(w, w.c.id == users.c.workspace_id)
            .where(*only_here(users))
        ).all()
        sessions = {
            int(r.user_id): r
            for r in conn.execute(
                sa.select(
                    s.c.user_id,
                    sa.func.sum(sa.case((live, 1), else_=0)).label("live"),
                    # Rows of ended sessions linger until the next sign-in
                    # sweeps them: each is still a sign-in that happened.
                    sa.func.max(s.c.created_at).label("newest"),
                )
                .where(*only_here(s))
                .group_by(s.c.user_id)
            )
        }
        # Sign-ins are remembered by the audit log under the name as it was
        # cleaned for the log; grouped once, not asked per user. The index
        # (action, workspace, actor, at) of migration 0015 serves this alone:
        # only sign-in entries are read, never the rest of the log.
        signed_in = {
            (int(r.workspace_id), str(r.actor)): r.newest
            for r in conn.execute(
                sa.select(a.c.workspace_id, a.c.actor, sa.func.max(a.c.at).label("newest"))
                .where(a.c.action == "signin", *only_here(a))
                .group_by(a.c.workspace_id, a.c.actor)
            )
        }
    found = []
    for p in people:
        mine = sessions.get(int(p.id))
        logged = signed_in.get((int(p.workspace_id), clean_text(p.name, MAX_ACTOR)))
        # An earlier user of the same name (deleted, then made again) signed
        # in before this one existed: that sign-in is not this user's.
        if logged is not None and logged < p.created_at:
            logged = None
        found.append(
            UserSummary(
                workspace=p.workspace,
                name=p.name,
                role=p.role,
                created_at=p.created_at,
                last_sign_in=_newest(logged, None if mine is None else mine.newest),
                live_sessions=0 if mine is None else int(mine.live or 0),
            )
        )
    # Sorted here, not in SQL: the two databases collate text differently.
    return sorted(found, key=lambda u: (u.workspace, u.name))


def _newest(*times: datetime | None) -> datetime | None:
    known = [x for x in times if x is not None]
    return max(known) if known else None


def workspace_summaries(store: Store) -> list[WorkspaceSummary]:
    """Every workspace with its time zone and its number of users, stored
    posts (as ``hubbub search`` counts them: not deleted), network accounts
    and saved queries, sorted by name."""
    w = t.workspaces
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(w.c.id, w.c.name, w.c.created_at, w.c.timezone)).all()
        counts = [
            _count_by_workspace(conn, users, ()),
            # "= false", not "IS false": PostgreSQL uses an index only for the former.
            _count_by_workspace(conn, t.posts, (t.posts.c.deleted == sa.false(),)),
            _count_by_workspace(conn, network_accounts, ()),
            _count_by_workspace(conn, t.saved_queries, ()),
        ]
    found = []
    for r in rows:
        ws = int(r.id)
        n_users, n_posts, n_accounts, n_queries = (c.get(ws, 0) for c in counts)
        found.append(
            WorkspaceSummary(
                r.name, r.created_at, n_users, n_posts, n_accounts, n_queries, r.timezone or "UTC"
            )
        )
    return sorted(found, key=lambda x: x.name)


def _count_by_workspace(
    conn: sa.Connection, table: sa.Table, where: Iterable[sa.ColumnElement[Any]]
) -> dict[int, int]:
    ws = table.c.workspace_id
    stmt = sa.select(ws, sa.func.count()).where(*where).group_by(ws)
    return {int(k): int(n) for k, n in conn.execute(stmt)}
