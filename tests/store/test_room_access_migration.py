"""Migration 0005 on a database made before it (both backends): rooms that
existed stay public (anyone could read them), the guest-block columns and
the web_guests table appear, and a new database gets the same schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import hubbub.store.engine as engine_module
from hubbub.store import open_store
from hubbub.store.engine import create_engine, resolve_db_url
from hubbub.store.schema import workspaces


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(engine_module.__file__).with_name("migrations"))
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_rooms_made_before_0005_stay_public(empty_db_url: str) -> None:
    engine = create_engine(resolve_db_url(empty_db_url))
    try:
        _upgrade(engine, "0004")
        # Migration 0002 builds the web tables from today's metadata; take the
        # new columns away again to get the tables as they were before 0005.
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE rooms DROP COLUMN public")
            conn.exec_driver_sql("ALTER TABLE room_people DROP COLUMN address")
            conn.exec_driver_sql("ALTER TABLE room_people DROP COLUMN name_key")
            conn.exec_driver_sql("DROP INDEX ix_room_approvals_post")
            now = datetime.now(UTC)
            ws = conn.execute(
                workspaces.insert().values(name="default", created_at=now)
            ).inserted_primary_key[0]
            conn.execute(
                sa.text(
                    "INSERT INTO rooms (workspace_id, tag, allow_guests, approval, created_at,"
                    " updated_at) VALUES (:ws, 'oldroom', false, false, :now, :now)"
                ),
                {"ws": ws, "now": now},
            )
        assert "public" not in _columns(engine, "rooms")
        _upgrade(engine, "head")
        assert {"address", "name_key"} <= _columns(engine, "room_people")
        assert "web_guests" in sa.inspect(engine).get_table_names()
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("room_approvals")}
        assert "ix_room_approvals_post" in indexes
        with engine.connect() as conn:
            public = conn.exec_driver_sql("SELECT public FROM rooms WHERE tag = 'oldroom'")
            assert bool(public.scalar_one()) is True
    finally:
        engine.dispose()


def test_a_new_database_has_the_room_access_schema(empty_db_url: str) -> None:
    with open_store(empty_db_url) as store:
        assert "public" in _columns(store.engine, "rooms")
        assert {"address", "name_key"} <= _columns(store.engine, "room_people")
        assert "web_guests" in sa.inspect(store.engine).get_table_names()
