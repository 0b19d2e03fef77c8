"""A large search corpus built from the shared real payloads, cached on disk.

The seed is every shared payload file imported by ``hubbub import``'s own code
(``import_paths``): X, Bluesky and Mastodon posts with their real texts,
hashtags, mentions, languages, authors, replies, reposts, links and media, and
the store's own ``post_terms`` rows and full-text index. The seed is then
copied inside the database (``INSERT … SELECT``, one statement per table per
copy) until it holds ``posts`` rows: each copy gets new keys and post ids (the
copy number appended, references inside the copy renamed alike so a repost
still finds its original) and dates spread evenly, one post every
``STEP_SECONDS``, newest last. Python never touches a copied row, which is
what makes a million posts take minutes instead of an hour; the FTS5 triggers
(SQLite) and the generated ``tsvector`` (PostgreSQL) index the copies as they
would any insert.

Databases are cached under ``~/.cache/hubbub-bench/`` (SQLite file,
PostgreSQL database ``hubbub_bench_search_<posts>_v<VERSION>``), keyed by
``VERSION`` and size: change the generator, bump ``VERSION``.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = REPO.parent / "shared" / "data" / "payloads"
CACHE = Path(os.environ.get("HUBBUB_BENCH_CACHE", Path.home() / ".cache" / "hubbub-bench"))
PG_SERVER = os.environ.get("HUBBUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
VERSION = 1
# The newest post's date; copies go back from it one STEP apart.
NEWEST = datetime(2026, 6, 30, tzinfo=UTC)
STEP_SECONDS = 15
# Same list as tests/store/test_import_real.py: documentation files, not payloads.
NOT_PAYLOADS = {
    "manifest.corpus.json",
    "account_entity_example.json",
    "media_attachment_examples.json",
}

_REF_COLUMNS = ("post_id", "reply_to", "quote_of", "repost_of", "conversation_id")


def payload_files() -> list[Path]:
    return sorted(
        p
        for p in PAYLOADS.rglob("*")
        if p.suffix in (".json", ".jsonl", ".sse") and p.name not in NOT_PAYLOADS
    )


def first_date(posts: int) -> datetime:
    return NEWEST - timedelta(seconds=STEP_SECONDS * posts)


def _log(message: str) -> None:
    print(f"[corpus] {message}", file=sys.stderr, flush=True)


def _replicate(engine: sa.Engine, dialect: str, posts: int) -> None:
    """Copy the seed (pk 1..seed) until there are ``posts`` rows."""
    with engine.begin() as conn:
        seed = conn.execute(sa.text("SELECT max(pk) FROM posts")).scalar_one()
        rows = conn.execute(sa.text("SELECT count(*) FROM posts")).scalar_one()
    columns = [c.name for c in sa.Table("posts", sa.MetaData(), autoload_with=engine).columns]
    columns = [c for c in columns if c != "search_vector"]  # generated on PostgreSQL
    start = first_date(posts).replace(tzinfo=None)
    epoch0 = int(start.replace(tzinfo=UTC).timestamp())
    copies = -(-posts // rows)
    began = time.perf_counter()
    for k in range(copies):
        offset = k * seed
        # Dates in pk order across the whole corpus: newest = largest pk.
        if dialect == "sqlite":
            when = (
                f"strftime('%Y-%m-%d %H:%M:%S', {epoch0} + (pk + {offset}) * {STEP_SECONDS}, "
                "'unixepoch') || '.000000'"
            )
            suffix = f"'~{k}'"
        else:
            when = f"to_timestamp({epoch0} + (pk + {offset}) * {STEP_SECONDS}) AT TIME ZONE 'UTC'"
            suffix = f"'~{k}'"
        exprs = []
        for c in columns:
            if c == "pk":
                exprs.append(f"pk + {offset + seed}")
            elif c in _REF_COLUMNS:
                exprs.append(f"{c} || {suffix}")
            elif c == "created_at":
                exprs.append(when)
            else:
                exprs.append(c)
        limit = min(rows, posts - k * rows)
        # Copy 0 replaces the seed's own dates and keys too: all copies alike.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"INSERT INTO posts ({', '.join(columns)}) SELECT {', '.join(exprs)} "
                    f"FROM posts WHERE pk <= {seed} ORDER BY pk LIMIT {limit}"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO post_terms (post_pk, kind, value) "
                    f"SELECT post_pk + {offset + seed}, kind, value FROM post_terms "
                    f"WHERE post_pk IN (SELECT pk FROM posts WHERE pk <= {seed} "
                    f"ORDER BY pk LIMIT {limit})"
                )
            )
        if k % 10 == 0:
            _log(f"{dialect}: copy {k + 1}/{copies} ({time.perf_counter() - began:.0f} s)")
    # The seed itself leaves: every post is a copy with generated dates.
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM post_terms WHERE post_pk <= {seed}"))
        for table in ("post_raws", "post_versions"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE post_pk <= {seed}"))
        conn.execute(sa.text(f"DELETE FROM posts WHERE pk <= {seed}"))
        conn.execute(sa.text("ANALYZE"))
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE posts"))
            conn.execute(sa.text("VACUUM ANALYZE post_terms"))


def build(dialect: str, posts: int) -> str:
    """The URL of a corpus of ``posts`` posts on ``dialect``, built if not cached."""
    from hubbub.store import open_store
    from hubbub.transfer.importer import import_paths

    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"search_{posts}_v{VERSION}"
    if dialect == "sqlite":
        path = CACHE / f"{name}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
        building = CACHE / f"{name}.building.db"
        building.unlink(missing_ok=True)
        build_url = f"sqlite:///{building}"
    else:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        db = f"hubbub_bench_{name}"
        url = f"{PG_SERVER}/{db}"
        with admin.connect() as conn:
            if conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": db}
            ).first():
                admin.dispose()
                return url
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}_building" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{db}_building"'))
        build_url = f"{PG_SERVER}/{db}_building"
    began = time.perf_counter()
    with open_store(build_url) as store:
        import_paths(store, [str(p) for p in payload_files()])
    _log(f"{dialect}: seed imported ({time.perf_counter() - began:.0f} s)")
    engine = sa.create_engine(build_url)
    try:
        _replicate(engine, dialect, posts)
    finally:
        engine.dispose()
    _log(f"{dialect}: {posts} posts built in {time.perf_counter() - began:.0f} s")
    if dialect == "sqlite":
        building.rename(path)
    else:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{db}_building" RENAME TO "{db}"'))
        admin.dispose()
    return url
