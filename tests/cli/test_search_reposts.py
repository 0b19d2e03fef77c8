"""``hubbub search``'s table shows a Bluesky repost as a repost: it has no text
of its own and was a blank row. "↻ LABEL reposted ORIGINAL_AUTHOR: TEXT" when
the original is stored, else the original's id and "(not stored)"; JSONL
keeps the post as stored. Real recorded Jetstream events imported by the
real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson

from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import CAPTURE, CHAT, DID, HANDLE, SHORT, search_page, write_jsonl

WIDE = {"COLUMNS": "400"}  # a table cell is folded to the terminal's width


def _events() -> list[dict]:
    return [orjson.loads(line) for line in CAPTURE.read_bytes().splitlines()]


def _collection(events: list[dict], name: str) -> list[dict]:
    return [e for e in events if e["kind"] == "commit" and e["commit"]["collection"] == name]


def _search(db_url: str, query: str, *args: str) -> str:
    done = hubbub("search", query, "--db", db_url, "--limit", "500", *args, env=WIDE)
    assert done.returncode == 0, done.stderr
    return bytes(done.stdout).decode()


def test_reposts_of_posts_not_stored_say_so(db_url: str) -> None:
    require_shared_data()
    done = hubbub("import", "--db", db_url, str(CAPTURE))
    assert done.returncode == 0, done.stderr
    reposts = _collection(_events(), "app.bsky.feed.repost")
    stored = [orjson.loads(x) for x in _search(db_url, "is:repost", "--format", "jsonl").split()]
    assert len(stored) == len(reposts) > 0
    assert all(row["text"] == "" for row in stored)  # as stored, unchanged
    rows = [line for line in _search(db_url, "network:bluesky").splitlines() if "│" in line]
    shown = [line for line in rows if "↻" in line]
    assert len(shown) == len(reposts)  # the old table: blank text cells
    for e in reposts:
        original = e["commit"]["record"]["subject"]["uri"]
        (line,) = [x for x in shown if original in x]
        assert f"reposted {original} (not stored)" in line


def chat_post_and_its_repost() -> tuple[dict, dict]:
    """The capture's chat post and a real repost event of the capture pointed at it."""
    events = _events()
    (chat,) = [
        e
        for e in _collection(events, "app.bsky.feed.post")
        if CHAT in e["commit"]["record"].get("text", "")
    ]
    # A real repost event of the capture, pointed at the capture's chat post.
    repost = copy.deepcopy(_collection(events, "app.bsky.feed.repost")[0])
    repost["commit"]["rkey"] = "3mptbypowzs9z"
    repost["commit"]["record"]["subject"] = {
        "cid": chat["commit"]["cid"],
        "uri": f"at://{DID}/app.bsky.feed.post/{chat['commit']['rkey']}",
    }
    repost["commit"]["record"].pop("via", None)
    return chat, repost


def test_a_repost_of_a_stored_post_shows_its_text(db_url: str, tmp_path: Path) -> None:
    require_shared_data()
    chat, repost = chat_post_and_its_repost()
    done = hubbub("import", "--db", db_url, write_jsonl(tmp_path / "r.jsonl", [chat, repost]))
    assert done.returncode == 0, done.stderr
    reposter = repost["did"][:16] + "…"
    text = " ".join(chat["commit"]["record"]["text"].split())
    line = next(x for x in _search(db_url, "is:repost").splitlines() if "↻" in x)
    assert f"↻ {reposter} reposted {SHORT}: {text[:40]}" in line

    # Once the store learns the original author's handle, the line names it.
    done = hubbub("import", "--db", db_url, search_page(tmp_path / "search.json"))
    assert done.returncode == 0, done.stderr
    line = next(x for x in _search(db_url, "is:repost").splitlines() if "↻" in x)
    assert f"↻ {reposter} reposted @{HANDLE}: {text[:40]}" in line
