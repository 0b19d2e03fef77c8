"""Connecting to the database named by ``--db`` / ``HUBBUB_DB``, and migrating it."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

DEFAULT_DB = "./hubbub.db"


class StoreError(RuntimeError):
    """The database cannot be opened or used (bad URL, unreachable server)."""


def resolve_db_url(db: str | None = None) -> str:
    """Turn ``--db`` (a file path or an SQLAlchemy URL) into an SQLAlchemy URL.

    ``None`` falls back to ``HUBBUB_DB`` and then ``./hubbub.db``. PostgreSQL
    URLs are pointed at the psycopg 3 driver, the one we install.
    """
    value = db or os.environ.get("HUBBUB_DB") or DEFAULT_DB
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser())
    url = make_url(value)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif not url.drivername.startswith(("sqlite", "postgresql")):
        raise StoreError(f"unsupported database {url.drivername!r}: use SQLite or PostgreSQL")
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while the pipeline writes; NORMAL is durable
    # across application crashes and much faster than FULL under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(
                    f"cannot create database {database}: folder {parent} does not exist"
                )
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False},
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
