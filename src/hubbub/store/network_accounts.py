"""Network accounts of a workspace: add, list, read (decrypted), remove.

Secrets go in and out of this module only through a ``SecretBox``; rows hold
ciphertexts. Listing never decrypts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.networks.env import Credentials
from hubbub.networks.secrets import AccountsKeyError, SecretBox
from hubbub.store import Store
from hubbub.store.connect_schema import network_accounts
from hubbub.store.schema import workspaces

NETWORKS = ("x", "bluesky", "mastodon")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
_a = network_accounts


class AccountError(ValueError):
    """An account operation that cannot be done (bad name, duplicate, unknown)."""


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What ``account list`` shows: never the secret."""

    name: str
    network: str
    server: str | None
    created_at: datetime
    checked_at: datetime | None
    check_result: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "network": self.network,
            "server": self.server,
            "created_at": self.created_at.isoformat(),
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "check_result": self.check_result,
        }


def _context(ws: int, network: str, name: str, part: str) -> str:
    return f"hubbub/{part}/{ws}/{network}/{name}"


def add_account(
    store: Store,
    box: SecretBox,
    workspace: str,
    network: str,
    name: str,
    secret: str,
    server: str | None = None,
) -> AccountInfo:
    if network not in NETWORKS:
        raise AccountError(f"unknown network {network!r} (x, bluesky or mastodon)")
    if not _NAME.match(name):
        raise AccountError(
            "an account name is 1 to 100 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    ws = store.workspace_id(workspace)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        taken = conn.execute(
            sa.select(_a.c.id).where(_a.c.workspace_id == ws, _a.c.name == name)
        ).first()
        if taken is not None:
            raise AccountError(f"an account named {name!r} exists already")
        conn.execute(
            _a.insert().values(
                workspace_id=ws,
                name=name,
                network=network,
                server=server,
                secret=box.seal(secret, _context(ws, network, name, "secret")),
                key_id=box.key_id,
                created_at=now,
            )
        )
    return AccountInfo(name, network, server, now, None, None)


def list_accounts(store: Store, workspace: str, network: str | None = None) -> list[AccountInfo]:
    ws = store.workspace_id(workspace)
    stmt = sa.select(_a).where(_a.c.workspace_id == ws).order_by(_a.c.network, _a.c.name)
    if network is not None:
        stmt = stmt.where(_a.c.network == network)
    with store.engine.connect() as conn:
        return [
            AccountInfo(
                r["name"],
                r["network"],
                r["server"],
                r["created_at"],
                r["checked_at"],
                r["check_result"],
            )
            for r in conn.execute(stmt).mappings()
        ]


@dataclass(frozen=True, slots=True)
class AccountStamp:
    """Which account row a source was built with, without its secret. The row
    id alone is not enough: SQLite hands a removed row's id to the next insert,
    so an account removed and added again (a new token) differs only in
    ``created_at``."""

    id: int
    created_at: datetime
    network: str
    name: str
    server: str | None


def account_stamps(store: Store) -> dict[str, frozenset[AccountStamp]]:
    """Every workspace's accounts, by workspace name (those without one are
    left out), in one small query: the runtime asks every few seconds whether
    another process (``hubbub account add/remove``) changed them."""
    w = workspaces
    stmt = sa.select(
        w.c.name, _a.c.id, _a.c.created_at, _a.c.network, _a.c.name.label("account"), _a.c.server
    ).join(w, w.c.id == _a.c.workspace_id)
    out: dict[str, set[AccountStamp]] = {}
    with store.engine.connect() as conn:
        for ws, id_, created_at, network, name, server in conn.execute(stmt):
            out.setdefault(ws, set()).add(AccountStamp(id_, created_at, network, name, server))
    return {ws: frozenset(stamps) for ws, stamps in out.items()}


def remove_account(store: Store, workspace: str, name: str) -> bool:
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        done = conn.execute(_a.delete().where(_a.c.workspace_id == ws, _a.c.name == name))
    return bool(done.rowcount)


def _row(store: Store, workspace: str, network: str | None, name: str | None) -> sa.RowMapping:
    ws = store.workspace_id(workspace)
    stmt = sa.select(_a).where(_a.c.workspace_id == ws)
    if name is not None:
        stmt = stmt.where(_a.c.name == name)
    if network is not None:
        stmt = stmt.where(_a.c.network == network)
    with store.engine.connect() as conn:
        rows = list(conn.execute(stmt.limit(2)).mappings())
    if name is not None and not rows:
        raise AccountError(f"no account named {name!r}")
    if name is None and len(rows) != 1:
        if not rows:
            raise AccountError(f"no {network} account in this workspace")
        raise AccountError(f"several {network} accounts: name one with ?account=NAME")
    return rows[0]


def get_credentials(
    store: Store,
    box: SecretBox,
    workspace: str,
    *,
    network: str | None = None,
    name: str | None = None,
) -> Credentials:
    """The decrypted credentials of account ``name`` (or the workspace's only
    ``network`` account). AccountError / AccountsKeyError say what is wrong."""
    row = _row(store, workspace, network, name)
    if network is not None and row["network"] != network:
        raise AccountError(f"account {row['name']!r} is a {row['network']} account")
    if row["key_id"] != box.key_id:
        raise AccountsKeyError(
            f"account {row['name']!r} was stored under another accounts key "
            "(set the key it was added with, or add the account again)"
        )
    ws = store.workspace_id(workspace)
    secret = box.open(row["secret"], _context(ws, row["network"], row["name"], "secret"))
    return Credentials(row["name"], row["network"], secret, row["server"])


def has_account(store: Store, workspace: str, network: str) -> bool:
    return bool(list_accounts(store, workspace, network))


def record_check(store: Store, workspace: str, name: str, result: str) -> None:
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        conn.execute(
            _a.update()
            .where(_a.c.workspace_id == ws, _a.c.name == name)
            .values(checked_at=datetime.now(UTC), check_result=result[:300])
        )


def save_session(
    store: Store, box: SecretBox, workspace: str, name: str, session: bytes | None
) -> None:
    """Keep (encrypted) or clear a refreshed session for account ``name``."""
    ws = store.workspace_id(workspace)
    row = _row(store, workspace, None, name)
    value = None
    if session is not None:
        context = _context(ws, row["network"], name, "session")
        value = box.seal(session.decode("utf-8", "surrogateescape"), context)
    with store.engine.begin() as conn:
        conn.execute(
            _a.update().where(_a.c.workspace_id == ws, _a.c.name == name).values(session=value)
        )


def load_session(store: Store, box: SecretBox, workspace: str, name: str) -> bytes | None:
    ws = store.workspace_id(workspace)
    row = _row(store, workspace, None, name)
    if row["session"] is None or row["key_id"] != box.key_id:
        return None
    context = _context(ws, row["network"], name, "session")
    return box.open(row["session"], context).encode("utf-8", "surrogateescape")
