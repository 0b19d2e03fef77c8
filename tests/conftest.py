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
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PAYLOADS = SHARED_DATA / "payloads"
PG_ADMIN_URL = os.environ.get("HUBBUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUBBUB_TEST_REDIS", "redis://127.0.0.1:6379/15")

# Hypothesis fails an example that runs past 200 ms (its default deadline) and a
# test whose data is slow to generate: timing checks, which a 2-core machine
# shared by pytest-xdist workers, servers and Chromium trips for no fault of the
# code. Tests keep their own settings (max_examples); only these two are relaxed.
hypothesis_settings.register_profile(
    "hubbub", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("hubbub")


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


def _create_database(admin, name: str, template: str | None = None) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{clause}'))
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin, name: str) -> None:
    import sqlalchemy as sa

    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(_pg_admin) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    url = _create_database(_pg_admin, name)
    try:
        yield url
    finally:
        _drop_database(_pg_admin, name)


# Migrating an empty database to the newest schema runs every migration: about
# 1.5 s on PostgreSQL and 0.5 s on SQLite, paid by each of the ~1,200 tests that
# want a store. Each session migrates one template per backend instead and hands
# out copies (PostgreSQL's CREATE DATABASE ... TEMPLATE, a file copy for SQLite),
# which are at the newest revision, so open_store finds nothing to do. Tests of
# the migrations themselves take ``empty_db_url``.


@pytest.fixture(scope="session")
def _pg_template(_pg_admin) -> Iterator[str]:
    from hubbub.store import open_store

    name = f"hubbub_template_{uuid.uuid4().hex[:12]}"
    url = _create_database(_pg_admin, name)
    try:
        open_store(url).close()  # close() disposes its engine: a template must have no sessions
        yield name
    finally:
        _drop_database(_pg_admin, name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hubbub.store import open_store

    path = tmp_path_factory.mktemp("template") / "hubbub.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def migrated_postgres_url(_pg_admin, _pg_template: str) -> Iterator[str]:
    """A PostgreSQL database for one test, already at the newest schema."""
    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    url = _create_database(_pg_admin, name, template=_pg_template)
    try:
        yield url
    finally:
        _drop_database(_pg_admin, name)


@pytest.fixture
def migrated_sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A SQLite file for one test, already at the newest schema (private, as the store makes it)."""
    path = tmp_path / "hubbub.db"
    shutil.copyfile(_sqlite_template, path)
    path.chmod(0o600)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using this runs on both backends, on a database at the newest schema."""
    if request.param == "sqlite":
        return request.getfixturevalue("migrated_sqlite_url")
    return request.getfixturevalue("migrated_postgres_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request) -> str:
    """Both backends, on an empty database: for tests that build an old schema or migrate."""
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
