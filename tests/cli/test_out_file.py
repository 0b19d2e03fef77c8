"""``--out FILE`` of report, recap and export, as real processes on a real SQLite
store (found by a newcomer's review): never over the database or the files beside
it, a missing folder is one line, ``-`` is standard output, and a file is replaced
only once complete, leaving no temporary file when the command fails half-way."""

from __future__ import annotations

import hashlib
import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from hubbub.cli.output_file import open_binary_out, open_text_out

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/dev/full and RLIMIT_FSIZE are Linux"
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = [sys.executable, "-c", "from hubbub.launch import run; run()"]  # the `hubbub` script
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
TAG = "hubchat"

# One command of each kind that takes --out FILE, with the options it needs.
COMMANDS = {
    "report": ["report", "--saved", "q1", "--format", "html"],
    "recap": ["recap", TAG, "--format", "html"],
    "export": ["export", "--format", "gexf"],
}


def hubbub(
    *args: str, cwd: Path | None = None, before: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*SCRIPT, *args],
        capture_output=True,
        env=ENV,
        cwd=cwd,
        preexec_fn=before,
        timeout=120,
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with a simulated chat on #hubchat and a saved query."""
    where = tmp_path_factory.mktemp("made")
    payloads = where / "chat.jsonl"
    with payloads.open("wb") as out:
        subprocess.run(
            [*SCRIPT, "simulate", TAG, "--limit", "1500", "--start", "2026-03-02T19:00:00Z"],
            stdout=out,
            env=ENV,
            check=True,
        )
    path = where / "hub.db"
    for args in (["import", str(payloads)], ["listen", "add", "q1", "a"]):
        subprocess.run(
            [*SCRIPT, *args, "--db", str(path)], stdout=subprocess.DEVNULL, env=ENV, check=True
        )
    return path


@pytest.fixture
def db(made: Path, tmp_path: Path) -> Path:
    """A copy of the made database, in a folder of its own, to destroy if a bug lets it."""
    folder = tmp_path / "data"
    folder.mkdir()
    copy = folder / "hub.db"
    copy.write_bytes(made.read_bytes())
    return copy


