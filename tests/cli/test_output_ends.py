"""How a command ends when its output cannot be written, each as coreutils would
(found by a review of the stdout-reader guard): a reader gone is SIGPIPE (141)
for tables, help and version too; a full disk or a stdout closed from the start
is one line and exit 1; a closed stderr stops nothing; Ctrl-C is 130; an export
cut short is still audited."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SIGPIPE, /dev/full and bash are POSIX/Linux"
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = [sys.executable, "-c", "from hubbub.launch import run; run()"]  # the `hubbub` script
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
WRITE_ERROR_FULL = b"hubbub: write error: No space left on device\n"
WRITE_ERROR_CLOSED = b"hubbub: write error: Bad file descriptor\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with 3,000 imported posts and one saved query."""
    where = tmp_path_factory.mktemp("db")
    payloads = where / "chat.jsonl"
    with payloads.open("wb") as out:
        subprocess.run(
            [*SCRIPT, "simulate", "x", "--limit", "3000"], stdout=out, env=ENV, check=True
        )
    path = where / "hubbub.db"
    for args in (["import", str(payloads)], ["listen", "add", "q1", "a"]):
        subprocess.run(
            [*SCRIPT, *args, "--db", str(path)], stdout=subprocess.DEVNULL, env=ENV, check=True
        )
    return path


def _to_gone_reader(args: list[str]) -> tuple[int, bytes]:
    """Run ``hubbub ARGS`` with stdout a pipe whose reader closed before it started
    (deterministic, unlike ``| true``): its status and stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*SCRIPT, *args], stdout=write_end, stderr=subprocess.PIPE, env=ENV, timeout=120
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def _in_bash(args: list[str], redirect: str) -> subprocess.CompletedProcess[bytes]:
    argv = " ".join(f"'{a}'" for a in [*SCRIPT, *args])
    return subprocess.run(
        ["bash", "-c", f"{argv} {redirect}"], capture_output=True, env=ENV, timeout=120
    )


def _audit_exports(db: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [*SCRIPT, "audit", "--db", str(db), "--format", "jsonl"],
        capture_output=True,
        env=ENV,
        check=True,
    )
    entries = [orjson.loads(line) for line in done.stdout.splitlines()]
    return [e["detail"] for e in entries if e["action"] == "export"]


@pytest.mark.parametrize(
    "args", [["search", "a"], ["listen", "list"], ["audit"]], ids=["search", "listen", "audit"]
)
def test_a_table_whose_reader_left_ends_by_sigpipe(db: Path, args: list[str]) -> None:
    """Rich's own handler used to exit 1 before the guard saw the broken pipe."""
    assert _to_gone_reader([*args, "--db", str(db)]) == (-signal.SIGPIPE, b"")


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["classify", "--help"], ["export", "--help"]]
)
def test_help_and_version_whose_reader_left_end_by_sigpipe(args: list[str]) -> None:
    assert _to_gone_reader(args) == (-signal.SIGPIPE, b"")


@pytest.mark.parametrize("args", [["count", "hello"], ["export"]])
def test_a_full_disk_is_one_line_and_exit_1(db: Path, args: list[str]) -> None:
    done = _in_bash([*args, "--db", str(db)] if args[0] == "export" else args, ">/dev/full")
    assert (done.returncode, done.stderr) == (1, WRITE_ERROR_FULL)


@pytest.mark.parametrize(
    "args",
    [["export"], ["search", "--format", "jsonl", "a"], ["report", "a"]],
    ids=["export", "search", "report"],
)
def test_stdout_closed_from_the_start_is_one_line_and_exit_1(db: Path, args: list[str]) -> None:
    done = _in_bash([*args, "--db", str(db)], ">&-")
    assert (done.returncode, done.stderr) == (1, WRITE_ERROR_CLOSED)


def test_classify_with_stdout_closed_is_one_line_and_exit_1(tmp_path: Path) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"thank you, great service {i}\n" for i in range(3000)))
    done = _in_bash(["classify", str(texts)], ">&-")
    assert (done.returncode, done.stderr) == (1, WRITE_ERROR_CLOSED)


