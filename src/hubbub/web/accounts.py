"""User accounts: creation and password checks (argon2id), scoped by workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hubbub.store import Store
from hubbub.store.web_schema import users

ROLES = ("owner", "agent", "viewer")
# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Checked when a name does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class AccountError(ValueError):
    """A user cannot be created (bad name, too short a password, already taken)."""


@dataclass(slots=True, frozen=True)
class User:
    id: int
    name: str
    role: str


def create_user(
    store: Store, workspace: str, name: str, password: str, role: str = "owner"
) -> User:
    name = name.strip()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise AccountError("a user name is 1 to 100 characters without spaces")
    if len(password) < 8:
        raise AccountError("a password has at least 8 characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        taken = conn.execute(
            sa.select(users.c.id).where(users.c.workspace_id == ws, users.c.name == name)
        ).first()
        if taken:
            raise AccountError(f"user {name!r} already exists")
        result = conn.execute(
            users.insert().values(
                workspace_id=ws,
                name=name,
                password_hash=_hasher.hash(password),
                role=role,
                created_at=datetime.now(UTC),
            )
        )
        return User(int(result.inserted_primary_key[0]), name, role)


def set_password(store: Store, workspace: str, name: str, password: str) -> None:
    if len(password) < 8:
        raise AccountError("a password has at least 8 characters")
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        conn.execute(
            users.update()
            .where(users.c.workspace_id == ws, users.c.name == name)
            .values(password_hash=_hasher.hash(password))
        )


def authenticate(store: Store, workspace: str, name: str, password: str) -> User | None:
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(users).where(users.c.workspace_id == ws, users.c.name == name.strip())
            )
            .mappings()
            .first()
        )
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        set_password(store, workspace, row["name"], password)
    return User(int(row["id"]), row["name"], row["role"])


def get_user(store: Store, workspace: str, user_id: int) -> User | None:
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.name, users.c.role).where(
                users.c.workspace_id == ws, users.c.id == user_id
            )
        ).first()
    return User(int(row.id), row.name, row.role) if row else None


def user_exists(store: Store, workspace: str, name: str) -> bool:
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        return (
            conn.execute(
                sa.select(users.c.id).where(users.c.workspace_id == ws, users.c.name == name)
            ).first()
            is not None
        )
