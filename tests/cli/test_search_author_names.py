"""``hubbub search``'s table names a Jetstream author by handle, not DID.

The table shows the handle the store learnt for the DID (a later AppView
post), else a shortened DID; JSONL and CSV output keep the post as stored.
Real recorded Jetstream events imported by the real CLI, on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import CAPTURE, CHAT, DID, HANDLE, SHORT, search_page

WIDE = {"COLUMNS": "200"}  # a table cell is folded to the terminal's width


def _search(db_url: str, *args: str) -> str:
    done = hubbub("search", f"#{CHAT}", "--db", db_url, *args, env=WIDE)
    assert done.returncode == 0, done.stderr
    return bytes(done.stdout).decode()


def test_the_search_table_names_the_author_by_known_handle_else_short_did(
    db_url: str, tmp_path: Path
) -> None:
    require_shared_data()
    done = hubbub("import", "--db", db_url, str(CAPTURE))
    assert done.returncode == 0, done.stderr
    table = _search(db_url)
    assert SHORT in table and DID not in table and "1 posts" in table

    done = hubbub("import", "--db", db_url, search_page(tmp_path / "search.json"))
    assert done.returncode == 0, done.stderr
    table = _search(db_url)
    assert f"@{HANDLE}" in table and "did:plc:" not in table
    # The post as stored is unchanged: JSONL still names the DID.
    (line,) = _search(db_url, "--format", "jsonl").splitlines()
    row = orjson.loads(line)
    assert (row["author_id"], row["author"]) == (DID, DID)
