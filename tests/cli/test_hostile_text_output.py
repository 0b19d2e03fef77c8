"""Network text on the terminal (the reviewer's finding: ``hubbub search``
printed a post's ``ESC]0;PWNED`` and ``ESC[2J`` raw, so the window was renamed
and the screen cleared; ``listen list``, echoed names and X's error text too).

Every line the CLI prints for a person passes network text through one
cleaner (``hubbub.terminal_text.plain``): controls and bidi overrides become
U+FFFD. Machine formats (JSONL, CSV) keep the data exact.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.health import HealthSnapshot, State
from hubbub.store import open_store
from hubbub.store.listening import SavedQueries
from hubbub.store.scope import scope
from hubbub.store.source_health import write_health
from hubbub.terminal_text import PlainFormatter, plain

HOSTILE_TEXT = (
    '=HYPERLINK("http://evil","x") \x1b]0;PWNED\x07\x1b[31mRED\x1b[0m \u202eRTL #evil @victim'
)
HOSTILE_HANDLE = "evil\x1b[2J"
# What must never reach a terminal from network text (Rich's own styling,
# ESC[1m and the like on a terminal, is not in this list).
FORBIDDEN = ("\x1b]", "\x1b[2J", "\x1b[31m", "\x07", "\u202e", "\x9b")


def _page() -> bytes:
    """An X API v2 page whose post and author carry escape codes and bidi overrides."""
    return orjson.dumps(
        {
            "data": [
                {
                    "id": "900",
                    "text": HOSTILE_TEXT,
                    "author_id": "77",
                    "created_at": "2024-05-01T10:00:00.000Z",
                    "lang": "en",
                }
            ],
            "includes": {
                "users": [{"id": "77", "username": HOSTILE_HANDLE, "name": "\x1b[5mblink"}]
            },
        }
    )


@pytest.fixture
def hostile_db(tmp_path: Path) -> str:
    source = tmp_path / "hostile.jsonl"
    source.write_bytes(_page() + b"\n")
    db = str(tmp_path / "hostile.db")
    done = CliRunner().invoke(main, ["import", str(source), "--db", db])
    assert done.exit_code == 0, done.output
    return db


def _clean(text: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} in {text!r}"


def _through_a_terminal(args: list[str]) -> bytes:
    """What ``hubbub ARGS`` writes to a pseudo-terminal (Rich then styles its
    tables, as for a person)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hubbub.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        process.wait(30)
    assert process.returncode == 0, b"".join(chunks)
    return b"".join(chunks)


def test_search_on_a_terminal_shows_no_escape_codes(hostile_db: str) -> None:
    shown = _through_a_terminal(["search", "evil", "--db", hostile_db]).decode()
    _clean(shown)
    assert "\ufffd]0;PWNED" in shown  # replaced visibly, not dropped
    assert "RED" in shown and "#evil" in shown


