"""User rows of one workspace (names are unique within a workspace, and a
new name may not look like an existing one: :func:`look_alike_key`).

Hashing and the password rules stay with the web layer
(``hubbub.web.accounts``); this module stores and finds rows. The only
lookup that crosses workspaces is ``workspaces_with_user``: a sign-in form
that names no workspace needs to know where a name exists, and answers with
workspace names only.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.api import Store
from hubbub.store.auth_schema import user_sessions
from hubbub.store.scope import Scope
from hubbub.store.web_schema import users


class NameTaken(ValueError):
    """A user of that name exists in the workspace already."""


class LookAlikeName(NameTaken):
    """A user whose name reads the same (``existing``) exists in the workspace."""

    def __init__(self, name: str, existing: str) -> None:
        super().__init__(name)
        self.existing = existing


def look_alike_key(name: str) -> str:
    """What two user names are compared by when a user is created: NFKC and
    case folded (``Ann``, ``ＡＮＮ`` and ``ann`` are one key), invisible format
    characters (zero-width space, bidi marks) dropped. A page header shows a
    name, not its code points; two accounts that read the same would let one
    pass for the other. Sign-in still matches the name exactly: accounts made
    before this rule may differ only in case, and each keeps its own name.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


@dataclass(slots=True, frozen=True)
class UserRow:
    id: int
    name: str
    role: str
    password_hash: str
    workspace: str


class UserRepo:
    """The users of ``scope``'s workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _row(self, row: sa.Row[Any] | None) -> UserRow | None:
        if row is None:
            return None
        return UserRow(int(row.id), row.name, row.role, row.password_hash, self.scope.name)

    def _select(self) -> sa.Select[Any]:
        return sa.select(users.c.id, users.c.name, users.c.role, users.c.password_hash).where(
            self.scope.owns(users)
        )

    def by_name(self, name: str) -> UserRow | None:
        with self.scope.engine.connect() as conn:
            return self._row(conn.execute(self._select().where(users.c.name == name)).first())

    def by_id(self, user_id: int) -> UserRow | None:
        with self.scope.engine.connect() as conn:
            return self._row(conn.execute(self._select().where(users.c.id == user_id)).first())

    def add(self, name: str, password_hash: str, role: str) -> UserRow:
        """A new user; ``NameTaken`` when the name is in use here,
        ``LookAlikeName`` when an existing name reads the same."""
        with self.scope.engine.begin() as conn:
            # A workspace has a team's worth of users: fold them all here
            # (NFKC is not something SQLite or PostgreSQL can compare by).
            existing = list(
                conn.execute(
                    sa.select(users.c.name).where(self.scope.owns(users)).order_by(users.c.id)
                ).scalars()
            )
            if name in existing:
                raise NameTaken(name)
            reads_as = look_alike_key(name)
            for other in existing:
                if look_alike_key(other) == reads_as:
                    raise LookAlikeName(name, other)
            try:
                result = conn.execute(
                    users.insert().values(
                        **self.scope.values(),
                        name=name,
                        password_hash=password_hash,
                        role=role,
                        created_at=datetime.now(UTC),
                    )
                )
            except sa.exc.IntegrityError:
                raise NameTaken(name) from None  # created at the same moment elsewhere
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row always has one
            return UserRow(int(key[0]), name, role, password_hash, self.scope.name)

    def set_hash(self, user_id: int, password_hash: str, *, end_sessions: bool) -> bool:
        """Store a new hash; with ``end_sessions`` every session of the user
        ends in the same transaction. False: no such user here."""
        with self.scope.engine.begin() as conn:
            changed = conn.execute(
                users.update()
                .where(self.scope.owns(users), users.c.id == user_id)
                .values(password_hash=password_hash)
            ).rowcount
            if not changed:
                return False
            if end_sessions:
                conn.execute(
                    user_sessions.delete().where(
                        self.scope.owns(user_sessions), user_sessions.c.user_id == user_id
                    )
                )
        return True

    def set_role(self, user_id: int, role: str) -> bool:
        with self.scope.engine.begin() as conn:
            return bool(
                conn.execute(
                    users.update()
                    .where(self.scope.owns(users), users.c.id == user_id)
                    .values(role=role)
                ).rowcount
            )


def workspaces_with_user(store: Store, name: str) -> list[str]:
    """The names of the workspaces that have a user called ``name`` (at most
    a few: sign-in only asks whether there is exactly one)."""
    stmt = (
        sa.select(t.workspaces.c.name)
        .join(users, users.c.workspace_id == t.workspaces.c.id)
        .where(users.c.name == name)
        .order_by(t.workspaces.c.id)
        .limit(2)
    )
    with store.engine.connect() as conn:
        return [str(n) for n in conn.execute(stmt).scalars()]
