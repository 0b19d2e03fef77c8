"""``import_paths`` on bad input: a bad post is reported with its file, line,
id and field and its page's other posts are stored; a gzip file imports like
the plain one, an archive or a database is one error; a file of thousands of
bad lines lists twenty and says how many more. Real SQLite files, both the
in-process and the forked-parser paths."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import orjson
import pytest

from hubbub.store import open_store
from hubbub.transfer.importer import MAX_LISTED_ERRORS, ImportReport, import_paths
from tests.conftest import PAYLOADS, require_shared_data

# Both ways a file is read: parsed here, or in a forked parser process.
PATHS = pytest.mark.parametrize("worker_min_bytes", [1 << 40, 0], ids=["in-process", "forked"])

GOOD = {"text": "good tweet", "author_id": "1", "created_at": "2024-01-01T00:00:00.000Z"}


def _page_with_a_tweet_without_created_at() -> bytes:
    page = {
        "data": [
            {"id": "1", **GOOD},
            {"id": "2", "text": "t", "author_id": "1"},
            {"id": "3", **GOOD},
        ],
        "includes": {"users": [{"id": "1", "username": "u"}]},
    }
    return orjson.dumps(page) + b"\n"


def _import(url: str, path: Path, worker_min_bytes: int) -> tuple[ImportReport, set[str]]:
    with open_store(url) as store:
        report = import_paths(store, [str(path)], worker_min_bytes=worker_min_bytes)
        return report, {post.id for post in store.iter_posts()}


@PATHS
def test_a_bad_post_costs_only_itself(
    tmp_path: Path, sqlite_url: str, worker_min_bytes: int
) -> None:
    path = tmp_path / "page.jsonl"
    path.write_bytes(b'{"other": "line"}\n' + _page_with_a_tweet_without_created_at())
    report, stored = _import(sqlite_url, path, worker_min_bytes)
    assert stored == {"1", "3"}
    assert report.counts.imported == 2
    assert (report.rejected, report.bad_posts) == (1, 1)  # line 1 is no payload at all
    bad = report.errors[1]
    assert bad["file"] == str(path) and bad["line"] == 2
    assert (bad["post"], bad["field"]) == ("2", "created_at")
    assert report.as_json()["bad_posts"] == 1


@PATHS
def test_thousands_of_bad_lines_list_twenty_and_count_all(
    tmp_path: Path, sqlite_url: str, worker_min_bytes: int
) -> None:
    path = tmp_path / "latin1.jsonl"
    good = orjson.dumps({"data": {"id": "1600000000000000100", **GOOD}})
    bad = '{"data": {"id": "1", "text": "caf\u00e9"}}'.encode("latin-1")
    path.write_bytes(b"\n".join([good] + [bad] * 3000) + b"\n")
    report, stored = _import(sqlite_url, path, worker_min_bytes)
    assert stored == {"1600000000000000100"}
    assert report.rejected == 3000
    assert len(report.errors) == MAX_LISTED_ERRORS + 1
    assert report.errors[0]["line"] == 2
    assert "not UTF-8 text at line 2, column 34 (byte 0xE9)" in report.errors[0]["reason"]
    summary = report.errors[-1]
    assert summary["unlisted"] == 3000 - MAX_LISTED_ERRORS
    assert f"{3000 - MAX_LISTED_ERRORS} more errors" in summary["reason"]


@PATHS
def test_a_gzip_file_imports_like_the_plain_one(
    tmp_path: Path, sqlite_url: str, worker_min_bytes: int
) -> None:
    require_shared_data()
    plain = PAYLOADS / "x_v2_twarc2" / "brexit.jsonl"
    packed = tmp_path / "brexit.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    report, stored = _import(sqlite_url, packed, worker_min_bytes)
    assert report.rejected == 0 and report.errors == []
    with open_store(f"sqlite:///{tmp_path / 'plain.db'}") as store:
        import_paths(store, [str(plain)])
        assert stored == {post.id for post in store.iter_posts()}
    assert stored


def test_a_database_is_one_error(tmp_path: Path, sqlite_url: str) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("create table t (x)")
        db.executemany("insert into t values (?)", [("a\nb\n" * 100,)] * 500)
    report, stored = _import(sqlite_url, other, 1 << 40)
    assert stored == set()
    assert report.rejected == 1
    (error,) = report.errors
    assert "is an SQLite database" in error["reason"] and error["file"] == str(other)


def test_lone_surrogates_and_nul_are_stored_as_replacement_characters(
    tmp_path: Path, db_url: str
) -> None:
    """The reviewer's surr.jsonl: the post was rejected whole (lone
    surrogates), and on PostgreSQL its NUL failed the whole batch."""
    path = tmp_path / "surr.jsonl"
    path.write_bytes(
        b'{"data":{"id":"1600000000000000100","text":"bad \\ud800 surrogate and nul'
        b' \\u0000 here #surr","author_id":"9","created_at":"2024-01-01T00:00:00Z"},'
        b'"includes":{"users":[{"id":"9","username":"sur\\udfff","name":"\\ud83d"}]}}\n'
        + orjson.dumps({"data": {"id": "1600000000000000200", **GOOD}})
        + b"\n"
    )
    with open_store(db_url) as store:
        report = import_paths(store, [str(path)])
        posts = {post.id: post for post in store.iter_posts()}
    assert report.errors == [] and report.counts.imported == 2
    surr = posts["1600000000000000100"]
    assert surr.text == "bad \ufffd surrogate and nul \ufffd here #surr"
    assert surr.author.handle == "sur\ufffd"