def test_machine_formats_keep_the_text_exact(hostile_db: str) -> None:
    runner = CliRunner()
    jsonl = runner.invoke(main, ["search", "evil", "--db", hostile_db, "--format", "jsonl"])
    assert jsonl.exit_code == 0, jsonl.output
    post = orjson.loads(jsonl.stdout_bytes.splitlines()[0])
    assert post["text"] == HOSTILE_TEXT
    assert post["author"] == HOSTILE_HANDLE
    assert b"\x1b" not in jsonl.stdout_bytes  # JSON escapes controls itself
    exported = runner.invoke(main, ["export", "--db", hostile_db, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows[0]["author"] == HOSTILE_HANDLE
    # Exact but for the exporter's own guard against spreadsheet formulas.
    assert HOSTILE_TEXT in [value.removeprefix("'") for value in rows[0].values()]


def test_tables_and_lines_of_user_and_network_text_are_clean(
    hostile_db: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    with open_store(hostile_db) as store:
        # Stored before names were checked (or by an older Hubbub): still shown safely.
        SavedQueries(scope(store, "default")).create("bad\x1b]0;X\x07name", "evil", "g\u202ex")
        write_health(
            store,
            "default",
            [
                HealthSnapshot(
                    "x:stream",
                    "x",
                    State.RECONNECTING,
                    reason="HTTP 401 (\x1b]0;PWN\x07)",
                    via="\x1b[2Jhost",
                    updated_at=time.time(),
                )
            ],
        )
    outputs = []
    for args in (
        ["search", "evil"],
        ["listen", "list"],
        ["sources", "status"],
        ["audit"],
    ):
        done = runner.invoke(main, [*args, "--db", hostile_db])
        assert done.exit_code == 0, (args, done.output)
        outputs.append(done.output)
    for shown in outputs:
        _clean(shown)
    assert "bad\ufffd]0;X\ufffdname" in outputs[1]
    assert "HTTP 401 (\ufffd]0;PWN\ufffd)" in outputs[2]


def test_import_errors_quote_the_file_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"not a post \x1b]0;PWN\x07": 1}\n\x1b[2J garbage\n')
    done = CliRunner().invoke(main, ["import", str(bad), "--db", str(tmp_path / "h.db")])
    assert done.exit_code == 1
    assert "bad.jsonl:" in done.stderr
    _clean(done.output)


def test_error_messages_are_cleaned_but_keep_their_lines(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    done = CliRunner().invoke(main, ["search", "(evil \x1b]0;PWN\x07", "--db", db])
    assert done.exit_code == 2
    _clean(done.stderr)
    assert "bad query" in done.stderr
    assert "\ufffd]0;PWN\ufffd" in done.stderr
    assert done.stderr.rstrip().endswith("^")  # the caret line is still its own line


def test_plain_replaces_every_control_and_bidi_character() -> None:
    assert plain("a\x1b[2Jb\x07c\x9bd\u202ee\u2066f\u200fg\ud800h") == (
        "a\ufffd[2Jb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh"
    )
    assert plain("one\ntwo\tthree") == "one\ufffdtwo\ufffdthree"
    assert plain("one\ntwo\r", keep_newlines=True) == "one\ntwo\ufffd"
    assert plain("zaż\u00f3łć 👩\u200d👩\u200d👧 عربي") == "zaż\u00f3łć 👩\u200d👩\u200d👧 عربي"
    assert plain(None) == ""


def test_log_lines_are_cleaned_but_keep_a_tracebacks_lines() -> None:
    formatter = PlainFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("bad \x1b]0;PWN\x07")
    except ValueError:
        record = logging.LogRecord(
            "hubbub", logging.WARNING, __file__, 1, "server said %s", ("\x1b[2J",), sys.exc_info()
        )
    line = formatter.format(record)
    _clean(line)
    assert line.startswith("WARNING server said \ufffd[2J\nTraceback")
    assert "ValueError: bad \ufffd]0;PWN\ufffd" in line


def test_serve_and_worker_warnings_reach_stderr_cleaned(tmp_path: Path) -> None:
    """`hubbub serve` set up no handler of its own: a source's warning quoting a
    server reached the terminal raw through logging's last-resort handler."""
    import socket
    import subprocess

    code = (
        "import logging\n"
        "from hubbub.terminal_text import log_to_terminal\n"
        "log_to_terminal('hubbub', logging.WARNING)\n"
        "logging.getLogger('hubbub.sources.x').warning('server said %s', '\\x1b]0;PWN\\x07')\n"
        "logging.getLogger('hubbub.sources.x').info('not shown')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=True)
    err = done.stderr.decode()
    assert "WARNING hubbub.sources.x: server said \ufffd]0;PWN\ufffd" in err
    assert "\x1b" not in err and "not shown" not in err

    # serve installs it: a replayed line no parser knows is logged in that format
    # (the last-resort handler printed the bare message).
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"neither": "x nor bluesky"}\n', encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    argv = [sys.executable, "-m", "hubbub.cli", "serve", "--db", str(tmp_path / "h.db")]
    with subprocess.Popen(
        [*argv, "--port", port, "--source", f"replay:{bad}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # blocks until the warning (or exit)
        proc.terminate()
        proc.wait(timeout=60)
    assert " WARNING hubbub.pipeline" in line and "unreadable payload" in line