def test_a_closed_stderr_stops_no_import(db: Path, tmp_path: Path) -> None:
    """cron and systemd jobs may start a command with fd 2 closed: the progress
    bar's isatty() on a missing sys.stderr had stopped the import (exit 1)."""
    fresh = tmp_path / "fresh.db"
    exported = subprocess.run(
        [*SCRIPT, "export", "--db", str(db)], capture_output=True, env=ENV, check=True
    )
    payloads = tmp_path / "posts.jsonl"
    payloads.write_bytes(exported.stdout)
    done = _in_bash(["import", "--db", str(fresh), str(payloads)], "2>&-")
    assert done.returncode == 0
    again = subprocess.run(
        [*SCRIPT, "export", "--db", str(fresh)], capture_output=True, env=ENV, check=True
    )
    assert len(again.stdout.splitlines()) == len(exported.stdout.splitlines()) == 3000


def test_an_export_cut_short_is_audited(db: Path) -> None:
    before = len(_audit_exports(db))
    assert _to_gone_reader(["export", "--db", str(db)]) == (-signal.SIGPIPE, b"")
    assert _to_gone_reader(["report", "a", "--db", str(db)]) == (-signal.SIGPIPE, b"")
    subprocess.run(
        [*SCRIPT, "export", "--db", str(db)], stdout=subprocess.DEVNULL, env=ENV, check=True
    )
    export_cut, report_cut, complete = _audit_exports(db)[before:]
    assert export_cut["cut_short"] is True
    assert isinstance(export_cut["posts"], int) and export_cut["posts"] < 3000
    assert report_cut == {"command": "report", "format": "json", "query": "a", "cut_short": True}
    assert complete == {"format": "jsonl", "query": "", "posts": 3000}  # the shape as it was


def test_ctrl_c_exits_130_with_one_line(db: Path, tmp_path: Path) -> None:
    """Click said "Aborted!" and exited 1."""
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    with subprocess.Popen(
        [*SCRIPT, "export", "--db", str(copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().endswith(b"\n")  # started, now blocked on a full pipe
        proc.send_signal(signal.SIGINT)
        err = proc.stderr.read()
        proc.stdout.close()
        status = proc.wait(timeout=120)
    assert (status, err) == (130, b"hubbub: interrupted\n")
    assert _audit_exports(copy)[-1]["cut_short"] is True


def test_ctrl_c_ends_live_simulation_with_130() -> None:
    """`simulate --live` runs until stopped; Ctrl-C is how it ends, and it used to
    end with exit 0, so a script could not tell it from a finished run."""
    with subprocess.Popen(
        [*SCRIPT, "simulate", "t", "--live", "--rate", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().endswith(b"\n")  # running
        proc.send_signal(signal.SIGINT)
        err = proc.stderr.read()
        proc.stdout.close()
        status = proc.wait(timeout=120)
    assert (status, err) == (130, b"hubbub: interrupted\n")


def test_serve_with_stdout_closed_still_serves(tmp_path: Path) -> None:
    """Its banner is not its output: a daemon started with fd 1 closed must serve,
    not stop at the banner with a write error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    argv = " ".join(
        f"'{a}'" for a in [*SCRIPT, "serve", "--db", str(tmp_path / "h.db"), "--port", str(port)]
    )
    with subprocess.Popen(
        ["bash", "-c", f"exec {argv} >&-"], stderr=subprocess.DEVNULL, env=ENV
    ) as proc:
        try:
            answered = None
            deadline = time.monotonic() + 60  # a bound on waiting, not a timing assertion
            while answered is None and proc.poll() is None and time.monotonic() < deadline:
                try:
                    answered = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
                except httpx.TransportError:
                    time.sleep(0.2)
            assert proc.poll() is None, f"serve ended with {proc.returncode}"
            assert answered is not None and answered.status_code < 500
        finally:
            proc.terminate()
            proc.wait(timeout=60)
