"""User accounts: creation and password checks (argon2id), scoped by workspace.

The rows live behind ``hubbub.store.users_repo``; this module owns the
rules (names, passwords, roles) and the hashing.

One rule for passwords (``password_problem``) is applied at creation, at a
change and at sign-in, so a password that can be set can always be used.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hubbub.i18n import _
from hubbub.store import Store
from hubbub.store.api import check_workspace_name
from hubbub.store.scope import NoSuchWorkspace, Scope, existing_scope, scope
from hubbub.store.users_repo import (
    LookAlikeName,
    NameTaken,
    UserRepo,
    UserRow,
    workspaces_with_user,
)

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
    # The workspace the user belongs to: every request of theirs acts in it.
    workspace: str = "default"


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


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role, row.workspace)


def create_user(
    store: Store, workspace: str, name: str, password: str, role: str = "owner"
) -> User:
    """A new user of ``workspace`` (the operator's command: the workspace is
    created on first use)."""
    name = name.strip()
    if not name_usable(name):
        raise AccountError("a user name is 1 to 100 characters without spaces")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    try:
        row = UserRepo(scope(store, workspace)).add(name, _hasher.hash(password), role)
    except LookAlikeName as exc:
        raise AccountError(
            f"user {name!r} would look like existing user {exc.existing!r} "
            "(names are compared ignoring case and width); choose another name"
        ) from None
    except NameTaken:
        raise AccountError(f"user {name!r} already exists") from None
    return _user(row)


def set_password(store: Store, workspace: str, name: str, password: str) -> bool:
    """Change a password and end every session of that user (a stolen session
    must not outlive the password it was opened with). False: no such user."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    repo = UserRepo(scope(store, workspace))
    row = repo.by_name(name)
    if row is None:
        return False
    return repo.set_hash(row.id, _hasher.hash(password), end_sessions=True)


def existing_workspace(store: Store, workspace: str) -> Scope | None:
    """The scope of ``workspace`` if it exists; None otherwise, also for a
    name no workspace can have (typed by someone: never sent to the database
    unchecked, since PostgreSQL refuses a NUL)."""
    try:
        return existing_scope(store, check_workspace_name(workspace))
    except (NoSuchWorkspace, ValueError):  # ValueError: no name a workspace could have
        return None


def sign_in_workspace(store: Store, name: str, asked: str | None, default: str) -> str:
    """The workspace a sign-in names: the one asked for; without one, the
    only workspace that has a user called ``name``, else ``default``."""
    if asked:
        return asked
    found = workspaces_with_user(store, name.strip()) if name_usable(name.strip()) else []
    return found[0] if len(found) == 1 else default


def authenticate(store: Store, workspace: str, name: str, password: str) -> User | None:
    """The user whose name and password these are in ``workspace``, or None.
    A password no account could have (``password_problem``) is refused
    before any hashing; a workspace that does not exist is not created."""
    # No such account can exist: answer at once (and never hand the database
    # a NUL it would refuse, or argon2 text it cannot encode).
    if password_problem(password) is not None or not name_usable(name.strip()):
        return None
    found = existing_workspace(store, workspace)
    repo = UserRepo(found) if found is not None else None
    row = repo.by_name(name.strip()) if repo is not None else None
    try:
        # A wrong name (or workspace) costs as long as a wrong password.
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or repo is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        # Same password, stronger parameters: sessions stay.
        repo.set_hash(row.id, _hasher.hash(password), end_sessions=False)
    return _user(row)


def get_user(store: Store, workspace: str, user_id: int) -> User | None:
    found = existing_workspace(store, workspace)
    row = UserRepo(found).by_id(user_id) if found is not None else None
    return _user(row) if row else None


def find_user(store: Store, workspace: str, name: str) -> User | None:
    found = existing_workspace(store, workspace)
    row = UserRepo(found).by_name(name) if found is not None else None
    return _user(row) if row else None


def user_exists(store: Store, workspace: str, name: str) -> bool:
    return find_user(store, workspace, name) is not None
