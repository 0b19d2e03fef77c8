"""A QUERY that starts with '-' is a query (``hubbub search '-is:repost
brexit'`` said "No such option '-i'"), while the commands' real options keep
working wherever they are and a mistyped option is still refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.cli.dash_args import split_dash_positionals


def _posts() -> bytes:
    """Two X posts: one original, one repost, both about brexit."""
    lines = []
    for post_id, text, refs in (
        ("1001", "brexit talks again", None),
        ("1002", "RT @someone: brexit talks again", [{"type": "retweeted", "id": "1001"}]),
    ):
        tweet = {
            "id": post_id,
            "text": text,
            "author_id": "7",
            "created_at": "2024-05-01T10:00:00.000Z",
            "lang": "en",
        }
        if refs:
            tweet["referenced_tweets"] = refs
        page = {"data": [tweet], "includes": {"users": [{"id": "7", "username": "someone"}]}}
        lines.append(orjson.dumps(page))
    return b"\n".join(lines) + b"\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    source = tmp_path / "posts.jsonl"
    source.write_bytes(_posts())
    path = str(tmp_path / "h.db")
    done = CliRunner().invoke(main, ["import", str(source), "--db", path])
    assert done.exit_code == 0, done.output
    return path


def _ids(output: bytes) -> set[str]:
    return {orjson.loads(line)["id"] for line in output.splitlines()}


@pytest.mark.parametrize(
    "args",
    [
        ["search", "-is:repost brexit", "--format", "jsonl", "--db"],  # query first
        ["search", "--format", "jsonl", "-is:repost brexit", "--db"],  # between options
        ["search", "--format", "jsonl", "--db", "{db}", "--", "-is:repost brexit"],  # after --
    ],
)
def test_a_query_starting_with_a_dash_is_the_query(db: str, args: list[str]) -> None:
    args = [a.replace("{db}", db) for a in args]
    if args[-1] == "--db":
        args.append(db)
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert _ids(done.stdout_bytes) == {"1001"}  # the repost is excluded


def test_export_report_listen_and_count_take_dash_queries(db: str) -> None:
    runner = CliRunner()
    exported = runner.invoke(main, ["export", "-is:repost", "--db", db])
    assert exported.exit_code == 0, exported.output
    assert _ids(exported.stdout_bytes) == {"1001"}
    saved = runner.invoke(main, ["listen", "add", "originals", "-is:repost brexit", "--db", db])
    assert saved.exit_code == 0, saved.output
    assert "1 matching posts" in saved.stdout
    report = runner.invoke(main, ["report", "-is:repost brexit", "--db", db])
    assert report.exit_code == 0, report.output
    assert orjson.loads(report.stdout_bytes)
    counted = runner.invoke(main, ["count", "-hello", "--network", "x"])
    assert counted.exit_code == 0, counted.output
    assert counted.stdout.split()[:2] == ["x", "6"]


def test_real_options_still_work_and_typos_are_still_refused(db: str) -> None:
    runner = CliRunner()
    helped = runner.invoke(main, ["search", "-h"])
    assert helped.exit_code == 0 and "search [OPTIONS] QUERY" in helped.output
    # A query that starts with an option's letter is not that option.
    hello = runner.invoke(main, ["search", "-hello", "--db", db, "--format", "jsonl"])
    assert hello.exit_code == 0, hello.output
    assert _ids(hello.stdout_bytes) == {"1001", "1002"}
    limited = runner.invoke(
        main, ["search", "brexit", "--limit", "1", "--format", "jsonl", "--db", db]
    )
    assert limited.exit_code == 0 and len(_ids(limited.stdout_bytes)) == 1
    typo = runner.invoke(main, ["search", "brexit", "--limt", "1", "--db", db])
    assert typo.exit_code == 2 and "No such option '--limt'" in typo.stderr
    missing = runner.invoke(main, ["search", "--db", db])
    assert missing.exit_code == 2 and "Missing argument 'QUERY'" in missing.stderr


def test_split_keeps_option_values_that_look_like_options() -> None:
    options = {"--limit": True, "--since": True, "--json": False, "-h": False, "-n": True}
    assert split_dash_positionals(["--since", "-1d", "-x"], options) == [
        "--since",
        "-1d",
        "--",
        "-x",
    ]
    assert split_dash_positionals(["-n", "-5", "q"], options) == ["-n", "-5", "--", "q"]
    assert split_dash_positionals(["-n5", "-q"], options) == ["-n5", "--", "-q"]
    assert split_dash_positionals(["--limit=3", "-q", "--json"], options) == [
        "--limit=3",
        "--json",
        "--",
        "-q",
    ]
    assert split_dash_positionals(["a", "--", "--json", "-h"], options) == [
        "--",
        "a",
        "--json",
        "-h",
    ]
    assert split_dash_positionals(["--json", "-h"], options) == ["--json", "-h"]
    assert split_dash_positionals(["-"], options) == ["--", "-"]
