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

    .venv/bin/python bench/import.py [--posts 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
TWARC = REPO.parent / "shared" / "data" / "payloads" / "x_v2_twarc2"
SOURCE_FILES = (
    "2sets.jsonl",
    "brexit.jsonl",
    "entities_test.jsonl",
    "noflat.jsonl",
    "withheld.jsonl",
)


def _shift(value: object, offset: int) -> object:
    """Shift every tweet id in a page so each copy holds new posts."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("id", "conversation_id") and isinstance(item, str) and item.isdigit():
                out[key] = str(int(item) + offset)
            elif key == "edit_history_tweet_ids" and isinstance(item, list):
                out[key] = [str(int(i) + offset) for i in item]
            else:
                out[key] = _shift(item, offset)
        return out
    if isinstance(value, list):
        return [_shift(item, offset) for item in value]
    return value


def _page_tweets(page: dict) -> list[dict]:
    data = page.get("data") or []
    tweets = data if isinstance(data, list) else [data]
    return tweets + list((page.get("includes") or {}).get("tweets") or [])


def build_input(folder: Path, posts: int) -> tuple[Path, int]:
    pages = []
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not TWARC.is_dir():
        print(f"shared data not found at {TWARC}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, unique = build_input(folder, args.posts)
        results: dict[str, list[float]] = {
            "baseline": [],
            "hubbub": [],
            "stages": [],
            "parse": [],
        }
        for run in range(args.runs):
            for name, fn in (
                ("baseline", baseline),
                ("hubbub", hubbub_import),
                ("stages", hubbub_import_with_stages),
                ("parse", hubbub_parse_only),
            ):
                db = folder / f"{name}-{run}.db"
                start = time.perf_counter()
                stored = fn(path, db)
                elapsed = time.perf_counter() - start
                if name != "baseline":
                    assert stored == unique, (name, stored, unique)
                results[name].append(stored / elapsed)
        base = statistics.median(results["baseline"])
        ours = statistics.median(results["hubbub"])
        size_mb = path.stat().st_size / 1e6
        print(
            f"input: {unique} unique posts, {size_mb:.1f} MB of X v2 JSONL; median of {args.runs} runs"
        )
        print(f"baseline (orjson + sqlite3 executemany + FTS5): {base:,.0f} posts/s")
        print(f"hubbub import:                                  {ours:,.0f} posts/s")
        parse = statistics.median(results["parse"])
        print(f"  of which parsing alone (no store):            {parse:,.0f} posts/s")
        stages = statistics.median(results["stages"])
        print(f"hubbub import + match + classify (as the CLI):  {stages:,.0f} posts/s")
        for name, values in results.items():
            print(f"  {name} runs: " + ", ".join(f"{v:,.0f}" for v in values))
        print(f"ratio: {ours / base:.2f} (store only), {stages / base:.2f} (with the stages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
