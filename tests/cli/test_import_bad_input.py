"""The reviewer's cases, as a user runs them: ``hubbub import`` keeps a
page's good posts and names the bad one (file:line, id, field) with a count;
``hubbub classify`` reads UTF-16 input as the lines it holds, reads gzip, and
refuses a database in one line."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson

TEXTS = "good service\nterrible delay\nwhere is my order?\n"


def hubbub(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
    )


def test_import_keeps_the_good_tweets_of_a_page_and_names_the_bad_one(tmp_path: Path) -> None:
    good = {"author_id": "1", "created_at": "2024-01-01T00:00:00.000Z"}
    page = {
        "data": [
            {"id": "1", "text": "good tweet 1", **good},
            {"id": "2", "text": {"not": "text"}, **good},
            {"id": "3", "text": "good tweet 3", **good},
        ],
        "includes": {"users": [{"id": "1", "username": "u"}]},
    }
    path = tmp_path / "page.jsonl"
    path.write_bytes(orjson.dumps(page) + b"\n")
    done = hubbub("import", "--db", str(tmp_path / "h.db"), str(path))
    assert done.returncode == 1
    assert done.stdout.decode().strip() == (
        "imported 2, duplicates 0, updated 0, deleted 0, rejected 0, bad posts 1"
    )
    assert done.stderr.decode().splitlines() == [
        f"{path}:1: X post 2 skipped (field 'text'): text is an object, not a string"
    ]


def test_import_of_a_database_is_one_line(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("create table t (x)")
        db.executemany("insert into t values (?)", [("a\nb\n" * 100,)] * 500)
    done = hubbub("import", "--db", str(tmp_path / "h.db"), str(other))
    assert done.returncode == 1
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith(f"{other}:1: this file is an SQLite database")


def _rows(done: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    assert done.returncode == 0, done.stderr.decode()
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def test_classify_reads_utf16_and_gzip_as_the_lines_they_hold() -> None:
    expected = _rows(hubbub("classify", "--workers", "1", stdin=TEXTS.encode()))
    assert len(expected) == 3
    for data in (TEXTS.encode("utf-16"), TEXTS.encode("utf-16-le"), gzip.compress(TEXTS.encode())):
        assert _rows(hubbub("classify", "--workers", "1", stdin=data)) == expected


def test_classify_refuses_a_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("create table t (x)")
    done = hubbub("classify", str(other))
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().strip() == (
        f"Error: {other}: this file is an SQLite database, not JSON or text: "
        "its posts come out with 'hubbub export --db FILE' (whose output imports)"
    )
