"""Small SQL helpers shared by the store modules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn: sa.Connection, table: sa.Table):
    """An INSERT with ``on_conflict_do_*`` for the connection's backend
    (both dialects spell the upsert the same way in SQLAlchemy)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: sa.Connection, table: sa.Table):
    return dialect_insert(conn, table).on_conflict_do_nothing()


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
