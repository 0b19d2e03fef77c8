"""Write transactions that several processes can run against one database.

Ingest reads the rows a batch touches, merges in memory, then writes. Two
processes doing that at once must neither fail nor lose a row:

- SQLite: the transaction takes the write lock with its first statement
  (``BEGIN IMMEDIATE``), so no other writer can change what it has read;
  others wait for it (busy timeout).
- PostgreSQL: rows it will update are read ``FOR UPDATE`` (see ingest); a
  post another transaction inserted meanwhile makes the INSERT fail with a
  unique violation, and a lock cycle is broken by PostgreSQL with a deadlock
  error. Either way the whole batch is rolled back and run again: it then
  reads what the other committed.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
log = logging.getLogger(__name__)

ATTEMPTS = 10
# PostgreSQL SQLSTATEs that mean "another transaction got there first; retry".
_PG_RETRY = {
    "23505",  # unique_violation: a row inserted by a concurrent transaction
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that may read, then write what it read, safely."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def is_retryable(exc: sa.exc.DBAPIError) -> bool:
    """Did the transaction fail only because of a concurrent one?"""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_RETRY
    if isinstance(orig, sqlite3.OperationalError):
        # The busy timeout ran out while other writers held the lock.
        return "locked" in str(orig) or "busy" in str(orig)
    if isinstance(orig, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(orig)
    return False


def run_write(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` in a write transaction, running it again from the start
    (in a new transaction) when a concurrent writer made it fail."""
    for attempt in range(ATTEMPTS):
        try:
            with write_transaction(engine) as conn:
                return work(conn)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                raise
            log.info("write conflicted with another writer, running it again: %s", exc.orig)
        # Jittered back-off so the writers that collided do not collide again.
        time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))
    raise AssertionError("unreachable")
