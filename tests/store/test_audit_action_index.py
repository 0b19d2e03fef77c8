"""Migration 0015: an index on the audit log's kind of event (action,
workspace, actor, time), so ``hubbub user list`` finds each user's last
sign-in, and the web whether an anonymous download was already recorded
this hour, without reading the whole log (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import hubbub.store.engine as engine_module
from hubbub.store import open_store
from hubbub.store.audit import AuditLog
from hubbub.store.audit_schema import audit_events
from hubbub.store.directory import user_summaries
from hubbub.store.engine import create_engine, resolve_db_url
from hubbub.store.schema import workspaces
from hubbub.store.scope import existing_scope, scope
from hubbub.store.web_schema import users

INDEX = "ix_audit_events_action"
COLUMNS = ["action", "workspace_id", "actor", "at"]
NOW = datetime.now(UTC).replace(microsecond=0)


def _config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(engine_module.__file__).with_name("migrations"))
    )
    return config


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _index(engine: sa.Engine) -> list[str] | None:
    for found in sa.inspect(engine).get_indexes("audit_events"):
        if found["name"] == INDEX:
            return [str(c) for c in found["column_names"]]
    return None


def _fill(conn: sa.Connection) -> None:
    """Two workspaces as a database made before 0015 holds them: users, and
    a log of many kinds of events around their sign-ins."""
    for name in ("default", "acme"):
        ws = conn.execute(
            workspaces.insert().values(name=name, created_at=NOW - timedelta(days=30))
        ).inserted_primary_key[0]

        def user(who: str, days_ago: int, ws: Any = ws) -> None:
            conn.execute(
                users.insert().values(
                    workspace_id=ws,
                    name=who,
                    password_hash="x",  # noqa: S106 - no one signs in here
                    role="owner",
                    created_at=NOW - timedelta(days=days_ago),
                )
            )

        def event(who: str, action: str, days_ago: float, ws: Any = ws) -> None:
            conn.execute(
                audit_events.insert().values(
                    workspace_id=ws,
                    at=NOW - timedelta(days=days_ago),
                    actor=who,
                    action=action,
                    target=None,
                    detail=None,
                    address="192.0.2.1",
                )
            )

        user("ann", 20)
        user("bob", 20)
        user("cy", 2)  # a new cy: the old cy's sign-ins are not this one's
        for day in range(20, 0, -1):
            event("ann", "signin", day + (0.5 if name == "acme" else 0))
            event("ann", "export", day - 0.25)  # newer than each sign-in
            event("bob", "signin_failed", day - 0.1)  # bob never got in
        event("cy", "signin", 10)
        event("ann", "signout", 0.5)


def _last_sign_ins(db_url: str) -> dict[tuple[str, str], datetime | None]:
    with open_store(db_url) as store:
        found = user_summaries(store, None, now=NOW, idle=timedelta(hours=1))
        assert [
            u.name
            for u in user_summaries(
                store, existing_scope(store, "acme"), now=NOW, idle=timedelta(hours=1)
            )
        ] == ["ann", "bob", "cy"]
    return {(u.workspace, u.name): u.last_sign_in for u in found}


def test_upgrade_from_0014_with_rows_present_and_back(empty_db_url: str) -> None:
    engine = create_engine(resolve_db_url(empty_db_url))
    try:
        _upgrade(engine, "0014")
        # Migration 0009 builds audit_events from today's metadata; take the
        # index away again to get the table as it was before 0015.
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {INDEX}")
            _fill(conn)
        assert _index(engine) is None
        with engine.connect() as conn:
            before = conn.execute(sa.select(audit_events).order_by(audit_events.c.id)).all()
        _upgrade(engine, "head")
        assert _index(engine) == COLUMNS
        with engine.connect() as conn:
            after = conn.execute(sa.select(audit_events).order_by(audit_events.c.id)).all()
        assert after == before and len(after) == 2 * 62
        _downgrade(engine, "0014")
        assert _index(engine) is None
        _upgrade(engine, "head")
        assert _index(engine) == COLUMNS
    finally:
        engine.dispose()
    # The user list reads the same last sign-ins through the index.
    assert _last_sign_ins(empty_db_url) == {
        ("acme", "ann"): NOW - timedelta(days=1.5),
        ("acme", "bob"): None,
        ("acme", "cy"): None,
        ("default", "ann"): NOW - timedelta(days=1),
        ("default", "bob"): None,
        ("default", "cy"): None,
    }


def test_a_new_database_has_the_index(empty_db_url: str) -> None:
    with open_store(empty_db_url) as store:
        assert _index(store.engine) == COLUMNS


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((sql, params))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _plans(engine: sa.Engine, seen: list[tuple[str, Any]]) -> list[str]:
    """SQLite's plan of each audit_events statement seen, one string each."""
    plans = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in seen:
            if "audit_events" in sql and not sql.lstrip().upper().startswith("PRAGMA"):
                rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans


def test_sqlite_reads_sign_ins_and_this_hours_downloads_by_the_index(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        log = AuditLog(scope(store, "default"))
        for day in range(50):
            log.record("ann", "export", at=NOW - timedelta(days=day))
        log.record("ann", "signin", at=NOW - timedelta(days=1))
        with _statements(store.engine) as seen:
            user_summaries(store, None, now=NOW, idle=timedelta(hours=1))
            user_summaries(store, scope(store, "default"), now=NOW, idle=timedelta(hours=1))
            log.record_once_per_hour("anonymous visitor", "export", target="f.md", address="a")
        plans = _plans(store.engine, seen)
    assert len(plans) == 3, plans
    for plan in plans:
        # Searched by the index, never a scan of the whole log.
        assert f"USING COVERING INDEX {INDEX}" in plan or f"USING INDEX {INDEX}" in plan, plan
        assert "SCAN audit_events" not in plan, plan
