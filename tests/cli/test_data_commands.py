"""The import/search/export command-line contract, run as a real process."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import PAYLOADS, require_shared_data

IMPORT_KEYS = [
    "imported", "duplicates", "updated", "deleted", "skipped", "rejected", "errors", "bad_posts",
    "not_posts",
]  # fmt: skip


def hubbub(
    *args: str, stdin: bytes | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def test_import_json_counts_and_exit_status(db: str) -> None:
    require_shared_data()
    good = PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl"
    done = hubbub("import", "--db", db, "--json", str(good))
    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)
    assert list(report) == IMPORT_KEYS
    assert report["imported"] == 2 and report["rejected"] == 0 and report["errors"] == []
    again = orjson.loads(hubbub("import", "--db", db, "--json", str(good)).stdout)
    assert again["imported"] == 0 and again["duplicates"] == 2


def test_rejected_line_exit_one_rest_stored(db: str) -> None:
    require_shared_data()
    broken = PAYLOADS / "x_v2_twarc2" / "streaming_output_with_error.jsonl"
    done = hubbub("import", "--db", db, "--json", str(broken))
    assert done.returncode == 1
    report = orjson.loads(done.stdout)
    assert report["rejected"] == 1 and report["imported"] == 11
    assert report["errors"][0]["file"] == str(broken) and report["errors"][0]["line"] == 8


def test_stdin_and_empty_file(db: str, tmp_path: Path) -> None:
    require_shared_data()
    data = (PAYLOADS / "bluesky_jetstream" / "jetstream_v1_golden_10events.jsonl").read_bytes()
    done = hubbub("import", "--db", db, "--json", "-", stdin=data)
    assert done.returncode == 0
    assert orjson.loads(done.stdout)["imported"] == 2
    empty = PAYLOADS / "x_v2_twarc2" / "empty.json"
    done = hubbub("import", "--db", db, "--json", str(empty))
    assert done.returncode == 0 and orjson.loads(done.stdout)["rejected"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["import", "/no/such/file.jsonl"],
        ["import", "--format", "nonsense", "x.jsonl"],
        ["search", 'unterminated "quote'],
        ["search", "brexit", "--limit", "0"],
        ["export", "--raw", "--format", "csv"],
    ],
)
def test_usage_errors_exit_two(db: str, args: list[str]) -> None:
    done = hubbub(*args[:1], "--db", db, *args[1:])
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr


def test_bad_query_names_the_column(db: str) -> None:
    done = hubbub("search", "--db", db, "brexit (labour")
    assert done.returncode == 2
    assert b"column" in done.stderr


def test_search_jsonl_csv_and_env_db(db: str) -> None:
    require_shared_data()
    hubbub("import", "--db", db, str(PAYLOADS / "x_v2_twarc2" / "brexit.jsonl"))
    done = hubbub(
        "search", "#brexit -is:repost", "--format", "jsonl", "--limit", "5", env={"HUBBUB_DB": db}
    )
    assert done.returncode == 0, done.stderr
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 5
    for row in rows:
        assert {"network", "id", "url", "author", "text", "created_at"} <= set(row)
        assert row["created_at"].endswith("Z")
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    table = hubbub("search", "brexit", "--db", db)
    assert table.returncode == 0 and b"posts" in table.stdout
    as_csv = hubbub("search", "brexit", "--db", db, "--format", "csv", "--limit", "3")
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
    assert len(parsed) == 3 and parsed[0]["network"] == "x"


def test_export_raw_reimports_to_the_same_posts(db: str, tmp_path: Path) -> None:
    require_shared_data()
    files = [
        PAYLOADS / "x_v2_twarc2" / "brexit.jsonl",
        PAYLOADS / "mastodon" / "streaming_events_from_docs.sse",
        PAYLOADS / "bluesky_xrpc" / "app.bsky.feed.searchPosts_q-redistricting.json",
    ]
    hubbub("import", "--db", db, *map(str, files))
    raw = hubbub("export", "--raw", "--db", db)
    assert raw.returncode == 0
    copy = str(tmp_path / "copy.db")
    done = hubbub("import", "--db", copy, "--json", "-", stdin=raw.stdout)
    assert done.returncode == 0, done.stdout
    original = hubbub("export", "--db", db).stdout.splitlines()
    copied = hubbub("export", "--db", copy).stdout.splitlines()
    # Same posts (the Mastodon delete in the stream applies again on re-import).
    assert sorted(orjson.loads(r)["id"] for r in copied) == sorted(
        orjson.loads(r)["id"] for r in original
    )


def test_export_csv_defuses_formulas(db: str, tmp_path: Path) -> None:
    row = {
        "schema": "hubbub.post/1",
        "network": "web",
        "id": "web:1",
        "author": "=cmd|' /C calc'!A0",
        "text": '=HYPERLINK("http://evil")',
        "created_at": "2026-01-01T00:00:00Z",
    }
    hubbub("import", "--db", db, "-", stdin=orjson.dumps(row) + b"\n")
    out = hubbub("export", "--db", db, "--format", "csv").stdout.decode()
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert parsed[0]["text"].startswith("'=") and parsed[0]["author"].startswith("'=")
