"""``hubbub import``'s summary keeps "skipped" for what --help calls skipped
(a post that could not be read: named, exit 1) and says apart, by kind, how many
valid records were not posts (tweet counts, users…): ignored, exit 0. The
--json keys stay as they were, with ``not_posts`` added. Real processes, real
twarc2 files."""

from __future__ import annotations

from pathlib import Path

import orjson

from hubbub.cli.import_summary import not_posts_phrase
from tests.cli.test_data_commands import hubbub
from tests.conftest import PAYLOADS, require_shared_data

TWARC = PAYLOADS / "x_v2_twarc2"


def test_a_counts_file_is_records_that_are_not_posts_not_skipped_posts(tmp_path: Path) -> None:
    require_shared_data()
    db = str(tmp_path / "h.db")
    done = hubbub("import", "--db", db, str(TWARC / "counts.jsonl"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == [
        "imported 0, duplicates 0, updated 0, deleted 0, rejected 0, bad posts 0; "
        "169 records that are not posts ignored (169 tweet counts)"
    ]
    assert done.stderr == b""

    done = hubbub("import", "--db", db, "--json", str(TWARC / "counts.jsonl"))
    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)
    assert report["skipped"] == 169 and report["bad_posts"] == 0
    assert report["not_posts"] == {"count": 169}


def test_bad_posts_and_records_that_are_not_posts_are_said_apart(tmp_path: Path) -> None:
    require_shared_data()
    good = {"edit_history_tweet_ids": ["2"], "created_at": "2022-01-01T00:00:00.000Z"}
    page = {"data": [{"id": "1", "text": "fine", **good}, {"id": "2", "text": 7, **good}]}
    bad = tmp_path / "page.jsonl"
    bad.write_bytes(orjson.dumps(page) + b"\n")
    done = hubbub(
        "import", "--db", str(tmp_path / "h.db"), str(bad), str(TWARC / "tweets_compliance.jsonl")
    )
    assert done.returncode == 1
    assert done.stdout.decode().splitlines() == [
        "imported 1, duplicates 0, updated 0, deleted 0, rejected 0, bad posts 1; "
        "2 records that are not posts ignored (2 compliance events)"
    ]
    assert done.stderr.decode().splitlines() == [
        f"{bad}:1: X post 2 skipped (field 'text'): text is a number, not a string"
    ]


def test_the_phrase_names_the_most_frequent_kinds_then_how_many_more() -> None:
    kinds = {"app.bsky.feed.like": 69, "app.bsky.graph.follow": 8, "user": 1, "identity": 2}
    kinds |= {"a": 1, "b": 1, "c\x1b[31m": 1}
    assert not_posts_phrase(83, kinds) == (
        "83 records that are not posts ignored (69 app.bsky.feed.like, "
        "8 app.bsky.graph.follow, 2 identity events, 1 a, 1 b, 2 more)"
    )
    assert not_posts_phrase(1, {"user": 1}) == "1 record that is not a post ignored (1 user)"
    # A kind comes from the payload (a Jetstream collection): hostile text.
    hostile = not_posts_phrase(3, {"\x1b[2Jx" + "y" * 100: 3})
    assert "\x1b" not in hostile and len(hostile) < 120
