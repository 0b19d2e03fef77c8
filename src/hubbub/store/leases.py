"""Leases: "only one process at a time does this" (X allows one stream
connection per app; ``hubbub serve`` and ``hubbub worker`` could both want it).

A lease is held by the operating system, never by a row that a crashed
process would leave behind: with SQLite an exclusive ``flock`` on a file
beside the database, with PostgreSQL a session advisory lock on a connection
kept open. Either way a process that dies, even by SIGKILL, lets go at once,
so a restarted worker takes over without waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hubbub.store import Store


class Lease(Protocol):
    def release(self) -> None: ...


class _FileLease:
    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class _PgLease:
    def __init__(self, conn: sa.Connection, key: int) -> None:
        self._conn: sa.Connection | None = conn
        self._key = key

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            self._conn.close()
            self._conn = None


class _NoLease:
    def release(self) -> None:
        pass


def _key_number(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def try_lease(store: Store, name: str) -> Lease | None:
    """The lease called ``name`` if no other process holds it, else None."""
    url = make_url(store.engine.url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            return _NoLease()  # one process by construction
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        path = Path(database).expanduser().with_name(f"{Path(database).name}.lease-{digest}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return _FileLease(fd)
    key = _key_number(name)
    conn = store.engine.connect()
    try:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
    except Exception:
        conn.close()
        raise
    if not got:
        conn.close()
        return None
    return _PgLease(conn, key)
