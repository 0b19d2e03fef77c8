"""Shared fixtures: real SQLite files, a real PostgreSQL database per test,
the shared real-data folder.

PostgreSQL and Redis: where CI is set, or where the server is installed on this
machine, a test that cannot reach them fails; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PAYLOADS = SHARED_DATA / "payloads"
PG_ADMIN_URL = os.environ.get("HUBBUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUBBUB_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _services_required(installed: bool) -> bool:
    return (
        bool(os.environ.get("CI")) or bool(os.environ.get("HUBBUB_REQUIRE_SERVICES")) or installed
    )


def unavailable(what: str, reason: str, installed: bool) -> None:
    """Fail (CI, or the server is installed here) or skip (elsewhere)."""
    message = f"{what} not reachable: {reason}"
    if _services_required(installed):
        pytest.fail(message + " (required: CI is set or the server is installed on this machine)")
    pytest.skip(message)


def require_shared_data() -> Path:
    if not PAYLOADS.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (tests on real payloads need it)")
    return SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    return require_shared_data()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hubbub.db'}"


@pytest.fixture(scope="session")
def _pg_admin():
    import sqlalchemy as sa

    from hubbub.store.engine import resolve_db_url

    engine = sa.create_engine(resolve_db_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
        engine.dispose()
        installed = Path("/etc/postgresql").is_dir()
        unavailable("PostgreSQL", f"{PG_ADMIN_URL}: {exc}".splitlines()[0], installed)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(_pg_admin) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with _pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using this runs on both backends."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(db_url):
    from hubbub.store import open_store

    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", f"{REDIS_URL}: {exc}", shutil.which("redis-server") is not None)
    finally:
        client.close()
    return REDIS_URL
