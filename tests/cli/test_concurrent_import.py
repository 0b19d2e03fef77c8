"""Several ``hubbub import`` processes on one database lose nothing (issue 7,
cases 7 and 8): real processes, real SQLite and PostgreSQL.

Before: two importers died with ``IntegrityError … raw_payloads`` in most
runs and the database could hold half the posts; two processes creating a new
database raced on the schema (``table … already exists``) and the loser
stored nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from hubbub.store.engine import MIGRATION_LOCK_KEY, create_engine, resolve_db_url
from tests.cli.twarc2_pages import POSTS_PER_PAGE, PageWriter
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.slow

RUNS = 5
PROCESSES = 4
PAGES_PER_FILE = 8  # 800 posts a file
# File i starts STEP posts after file i-1, so most posts are in 2-3 files. A
# step of whole pages makes files share identical pages (one raw payload,
# stored once); a step of 250 puts the same posts in different pages.
STEPS = (300, 250)


@pytest.fixture(scope="module")
def pages() -> PageWriter:
    return PageWriter()


@pytest.fixture
def fresh_db(request, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases of the backend under test."""
    backend = request.param
    made: list[str] = []

    def make() -> str:
        if backend == "sqlite":
            return str(tmp_path / f"fresh-{uuid.uuid4().hex[:8]}.db")
        admin = request.getfixturevalue("_pg_admin")
        name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)

    yield make
    if made:
        admin = request.getfixturevalue("_pg_admin")
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _start_import(db: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hubbub.cli", "import", "--json", "--db", db, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )


@contextmanager
def _pg_gate(db: str, lock_sql: str, waiting_sql: str) -> Iterator[Callable[[list], None]]:
    """Hold a PostgreSQL lock; ``release(processes)`` waits until every process
    is blocked on it, then lets them all go at the same moment, so their
    transactions really overlap (process start-up alone staggers them by
    seconds on a busy machine)."""
    engine = sa.create_engine(resolve_db_url(db), isolation_level="AUTOCOMMIT")
    holder = engine.connect()
    holder.exec_driver_sql("BEGIN")
    holder.exec_driver_sql(lock_sql)

    def release(processes: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 240
        with engine.connect() as watcher:
            while watcher.exec_driver_sql(waiting_sql).scalar_one() < len(processes):
                assert all(p.poll() is None for p in processes), "an import ended early"
                assert time.monotonic() < deadline, "imports never reached the gate"
                time.sleep(0.05)
        holder.exec_driver_sql("COMMIT")

    try:
        yield release
    finally:
        holder.close()
        engine.dispose()


# Locks that sessions of this database wait for (pg_locks covers the whole server).
_WAITING = (
    "SELECT count(*) FROM pg_locks WHERE NOT granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _ingest_gate(db: str) -> AbstractContextManager[Callable[[list], None] | None]:
    """Imports into an existing PostgreSQL database start their first batch
    together: the gate blocks their first write to raw_payloads."""
    if "://" not in db:
        return nullcontext(None)
    return _pg_gate(
        db,
        "LOCK TABLE raw_payloads IN EXCLUSIVE MODE",
        _WAITING + " AND relation = 'raw_payloads'::regclass",
    )


def _creation_gate(db: str) -> AbstractContextManager[Callable[[list], None] | None]:
    """Processes opening a new PostgreSQL database reach the schema lock together."""
    if "://" not in db:
        return nullcontext(None)
    return _pg_gate(
        db,
        f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})",
        _WAITING + " AND locktype = 'advisory'",
    )


def _run_together(
    db: str,
    files: list[Path],
    gate: AbstractContextManager[Callable[[list], None] | None],
) -> list[dict]:
    """Start one import per file at once; every one must succeed."""
    with gate as release:
        processes = [_start_import(db, path) for path in files]
        if release is not None:
            release(processes)
    reports = []
    for process, path in zip(processes, files, strict=True):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"import of {path.name} failed:\n{err.decode()[-3000:]}"
        reports.append(orjson.loads(out))
    return reports


def _stored(db: str) -> tuple[list[str], int, int]:
    """(post ids with repeats, raw payload rows, post→payload links) in the database."""
    engine = create_engine(resolve_db_url(db))
    try:
        with engine.connect() as conn:
            ids = list(conn.execute(sa.text("SELECT post_id FROM posts")).scalars())
            raws = conn.execute(sa.text("SELECT count(*) FROM raw_payloads")).scalar_one()
            links = conn.execute(sa.text("SELECT count(*) FROM post_raws")).scalar_one()
    finally:
        engine.dispose()
    return ids, raws, links


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgresql"], indirect=True)
def test_four_importers_of_overlapping_files_store_every_post_once(
    fresh_db, pages: PageWriter, tmp_path: Path
) -> None:
    db = fresh_db()
    expected: set[str] = set()
    all_pages: set[int] = set()
    imported = 0
    for run in range(RUNS):
        # Each run overlaps the previous one too, so runs after the first
        # merge into stored rows while the other processes do the same.
        step = STEPS[run % 2]
        first = run * 1000
        files = []
        for i in range(PROCESSES):
            starts = [first + i * step + k * POSTS_PER_PAGE for k in range(PAGES_PER_FILE)]
            path = tmp_path / f"run{run}-part{i}.jsonl"
            expected.update(pages.write(path, starts))
            all_pages.update(starts)
            files.append(path)
        # Run 0 creates the database (the schema lock lines the processes
        # up); later runs are gated so that their first batches collide.
        gate = _ingest_gate(db) if run else nullcontext(None)
        reports = _run_together(db, files, gate)
        ids, raws, links = _stored(db)
        assert len(ids) == len(set(ids)), f"run {run}: a post is stored twice"
        assert set(ids) == expected, f"run {run}: {len(expected - set(ids))} posts lost"
        # One payload per distinct page, linked to each of its 100 posts.
        assert raws == len(all_pages) and links == len(all_pages) * POSTS_PER_PAGE
        assert all(r["rejected"] == 0 for r in reports)
        # Each post was counted as imported by exactly one process, once.
        imported += sum(r["imported"] for r in reports)
        assert imported == len(expected), f"run {run}"


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgresql"], indirect=True)
def test_two_processes_creating_a_new_database_both_store(
    fresh_db, pages: PageWriter, tmp_path: Path
) -> None:
    for run in range(RUNS):
        db = fresh_db()
        files = []
        expected: set[str] = set()
        for i in range(2):
            path = tmp_path / f"create{run}-{i}.jsonl"
            expected.update(pages.write(path, [i * 100, i * 100 + 100]))
            files.append(path)
        reports = _run_together(db, files, _creation_gate(db))
        ids, _raws, _links = _stored(db)
        assert sorted(ids) == sorted(expected), f"run {run}"
        assert sum(r["imported"] for r in reports) == len(expected)
        assert len(expected) == 3 * POSTS_PER_PAGE
