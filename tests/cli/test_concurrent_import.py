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
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from hubbub.store.engine import create_engine, resolve_db_url
from tests.cli.twarc2_pages import POSTS_PER_PAGE, PageWriter
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.slow

RUNS = 5
PROCESSES = 4
PAGES_PER_FILE = 8  # 800 posts a file
OVERLAP_STEP = 3  # file i starts 3 pages after file i-1: most pages are in 2-3 files


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


def _run_together(db: str, files: list[Path]) -> list[dict]:
    """Start one import per file at once; every one must succeed."""
    processes = [_start_import(db, path) for path in files]
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
        first = run * PROCESSES * OVERLAP_STEP
        files = []
        for i in range(PROCESSES):
            span = range(first + i * OVERLAP_STEP, first + i * OVERLAP_STEP + PAGES_PER_FILE)
            path = tmp_path / f"run{run}-part{i}.jsonl"
            expected.update(pages.write(path, span))
            all_pages.update(span)
            files.append(path)
        reports = _run_together(db, files)
        ids, raws, links = _stored(db)
        assert len(ids) == len(set(ids)), f"run {run}: a post is stored twice"
        assert set(ids) == expected, f"run {run}: {len(expected - set(ids))} posts lost"
        assert raws == len(all_pages) and links == len(expected)
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
            expected.update(pages.write(path, range(i, i + 2)))
            files.append(path)
        reports = _run_together(db, files)
        ids, _raws, _links = _stored(db)
        assert sorted(ids) == sorted(expected), f"run {run}"
        assert sum(r["imported"] for r in reports) == len(expected)
        assert len(expected) == 3 * POSTS_PER_PAGE
