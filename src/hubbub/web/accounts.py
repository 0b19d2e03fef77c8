"""User accounts: creation and password checks (argon2id), scoped by workspace.

One rule for passwords (``password_problem``) is applied at creation, at a
change and at sign-in, so a password that can be set can always be used.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hubbub.i18n import _
from hubbub.store import Store
from hubbub.store.auth_schema import user_sessions
from hubbub.store.web_schema import users

ROLES = ("owner", "agent", "viewer")
MIN_PASSWORD_CHARS = 8
# A bound on the work one sign-in attempt can ask of argon2, and long enough
# for any passphrase or password manager.
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 100
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


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a password, or None when it can."""
    if len(password) < MIN_PASSWORD_CHARS:
        return _("A password has at least {n} characters.").format(n=MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        return _("A password has at most {n} characters (this one has {count}).").format(
            n=f"{MAX_PASSWORD_CHARS:,}", count=f"{len(password):,}"
        )
    if not _encodable(password):
        return _("A password cannot contain unpaired surrogate characters.")
    return None


def name_usable(name: str) -> bool:
    """1 to 100 characters, no spaces or control characters (PostgreSQL
    refuses NUL in text), valid UTF-8."""
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and not any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in name)
        and _encodable(name)
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def create_user(
    store: Store, workspace: str, name: str, password: str, role: str = "owner"
) -> User:
    name = name.strip()
    if not name_usable(name):
        raise AccountError("a user name is 1 to 100 characters without spaces")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
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
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row always has one
        return User(int(key[0]), name, role)


def set_password(store: Store, workspace: str, name: str, password: str) -> bool:
    """Change a password and end every session of that user (a stolen session
    must not outlive the password it was opened with). False: no such user."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        row = conn.execute(
            sa.select(users.c.id).where(users.c.workspace_id == ws, users.c.name == name)
        ).first()
        if row is None:
            return False
        conn.execute(
            users.update().where(users.c.id == row.id).values(password_hash=_hasher.hash(password))
        )
        conn.execute(user_sessions.delete().where(user_sessions.c.user_id == row.id))
    return True


def _rehash(store: Store, user_id: int, password: str) -> None:
    # Same password, stronger parameters: sessions stay.
    with store.engine.begin() as conn:
        conn.execute(
            users.update().where(users.c.id == user_id).values(password_hash=_hasher.hash(password))
        )


def authenticate(store: Store, workspace: str, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None. A password no
    account could have (``password_problem``) is refused before any hashing."""
    # No such account can exist: answer at once (and never hand the database
    # a NUL it would refuse, or argon2 text it cannot encode).
    if password_problem(password) is not None or not name_usable(name.strip()):
        return None
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
        _rehash(store, int(row["id"]), password)
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


def find_user(store: Store, workspace: str, name: str) -> User | None:
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.name, users.c.role).where(
                users.c.workspace_id == ws, users.c.name == name
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
