"""Bad databases, bad workspace names and huge queries end a command with one
line naming the problem, never a traceback (issue 7, case 10); database files
are private to their owner.

Exit 2 means the command was used wrongly, exit 1 that the database could
not do it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from tests.cli.twarc2_pages import PageWriter
from tests.conftest import PAYLOADS, require_shared_data


def hubbub(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        capture_output=True,
        timeout=120,
        cwd=cwd,
    )


def error_line(done: subprocess.CompletedProcess) -> str:
    """The one ``Error:`` line of a failed command (and no traceback)."""
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture
def stored_db(tmp_path: Path) -> Path:
    """A real database with a few posts in it."""
    require_shared_data()
    db = tmp_path / "posts.db"
    done = hubbub("import", "--db", str(db), str(PAYLOADS / "x_v2_twarc2" / "brexit.jsonl"))
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize("command", ["search", "export", "import"])
def test_a_file_that_is_not_a_database(tmp_path: Path, command: str) -> None:
    require_shared_data()
    db = tmp_path / "notes.db"
    db.write_text("shopping list: milk, eggs\n" * 200)
    args = [command, "--db", str(db)]
    args += [str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl")] if command == "import" else []
    args += ["brexit"] if command == "search" else []
    done = hubbub(*args)
    assert done.returncode == 1
    line = error_line(done)
    assert "notes.db" in line and "not a database" in line
    assert db.read_text().startswith("shopping list")  # left as it was


def _damage(db: Path) -> None:
    """Overwrite the pages after the schema with noise, as a bad disk would."""
    size = db.stat().st_size
    assert size > 3 * 4096
    with db.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * (size - 4096))


@pytest.mark.parametrize("command", ["search", "export", "import"])
def test_a_damaged_database(stored_db: Path, command: str) -> None:
    _damage(stored_db)
    args = [command, "--db", str(stored_db)]
    args += [str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl")] if command == "import" else []
    args += ["brexit"] if command == "search" else []
    done = hubbub(*args)
    assert done.returncode == 1
    assert "damaged" in error_line(done)


@pytest.mark.parametrize("command", ["search", "export", "import"])
def test_damage_found_in_the_middle_of_a_command(stored_db: Path, command: str) -> None:
    """The schema reads fine, the posts table does not: the command has
    started when it meets the damage."""
    with sqlite3.connect(stored_db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'posts'").fetchone()[0]
    conn.close()
    with stored_db.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xa5" * page_size)
    args = [command, "--db", str(stored_db)]
    args += [str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl")] if command == "import" else []
    args += ["brexit"] if command == "search" else []
    done = hubbub(*args)
    assert done.returncode == 1
    assert "damaged" in error_line(done)


@pytest.mark.parametrize("name", ["", "w" * 101])
@pytest.mark.parametrize("command", ["search", "export", "import"])
def test_workspace_name_out_of_range_is_a_usage_error(
    stored_db: Path, command: str, name: str
) -> None:
    args = [command, "--db", str(stored_db), "--workspace", name]
    args += [str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl")] if command == "import" else []
    args += ["brexit"] if command == "search" else []
    done = hubbub(*args)
    assert done.returncode == 2
    line = error_line(done)
    assert "--workspace" in line and "1 to 100 characters" in line
    # Nothing was created under that name.
    engine = sa.create_engine(f"sqlite:///{stored_db}")
    with engine.connect() as conn:
        names = list(conn.execute(sa.text("SELECT name FROM workspaces")).scalars())
    engine.dispose()
    assert names == ["default"]


def test_workspace_name_of_100_characters_is_accepted(stored_db: Path) -> None:
    # import names a workspace into being; search (read-only) then finds it
    # (a read-only command refuses a workspace that does not exist).
    two = str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl")
    made = hubbub("import", "--db", str(stored_db), "--workspace", "w" * 100, two)
    assert made.returncode == 0, made.stderr
    done = hubbub("search", "--db", str(stored_db), "--workspace", "w" * 100, "brexit")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip().endswith(" posts")


@pytest.mark.parametrize("command", ["search", "export"])
def test_a_999_word_query_runs_or_is_refused_cleanly(stored_db: Path, command: str) -> None:
    # Every word is in the stored posts' text only once at most, so no post
    # holds all of them: a search that runs finds nothing.
    query = " ".join(f"brexit{i}" for i in range(998)) + " brexit"
    done = hubbub(command, "--db", str(stored_db), "--format", "jsonl", query)
    if done.returncode == 0:
        assert done.stdout == b""
        assert b"Traceback" not in done.stderr
    else:
        assert done.returncode == 2
        assert "query" in error_line(done).lower()
    # The same words, few enough, find what they should: the store still answers.
    found = hubbub(command, "--db", str(stored_db), "--format", "jsonl", "brexit")
    assert found.returncode == 0 and found.stdout.count(b"\n") > 0


def test_new_database_files_are_owner_only(tmp_path: Path) -> None:
    require_shared_data()
    db = tmp_path / "private.db"
    # A permissive umask must not make the database readable by others.
    script = (
        "import os, sys; os.umask(0o002); "
        "from hubbub.store import open_store, Ingest; "
        "from hubbub.transfer.importer import import_paths; "
        "s = open_store(sys.argv[1]); import_paths(s, [sys.argv[2]]); "
        "import json, stat; "
        "print(json.dumps({p: oct(stat.S_IMODE(os.stat(p).st_mode)) "
        "for p in (sys.argv[1], sys.argv[1] + '-wal', sys.argv[1] + '-shm') "
        "if os.path.exists(p)})); s.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db), str(PAYLOADS / "x_v2_twarc2" / "brexit.jsonl")],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modes = orjson.loads(done.stdout)
    # While open, the WAL and shared-memory files exist beside the database.
    assert set(modes) == {str(db), f"{db}-wal", f"{db}-shm"}
    assert all(mode == "0o600" for mode in modes.values()), modes
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    """Hubbub does not change the mode of a file it did not create."""
    require_shared_data()
    db = tmp_path / "shared.db"
    hubbub("import", "--db", str(db), str(PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl"))
    os.chmod(db, 0o640)
    done = hubbub("search", "--db", str(db), "--format", "jsonl", "the")
    assert done.returncode == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_an_oversized_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    pages = PageWriter()
    path = tmp_path / "pages.jsonl"
    pages.write(path, [0, 100, 200])
    lines = path.read_bytes().splitlines()
    huge = orjson.dumps({"data": [{"id": "1", "text": "x" * (2 * 1024 * 1024)}]})
    path.write_bytes(b"\n".join([lines[0], huge, lines[1], lines[2]]) + b"\n")
    db = tmp_path / "x.db"
    done = hubbub("import", "--db", str(db), "--json", "--max-record-mb", "1", str(path))
    assert done.returncode == 1
    report = orjson.loads(done.stdout)
    assert report["imported"] == 300 and report["rejected"] == 1
    (error,) = report["errors"]
    assert error["file"] == str(path) and error["line"] == 2
    assert "larger than the 1 MB limit" in error["reason"]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "hello"],
        ["export", "hello"],
        ["report", "hello"],
        ["recap", "chat"],
    ],
)
def test_reading_a_database_that_does_not_exist_is_an_error_not_a_new_file(tmp_path, args):
    missing = tmp_path / "typo.db"
    proc = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args, "--db", str(missing)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert b"no database at" in proc.stderr and b"Traceback" not in proc.stderr
    assert not missing.exists()
