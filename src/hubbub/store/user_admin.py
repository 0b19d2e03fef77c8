"""The operator's changes to users of one workspace: a role, a removal.

Apart from ``users_repo`` (sign-in's lookups and creation) because these two
answer what the audit log needs to say (the role a user had before) and
guard one rule sign-in never meets: a workspace keeps at least one owner,
or nobody could manage its users and accounts from the web again.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.auth_schema import user_sessions
from hubbub.store.scope import Scope
from hubbub.store.transactions import run_write
from hubbub.store.web_schema import users


class LastOwner(ValueError):
    """The change would leave the workspace without an owner."""


class UserAdmin:
    """Role changes and removals in ``scope``'s workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _role_of(self, conn: sa.Connection, name: str) -> tuple[int, str] | None:
        row = conn.execute(
            sa.select(users.c.id, users.c.role)
            .where(self.scope.owns(users), users.c.name == name)
            .with_for_update()
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def _other_owners(self, conn: sa.Connection, user_id: int) -> int:
        # FOR UPDATE (PostgreSQL): a concurrent demotion of another owner
        # waits for this transaction, then sees the role written here.
        rows = conn.execute(
            sa.select(users.c.id)
            .where(self.scope.owns(users), users.c.role == "owner", users.c.id != user_id)
            .with_for_update()
        ).all()
        return len(rows)

    def set_role(self, name: str, role: str) -> str | None:
        """Give ``name`` the role ``role``; the role it had (None: no such
        user here). ``LastOwner`` if it is the workspace's only owner and
        the new role is not owner. The user's sessions stay: each request
        reads the role afresh."""

        def change(conn: sa.Connection) -> str | None:
            found = self._role_of(conn, name)
            if found is None:
                return None
            user_id, old = found
            if old == "owner" and role != "owner" and not self._other_owners(conn, user_id):
                raise LastOwner(name)
            conn.execute(
                users.update()
                .where(self.scope.owns(users), users.c.id == user_id)
                .values(role=role)
            )
            return old

        # One write transaction (BEGIN IMMEDIATE on SQLite, row locks on
        # PostgreSQL): two demotions at once cannot both count the other
        # as the remaining owner.
        return run_write(self.scope.engine, change)

    def delete(self, name: str) -> str | None:
        """Remove ``name`` and end its sessions; the role it had (None: no
        such user here). ``LastOwner`` for the workspace's only owner."""

        def remove(conn: sa.Connection) -> str | None:
            found = self._role_of(conn, name)
            if found is None:
                return None
            user_id, old = found
            if old == "owner" and not self._other_owners(conn, user_id):
                raise LastOwner(name)
            conn.execute(
                user_sessions.delete().where(
                    self.scope.owns(user_sessions), user_sessions.c.user_id == user_id
                )
            )
            conn.execute(users.delete().where(self.scope.owns(users), users.c.id == user_id))
            return old

        return run_write(self.scope.engine, remove)
