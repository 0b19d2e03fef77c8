"""The CLI contract of ``hubbub listen`` and ``hubbub report``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.store import open_store
from tests.analyze.conftest import build_small

REPORT_KEYS = {
    "mentions",
    "strength",
    "sentiment",
    "passion",
    "reach",
    "top_keywords",
    "top_users",
    "top_hashtags",
    "sources",
    "share_of_voice",
    "who",
    "what",
    "when",
    "where",
    "why",
    "how",
    "extent",
}


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "h.db")
    with open_store(path) as store:
        build_small(store)
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_listen_add_list_remove(db: str) -> None:
    added = run("listen", "add", "rival", "#globex OR globex", "--group", "competitors", "--db", db)
    assert added.exit_code == 0, added.output
    listed = run("listen", "list", "--format", "jsonl", "--db", db)
    rows = [orjson.loads(line) for line in listed.output.splitlines()]
    assert [(r["name"], r["group"], r["matches"]) for r in rows] == [
        ("acme", "brand", 8),
        ("globex", "competitors", 1),
        ("rival", "competitors", 1),
    ]
    assert {"name", "query", "group", "matches"} <= rows[0].keys()
    table = run("listen", "list", "--db", db)
    assert table.exit_code == 0 and "rival" in table.output
    assert run("listen", "remove", "rival", "--db", db).exit_code == 0
    assert run("listen", "remove", "rival", "--db", db).exit_code == 2
    # A workspace that does not exist is refused (exit 2), not created empty.
    missing = run("listen", "list", "--format", "jsonl", "--db", db, "--workspace", "other")
    assert missing.exit_code == 2 and "no workspace named 'other'" in missing.output
    # Another workspace has its own queries.
    assert run("listen", "add", "solo", "solo", "--db", db, "--workspace", "other").exit_code == 0
    listed = run("listen", "list", "--format", "jsonl", "--db", db, "--workspace", "other")
    assert [orjson.loads(line)["name"] for line in listed.output.splitlines()] == ["solo"]


def test_listen_errors_are_usage_errors(db: str) -> None:
    bad = run("listen", "add", "x", '(acme "', "--db", db)
    assert bad.exit_code == 2 and "column" in bad.output
    assert run("listen", "add", "acme", "acme", "--db", db).exit_code == 2  # duplicate name


def test_report_json_html_csv(db: str, tmp_path: Path) -> None:
    period = ["--since", "2024-05-03T12:00Z", "--until", "2024-05-10T12:00Z"]
    out = run("report", "acme", "--db", db, *period)
    assert out.exit_code == 0, out.output
    report = orjson.loads(out.output)
    assert report.keys() >= REPORT_KEYS
    assert report["mentions"] == 6
    assert set(report["sentiment"]) >= {"positive", "neutral", "negative", "ratio"}
    saved = orjson.loads(run("report", "--saved", "acme", "--db", db, *period).output)
    group = orjson.loads(run("report", "--group", "brand", "--db", db, *period).output)
    assert saved["mentions"] == group["mentions"] == 6
    html = tmp_path / "r.html"
    assert (
        run(
            "report",
            "--group",
            "brand",
            "--db",
            db,
            "--format",
            "html",
            "--out",
            str(html),
            *period,
        ).exit_code
        == 0
    )
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<script" not in text
    csv_out = run("report", "acme", "--db", db, "--format", "csv", *period).output
    assert csv_out.startswith("section,item,value,detail\n")


@pytest.mark.parametrize(
    "args",
    [
        ["report", "acme", "--since", "2024-02-30"],
        ["report", "acme", "--until", "yesterday"],
        ["report", "acme", "--since", "2024-05-10", "--until", "2024-05-01"],
        ["report", 'acme "'],
        ["report"],
        ["report", "acme", "--saved", "acme"],
        ["report", "--saved", "nope"],
        ["report", "--group", "nope"],
    ],
)
def test_report_usage_errors(db: str, args: list[str]) -> None:
    result = run(*args, "--db", db)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output
