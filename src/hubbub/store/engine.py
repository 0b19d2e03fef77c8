"""Connecting to the database named by ``--db`` / ``HUBBUB_DB``, and migrating it.

Several processes may open one database at once (``import`` runs beside
``serve`` and workers): a new SQLite file is created readable by its owner
only, and migrations run under a lock (SQLite: an exclusive transaction;
PostgreSQL: an advisory lock), so a second process waits, then finds the
schema current.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

DEFAULT_DB = "./hubbub.db"
# How long an SQLite connection waits for another process's write lock before
# giving up (a batch of an import holds it for about a second on a busy machine).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Key of PostgreSQL's advisory lock for schema changes (any constant unique to Hubbub).
MIGRATION_LOCK_KEY = 0x4855_4242_5542  # "HUBBUB"


class StoreError(RuntimeError):
    """The database cannot be opened or used (bad URL, unreachable server)."""


class DamagedDatabase(StoreError):
    """The file is not an SQLite database, or its contents are corrupt."""


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
    # First, so every statement below (switching a new file to WAL takes a
    # lock) waits for another process instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # WAL lets the web app read while the pipeline writes; NORMAL is durable
    # across application crashes and much faster than FULL under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not parsed.query.get("uri"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(
                    f"cannot create database {database}: folder {parent} does not exist"
                )
            _create_private_file(Path(database).expanduser())
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


def _create_private_file(path: Path) -> None:
    """Create a new database file readable by its owner only (0600).

    SQLite gives its ``-wal`` and ``-shm`` files the permissions of the
    database file, so they are private too. An existing file is left as it
    is; ``O_EXCL`` makes this safe when two processes create the file at once.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror or exc}") from None
    os.close(fd)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _migration_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return config


@functools.cache
def _newest_revisions() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code.

    Cached: they cannot change while the process runs, and finding them makes
    alembic read and compile every migration file (about 0.1 s each time, paid on
    every store a process opens: the server, the workers, a test suite).
    """
    return frozenset(ScriptDirectory.from_config(_migration_config()).get_heads())


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current).

    Safe to call from several processes at once: the upgrade runs under a
    lock and reads the schema's revision only once it holds it.
    """
    config = _migration_config()
    heads = _newest_revisions()
    with engine.connect() as connection:
        if set(MigrationContext.configure(connection).get_current_heads()) == heads:
            return  # current: no lock taken, so opening a busy database never waits
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # Exclusive from the first statement: a second process blocks
            # here (busy timeout) until the first has committed the schema.
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
