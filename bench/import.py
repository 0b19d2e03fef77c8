"""Import throughput (posts/s): X API v2 JSONL into SQLite.

Baseline, in the same run: orjson decode plus ``sqlite3`` ``executemany`` into
a table with the same primary key and an FTS5 index of the same text — the
least any importer has to do. Hubbub does far more per post (every field,
authors, facets, raw payloads, identity rules), so the question is how much
of the baseline's speed it keeps.

The input is built from ../shared/data/payloads/x_v2_twarc2 pages, repeated
with shifted tweet ids until it holds ``--posts`` unique posts (written to a
temporary folder, never into the repository).

``hubbub import`` itself runs the pipeline's stages on each stored batch
(match against the saved queries, classify every post: reports only read);
``hubbub+stages`` measures that, with one saved query, beside the store alone.
A file this size is parsed (and classified) in a second process while the
first writes; every figure is wall time from call to return.

PostgreSQL (unless ``--no-pg``): the baseline is orjson decode plus ``COPY``
of the same posts into a table made ``LIKE posts INCLUDING ALL`` (same
columns, defaults, indexes), filled with the fields a JSON read gives for
free; Hubbub imports the same file with its stages. Database
``hubbub_bench_import`` (created and dropped here; never ``test``).

    .venv/bin/python bench/import.py --quick        # make bench: 5,000 posts, 2 runs
    .venv/bin/python bench/import.py [--posts 50000] [--runs 3] [--no-pg]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("HUBBUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PG_DB = "hubbub_bench_import"
TWARC = REPO.parent / "shared" / "data" / "payloads" / "x_v2_twarc2"
SOURCE_FILES = (
    "2sets.jsonl",
    "brexit.jsonl",
    "entities_test.jsonl",
    "noflat.jsonl",
    "withheld.jsonl",
)


def _shift(obj: dict[str, Any], offset: int) -> dict[str, Any]:
    """Shift every tweet id in a page (or an object inside it) so each copy holds new posts."""
    out: dict[str, Any] = {}
    for key, item in obj.items():
        if key in ("id", "conversation_id") and isinstance(item, str) and item.isdigit():
            out[key] = str(int(item) + offset)
        elif key == "edit_history_tweet_ids" and isinstance(item, list):
            out[key] = [str(int(i) + offset) for i in item]
        else:
            out[key] = _shift_value(item, offset)
    return out


def _shift_value(value: object, offset: int) -> object:
    # Split from _shift so that a page stays typed as an object (dict) after shifting.
    if isinstance(value, dict):
        return _shift(value, offset)
    if isinstance(value, list):
        return [_shift_value(item, offset) for item in value]
    return value


def _page_tweets(page: dict[str, Any]) -> list[dict[str, Any]]:
    # dict[str, Any]: a page as orjson decodes it, whose shape is X's and is not checked here.
    data = page.get("data") or []
    tweets = data if isinstance(data, list) else [data]
    return tweets + list((page.get("includes") or {}).get("tweets") or [])


def build_input(folder: Path, posts: int) -> tuple[Path, int]:
    pages: list[dict[str, Any]] = []
    for name in SOURCE_FILES:
        for line in (TWARC / name).read_bytes().splitlines():
            if line.strip():
                pages.append(orjson.loads(line))
    path = folder / "x_v2.jsonl"
    unique: set[str] = set()
    copy = 0
    with path.open("wb") as out:
        while len(unique) < posts:
            offset = copy * 10**6  # users keep their ids: same authors, new posts
            for page in pages:
                shifted = _shift(page, offset) if copy else page
                out.write(orjson.dumps(shifted) + b"\n")
                for tweet in _page_tweets(shifted):
                    chain = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
                    unique.add(chain[0])
            copy += 1
    return path, len(unique)


def baseline(path: Path, db: Path) -> int:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE posts (network TEXT, post_id TEXT, text TEXT, PRIMARY KEY (network, post_id))"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content='posts', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    seen: set[str] = set()
    with path.open("rb") as handle:
        batch: list[tuple[int, str, str, str]] = []
        for line in handle:
            page = orjson.loads(line)
            for tweet in _page_tweets(page):
                # Duplicates dropped in memory: cheaper than any upsert.
                if tweet["id"] not in seen:
                    seen.add(tweet["id"])
                    batch.append((len(seen), "x", tweet["id"], tweet["text"]))
            if len(batch) >= 2000:
                _flush(conn, batch)
                batch = []
        _flush(conn, batch)
    conn.close()
    return len(seen)


def _flush(conn: sqlite3.Connection, batch: list[tuple[int, str, str, str]]) -> None:
    with conn:
        conn.executemany(
            "INSERT INTO posts(rowid, network, post_id, text) VALUES (?, ?, ?, ?)", batch
        )
        conn.executemany(
            "INSERT INTO posts_fts(rowid, text) VALUES (?, ?)", [(r[0], r[3]) for r in batch]
        )


def hubbub_import(path: Path, db: Path) -> int:
    from hubbub.store import open_store
    from hubbub.transfer.importer import import_paths

    with open_store(str(db)) as store:
        report = import_paths(store, [str(path)])
    assert report.rejected == 0, report.errors[:3]
    return report.counts.imported


def hubbub_import_with_stages(path: Path, db: Path) -> int:
    """What ``hubbub import`` does: the store, then match and classify each batch."""
    from hubbub.listen.imported import listen_after_import
    from hubbub.listen.saved import add_query
    from hubbub.store import open_store
    from hubbub.transfer.importer import import_paths

    with open_store(str(db)) as store:
        add_query(store, "brexit", "brexit OR #brexit")
        report = import_paths(store, [str(path)], on_batch=listen_after_import(store, "default"))
    assert report.rejected == 0, report.errors[:3]
    return report.counts.imported


def hubbub_parse_only(path: Path, _db: Path) -> int:
    """The parsing share of the import: read, decode, parse; no store."""
    from hubbub.formats import Context, parse_record
    from hubbub.formats.reader import iter_file_records
    from hubbub.post import Post

    ctx = Context(source=str(path))
    ids: set[str] = set()
    with path.open("rb") as handle:
        for record in iter_file_records(handle):
            for item in parse_record(record.value, ctx)[1]:
                if isinstance(item, Post):
                    ids.add(item.id)
    return len(ids)


def _pg_reset() -> str:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        admin.execute(f"CREATE DATABASE {PG_DB}")
    return f"{PG_SERVER}/{PG_DB}"


def _pg_schema(url: str) -> None:
    from hubbub.store import open_store

    with open_store(url):
        pass  # migrations: the posts table to copy the shape of


_COPY_COLUMNS = (
    "workspace_id, network, post_id, author_id, author_handle, text, search_text, created_at, "
    "langs, hashtags, mentions, links, media_count, metrics, sensitive, edit_ids, deleted, "
    "embedded, matching_rules, aliases, stored_at, updated_at"
)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def pg_copy(path: Path, _db: Path) -> int:
    """orjson decode + COPY into a table shaped like ``posts`` (made before the
    clock starts): every NOT NULL column filled from fields the JSON gives as
    they are (no tokenizing, facets, authors, raw pages or identity rules)."""
    import psycopg

    now = datetime.now(UTC)
    seen: set[str] = set()
    empty = _json([])
    with psycopg.connect(f"{PG_SERVER}/{PG_DB}") as conn, path.open("rb") as handle:
        for line in handle:
            rows = []
            for tweet in _page_tweets(orjson.loads(line)):
                if tweet["id"] in seen:
                    continue
                seen.add(tweet["id"])
                author = tweet.get("author_id", "")
                tags = [h["tag"] for h in (tweet.get("entities") or {}).get("hashtags") or []]
                mentions = [
                    m["username"] for m in (tweet.get("entities") or {}).get("mentions") or []
                ]
                rows.append(
                    (1, "x", tweet["id"], author, author, tweet["text"], tweet["text"],
                     tweet.get("created_at") or now, _json([tweet.get("lang") or ""]),
                     _json(tags), _json(mentions), empty, 0,
                     _json(tweet.get("public_metrics") or {}),
                     bool(tweet.get("possibly_sensitive")),
                     _json(tweet.get("edit_history_tweet_ids") or [tweet["id"]]),
                     False, False, empty, empty, now, now)
                )  # fmt: skip
            if rows:
                with conn.cursor().copy(f"COPY bench_posts ({_COPY_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
    return len(seen)


def _pg_copy_prepare() -> None:
    import psycopg

    url = _pg_reset()
    _pg_schema(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_posts (LIKE posts INCLUDING ALL)")


def pg_hubbub_with_stages(path: Path, _db: Path) -> int:
    from hubbub.listen.imported import listen_after_import
    from hubbub.listen.saved import add_query
    from hubbub.store import open_store
    from hubbub.transfer.importer import import_paths

    with open_store(f"{PG_SERVER}/{PG_DB}") as store:
        add_query(store, "brexit", "brexit OR #brexit")
        report = import_paths(store, [str(path)], on_batch=listen_after_import(store, "default"))
    assert report.rejected == 0, report.errors[:3]
    return report.counts.imported


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5,000 posts, 2 runs (make bench)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    if args.quick:
        args.posts, args.runs = 5_000, 2
    if not TWARC.is_dir():
        print(f"shared data not found at {TWARC}", file=sys.stderr)
        return 2
    cases: list[tuple[str, Callable[[], None] | None, Callable[[Path, Path], int]]] = [
        ("baseline", None, baseline),
        ("hubbub", None, hubbub_import),
        ("stages", None, hubbub_import_with_stages),
        ("parse", None, hubbub_parse_only),
    ]
    if not args.no_pg:
        cases += [
            ("pg_copy", _pg_copy_prepare, pg_copy),
            ("pg_stages", lambda: _pg_schema(_pg_reset()), pg_hubbub_with_stages),
        ]
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, unique = build_input(folder, args.posts)
        results: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        # CPU seconds of this process and of its parser child, per run: on a
        # loaded machine wall time mostly measures the others' jobs.
        cpus: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
        for run in range(args.runs):
            for name, prepare, fn in cases:
                if prepare is not None:
                    prepare()
                db = folder / f"{name}-{run}.db"
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = time.process_time()
                start = time.perf_counter()
                stored = fn(path, db)
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - cpu
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                child = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
                cpus[name].append((cpu, child))
                if name not in ("baseline", "pg_copy"):
                    assert stored == unique, (name, stored, unique)
                results[name].append(stored / elapsed)
            print(f"  run {run + 1} done, load average {_load()}", flush=True)
        med = {name: statistics.median(values) for name, values in results.items()}
        size_mb = path.stat().st_size / 1e6
        print(
            f"input: {unique} unique posts, {size_mb:.1f} MB of X v2 JSONL; median of {args.runs} runs"
        )
        print(f"baseline (orjson + sqlite3 executemany + FTS5): {med['baseline']:,.0f} posts/s")
        print(f"hubbub import (store only):                     {med['hubbub']:,.0f} posts/s")
        print(f"  parsing alone, one process (no store):        {med['parse']:,.0f} posts/s")
        print(f"hubbub import + match + classify (as the CLI):  {med['stages']:,.0f} posts/s")
        for name, values in results.items():
            print(f"  {name} runs: " + ", ".join(f"{v:,.0f}" for v in values))
        print("CPU seconds per run (this process + parser process; PostgreSQL's own not counted):")
        for name, pairs in cpus.items():
            print(f"  {name}: " + ", ".join(f"{a:.2f}+{b:.2f}" for a, b in pairs))
        base = med["baseline"]
        print(
            f"SQLite ratio: {med['hubbub'] / base:.2f} (store only), "
            f"{med['stages'] / base:.2f} (with the stages)"
        )
        if not args.no_pg:
            print(
                f"PostgreSQL: COPY {med['pg_copy']:,.0f} posts/s, hubbub import + stages "
                f"{med['pg_stages']:,.0f} posts/s, ratio {med['pg_stages'] / med['pg_copy']:.2f}"
            )
            _pg_reset()
    print(f"load average at end: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
