"""Which format ``--out FILE`` gets, the same way for report, recap and
export (hubbub.cli.output_file.format_for_out): with no --format, the format
the file's extension names (``recap --out r.markdown`` wrote JSON); a file
named for a format the command cannot write, or for another one than
--format says, is refused before anything is written. And the recap's "Top
answers" says why it lists none. Real processes on a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from hubbub.post import Author, Post
from hubbub.store import Ingest, open_store
from tests.cli.test_data_commands import hubbub

TAG = "pizzachat"
DAY = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def _post(n: int, text: str, handle: str, at: datetime, likes: int | None = None) -> Post:
    return Post(
        "x",
        str(1000 + n),
        Author("x", f"id-{handle}", handle, display_name=handle.title()),
        f"{text} #{TAG}",
        at,
        hashtags=(TAG,),
        metrics={"likes": n if likes is None else likes},
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Day 1: a question and an answer. Day 2: a question nobody answered.
    Day 3: chatter, no question at all."""
    path = str(tmp_path / "out.db")
    with open_store(path) as store:
        store.ingest(
            [
                Ingest(_post(1, "Q1: what pizza?", "host", DAY)),
                Ingest(_post(2, "A1 margherita", "ann", DAY.replace(minute=5))),
                Ingest(_post(3, "Q1: any topping?", "host", DAY.replace(day=3))),
                Ingest(_post(4, "hello all", "bob", DAY.replace(day=4))),
            ]
        )
    return path


def _run(db: str, *args: str) -> bytes:
    done = hubbub(*args, "--db", db)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", ["r.markdown", "r.md", "R.MARKDOWN"])
def test_recap_out_markdown_writes_markdown(db: str, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    _run(db, "recap", TAG, "--on", "2026-03-02", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Recap \\#pizzachat · 2026-03-02")  # not JSON


def test_report_and_export_take_the_format_from_the_extension(db: str, tmp_path: Path) -> None:
    _run(db, "report", f"#{TAG}", "--out", str(tmp_path / "r.csv"))
    assert (tmp_path / "r.csv").read_text().startswith("section,item,value,detail\n")
    _run(db, "report", f"#{TAG}", "--out", str(tmp_path / "r.htm"))
    assert (tmp_path / "r.htm").read_text().lower().startswith("<!doctype html>")
    _run(db, "export", "--out", str(tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").read_text().startswith("network,id,")
    _run(db, "export", "--out", str(tmp_path / "p.gexf"))
    assert (tmp_path / "p.gexf").read_text().startswith("<?xml")
    # A name that names no format: the command's default, as before.
    _run(db, "report", f"#{TAG}", "--out", str(tmp_path / "r.txt"))
    assert orjson.loads((tmp_path / "r.txt").read_bytes())["mentions"] == 4
    # --format given and an extension naming a format the command does not write.
    _run(db, "export", "--format", "jsonl", "--out", str(tmp_path / "p.json"))
    lines = (tmp_path / "p.json").read_bytes().splitlines()
    assert len(lines) == 4 and orjson.loads(lines[0])["network"] == "x"


@pytest.mark.parametrize(
    ("args", "name", "message"),
    [
        (
            ["recap", TAG, "--format", "json"],
            "r.md",
            "r.md is named for Markdown but --format is json",
        ),
        (
            ["report", f"#{TAG}", "--format", "html"],
            "r.csv",
            "is named for CSV but --format is html",
        ),
        (["report", f"#{TAG}"], "r.pdf", "is named for PDF, which this command does not write"),
        (["report", f"#{TAG}"], "r.markdown", "is named for Markdown, which this command"),
        (["export"], "p.json", "is named for JSON, which this command does not write"),
        (["export", "--format", "csv"], "p.gexf", "is named for GEXF but --format is csv"),
        (["recap", TAG], "r.csv", "is named for CSV, which this command does not write"),
    ],
)
def test_a_file_named_for_another_format_is_refused(
    db: str, tmp_path: Path, args: list[str], name: str, message: str
) -> None:
    out = tmp_path / name
    done = hubbub(*args, "--db", db, "--out", str(out))
    assert done.returncode == 2, done.stderr
    error = done.stderr.decode().splitlines()[-1]
    assert error.startswith("Error: Invalid value for '--out': ") and message in error, error
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [Path(db)]  # no temporary file either


@pytest.mark.parametrize(
    ("day", "said"),
    [
        ("2026-03-04", "No questions were asked, so there are no answers."),
        ("2026-03-03", "No question got an answer."),
    ],
)
def test_top_answers_say_why_there_are_none(db: str, tmp_path: Path, day: str, said: str) -> None:
    md = _run(db, "recap", TAG, "--on", day, "--format", "md").decode()
    top = md.split("## Top answers", 1)[1].split("##", 1)[0]
    assert top.strip() == said
    assert "engagement" not in top
    html = _run(db, "recap", TAG, "--on", day, "--format", "html").decode()
    assert f'<p class="none">{said}</p>' in html


def test_top_answers_with_answers_but_no_engagement(tmp_path: Path) -> None:
    path = str(tmp_path / "quiet.db")
    with open_store(path) as store:
        store.ingest(
            [
                Ingest(_post(1, "Q1: what pizza?", "host", DAY, likes=0)),
                Ingest(_post(2, "A1 margherita", "ann", DAY.replace(minute=5), likes=0)),
            ]
        )
    md = _run(path, "recap", TAG, "--format", "md").decode()
    top = md.split("## Top answers", 1)[1].split("##", 1)[0]
    assert top.strip() == "No answer had any engagement."