def _posts(db: Path) -> int:
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (count,) = con.execute("SELECT count(*) FROM posts").fetchone()
    return int(count)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audit_exports(db: Path) -> list[dict[str, object]]:
    done = hubbub("audit", "--db", str(db), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    entries = [orjson.loads(line) for line in done.stdout.splitlines()]
    return [e for e in entries if e["action"] == "export"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_naming_the_database_is_refused_and_the_database_survives(
    db: Path, command: str
) -> None:
    posts, digest = _posts(db), _digest(db)
    done = hubbub(*COMMANDS[command], "--db", str(db), "--out", str(db))
    assert done.returncode == 2, done.stderr
    assert b"Invalid value for '--out'" in done.stderr and b"is the database" in done.stderr
    assert b"Traceback" not in done.stderr
    assert (_digest(db), _posts(db)) == (digest, posts)
    assert sorted(p.name for p in db.parent.iterdir()) == ["hub.db"]  # no temporary file


@pytest.mark.parametrize(
    "name",
    ["hub.db-wal", "hub.db-shm", "hub.db-journal", "hub.db.secret", "hub.db.accounts-key"],
)
def test_out_naming_a_file_beside_the_database_is_refused(db: Path, name: str) -> None:
    companion = db.parent / name
    companion.write_bytes(b"kept\n")  # as if the database had made it
    done = hubbub(*COMMANDS["export"], "--db", str(db), "--out", str(companion))
    assert done.returncode == 2, done.stderr
    assert b"a file the database (--db) keeps beside it" in done.stderr
    assert companion.read_bytes() == b"kept\n"


def test_the_database_by_another_name_is_refused(db: Path, tmp_path: Path) -> None:
    """A relative path, a symlink and a hard link all name the same file."""
    posts = _posts(db)
    (tmp_path / "link.db").symlink_to(db)
    os.link(db, tmp_path / "hard.db")
    for out, cwd in (("hub.db", db.parent), ("../data/./hub.db", db.parent), ("link.db", tmp_path)):
        done = hubbub(*COMMANDS["report"], "--db", str(db), "--out", out, cwd=cwd)
        assert done.returncode == 2 and b"is the database" in done.stderr, (out, done.stderr)
    done = hubbub(*COMMANDS["recap"], "--db", str(db), "--out", str(tmp_path / "hard.db"))
    assert done.returncode == 2 and b"is the database" in done.stderr
    assert _posts(db) == posts


def test_the_database_from_hubbub_db_is_refused(db: Path) -> None:
    """With no --db, the database is $HUBBUB_DB's."""
    done = subprocess.run(
        [*SCRIPT, *COMMANDS["export"], "--out", str(db)],
        capture_output=True,
        env={**ENV, "HUBBUB_DB": str(db)},
        timeout=120,
    )
    assert done.returncode == 2 and b"is the database" in done.stderr
    assert _posts(db) > 0


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_folder_is_one_line_and_nothing_else_is_lost(
    db: Path, tmp_path: Path, command: str
) -> None:
    posts = _posts(db)
    out = tmp_path / "missing" / "x.out"
    done = hubbub(*COMMANDS[command], "--db", str(db), "--out", str(out))
    assert (done.returncode, done.stderr) == (
        1,
        f"Error: cannot write {out}: No such file or directory\n".encode(),
    )
    assert not out.parent.exists()
    assert _posts(db) == posts


def test_a_file_as_folder_is_one_line(db: Path, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    out = tmp_path / "plain" / "x.html"
    done = hubbub(*COMMANDS["report"], "--db", str(db), "--out", str(out))
    assert (done.returncode, done.stderr) == (
        1,
        f"Error: cannot write {out}: Not a directory\n".encode(),
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_dash_is_standard_output(db: Path, tmp_path: Path, command: str) -> None:
    to_file = hubbub(*COMMANDS[command], "--db", str(db), "--out", str(tmp_path / "f.out"))
    assert to_file.returncode == 0, to_file.stderr
    done = hubbub(*COMMANDS[command], "--db", str(db), "--out", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "-").exists()
    expected = (tmp_path / "f.out").read_bytes()
    if command == "export":
        assert done.stdout == expected
    else:  # each carries the time it was made: the same kind of page
        assert done.stdout[:15].lower() == expected[:15].lower() == b"<!doctype html>"
        assert len(done.stdout) > 1000
    assert _audit_exports(db)[-1]["target"] == "stdout"


def test_a_written_file_is_whole_keeps_its_mode_and_leaves_no_temporary(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "graph.gexf"
    out.write_text("an older graph")
    out.chmod(0o600)  # the user's choice, kept across the replacement
    done = hubbub(*COMMANDS["export"], "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("<?xml") and out.read_text().rstrip().endswith("</gexf>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "graph.gexf"]
    assert _audit_exports(db)[-1]["target"] == str(out)


def test_a_new_file_gets_the_mode_open_would_give(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = hubbub(*COMMANDS["report"], "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_a_symlinked_out_writes_its_target_and_stays_a_link(db: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    done = hubbub(*COMMANDS["recap"], "--db", str(db), "--out", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and real.read_text().lower().startswith("<!doctype html>")


def test_a_failure_half_way_leaves_the_old_file_and_no_temporary(db: Path, tmp_path: Path) -> None:
    """A file-size limit is a full disk that comes half-way through the recap's
    ~270 kB (the database only writes its small WAL and shared-memory files)."""
    out = tmp_path / "recap.html"
    out.write_text("the recap of last week")
    posts = _posts(db)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (160_000, 160_000))

    done = hubbub(*COMMANDS["recap"], "--db", str(db), "--out", str(out), before=small_files)
    assert (done.returncode, done.stderr) == (
        1,
        f"Error: cannot write {out}: File too large\n".encode(),
    )
    assert out.read_text() == "the recap of last week"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "recap.html"]
    assert _posts(db) == posts


def test_a_report_that_fails_to_write_is_audited_as_cut_short(db: Path) -> None:
    """/dev/full is written in place (a device cannot be renamed over)."""
    done = hubbub(*COMMANDS["report"], "--db", str(db), "--out", "/dev/full")
    assert (done.returncode, done.stderr) == (
        1,
        b"Error: cannot write /dev/full: No space left on device\n",
    )
    last = _audit_exports(db)[-1]
    assert last["target"] == "/dev/full" and last["detail"]["cut_short"] is True  # type: ignore[index]


class _Stop(Exception):
    pass


@pytest.mark.parametrize("stop", [_Stop, KeyboardInterrupt])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_a_block_stopped_half_way_leaves_the_old_file(
    tmp_path: Path, stop: type[BaseException], binary: bool
) -> None:
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(stop):
        if binary:
            with open_binary_out(str(out)) as fh:
                fh.write(b"half of the new")
                fh.flush()
                raise stop()
        else:
            with open_text_out(str(out)) as text:
                text.write("half of the new")
                text.flush()
                raise stop()
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file, as open() lets it")
def test_a_read_only_file_is_refused_as_open_would(db: Path, tmp_path: Path) -> None:
    """A rename would replace a file its owner made read-only."""
    out = tmp_path / "kept.gexf"
    out.write_text("kept")
    out.chmod(0o444)
    done = hubbub(*COMMANDS["export"], "--db", str(db), "--out", str(out))
    assert (done.returncode, done.stderr) == (
        1,
        f"Error: cannot write {out}: Permission denied\n".encode(),
    )
    assert out.read_text() == "kept"
