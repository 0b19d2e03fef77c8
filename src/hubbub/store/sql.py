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


def bulk_insert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    on_conflict_do_nothing: bool = False,
) -> None:
    """INSERT many rows that all have the same keys.

    On SQLite this applies each column type's own bind processor and hands
    tuples straight to the driver's ``executemany``: the same values SQLAlchemy
    would send, without its per-row parameter machinery, which was a fifth of
    the import's time. Other backends take the ordinary Core path.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        stmt = insert_ignore(conn, table) if on_conflict_do_nothing else sa.insert(table)
        conn.execute(stmt, list(rows))
        return
    names = list(rows[0])
    # The dialect's own implementation of each type (SQLite's DATETIME writes a
    # fixed "YYYY-MM-DD HH:MM:SS.ffffff" text; the generic type would leave it to
    # sqlite3's adapter, which drops ".000000" and breaks string comparisons).
    processors = [
        table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for name in names
    ]
    quote = conn.dialect.identifier_preparer.quote
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(table.name), ", ".join(quote(n) for n in names), ", ".join("?" * len(names))
    )
    if on_conflict_do_nothing:
        sql += " ON CONFLICT DO NOTHING"
    # Column by column: one C-level map per column instead of a Python
    # generator step per value (that was 1.4 s of a 15k-post import).
    columns: list[list[Any]] = []
    for name, proc in zip(names, processors, strict=True):
        values = [row[name] for row in rows]
        columns.append(list(map(proc, values)) if proc is not None else values)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))
