"""A command whose reader goes away (``hubbub classify FILE | head -3``) ends as
coreutils do: killed by SIGPIPE (the shell sees 141), nothing on stderr, no
worker left behind. It used to exit 1, which a script cannot tell from a failure
(found by a newcomer review)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubbub.launch import stop_when_reader_leaves
from tests.processes import children_of, running

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGPIPE") or not sys.platform.startswith("linux"),
    reason="SIGPIPE and /proc are POSIX/Linux",
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = [sys.executable, "-c", "from hubbub.launch import run; run()"]  # the `hubbub` script
MODULE = [sys.executable, "-m", "hubbub.cli"]  # `python -m hubbub.cli`, the group alone
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _texts(path: Path, n: int = 4000) -> Path:
    path.write_text("".join(f"the support team was brilliant, thank you {i}\n" for i in range(n)))
    return path


def _read_three_then_close(argv: list[str], tmp_path: Path) -> tuple[int, str, set[int]]:
    """Run ``argv``, read 3 lines of its stdout, close the pipe; its exit status,
    its stderr, and the child processes it had while it was writing."""
    err_path = tmp_path / "stderr"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=ENV)
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        children = children_of(proc.pid)
        proc.stdout.close()
        status = proc.wait(timeout=120)
    assert all(line.endswith(b"\n") for line in lines), lines
    return status, err_path.read_text(errors="replace"), children


@pytest.mark.parametrize("workers", ["1", "3"])
def test_classify_killed_by_sigpipe_when_the_reader_leaves(tmp_path: Path, workers: str) -> None:
    source = _texts(tmp_path / "texts.txt")
    status, err, children = _read_three_then_close(
        [*SCRIPT, "classify", "--workers", workers, str(source)], tmp_path
    )
    assert status == -signal.SIGPIPE, err
    assert err == ""
    if workers == "3":
        assert children, "the workers never started: the test did not test them"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.05)
    assert not any(running(c) for c in children), "a worker outlived the command"


def test_the_shell_sees_141_like_coreutils(tmp_path: Path) -> None:
    source = _texts(tmp_path / "texts.txt")
    argv = " ".join(f"'{a}'" for a in [*SCRIPT, "classify", str(source)])
    done = subprocess.run(
        ["bash", "-c", f'{argv} | head -3 >/dev/null; echo "${{PIPESTATUS[0]}}"'],
        capture_output=True,
        env=ENV,
        timeout=120,
    )
    assert done.stdout.decode().strip() == "141", done.stderr.decode(errors="replace")
    assert done.stderr == b""


def test_commands_of_the_group_end_the_same(tmp_path: Path) -> None:
    """The handling is the group's, not classify's: ``simulate`` (which used to
    exit 0 through a handler of its own) and ``export`` from a database."""
    status, err, _ = _read_three_then_close(
        [*MODULE, "simulate", "x", "--limit", "100000"], tmp_path
    )
    assert (status, err) == (-signal.SIGPIPE, "")

    db = tmp_path / "hubbub.db"
    payloads = tmp_path / "chat.jsonl"
    with payloads.open("wb") as out:
        subprocess.run(
            [*MODULE, "simulate", "x", "--limit", "3000"], stdout=out, env=ENV, check=True
        )
    subprocess.run(
        [*MODULE, "import", "--db", str(db), str(payloads)],
        stdout=subprocess.DEVNULL,
        env=ENV,
        check=True,
    )
    for fmt in ("jsonl", "csv"):
        status, err, _ = _read_three_then_close(
            [*MODULE, "export", "--db", str(db), "--format", fmt], tmp_path
        )
        assert (status, err) == (-signal.SIGPIPE, ""), fmt


def test_a_broken_pipe_that_is_not_stdout_stays_an_error() -> None:
    """EPIPE from a socket (a server that hung up) while stdout is still read is a
    real failure: the guard must not turn it into a quiet SIGPIPE exit."""
    with pytest.raises(BrokenPipeError), stop_when_reader_leaves():
        raise BrokenPipeError(32, "Broken pipe")


def test_a_command_started_with_stdout_closed_says_so() -> None:
    """``hubbub count hello >&-``: Python has no sys.stdout at all then; the output
    cannot go anywhere, so it ends as coreutils do (``echo hi >&-``): one line and
    exit 1, not a silent success (nor an AttributeError on sys.stdout.buffer)."""
    argv = " ".join(f"'{a}'" for a in [*MODULE, "count", "hello"])
    done = subprocess.run(["bash", "-c", f"{argv} >&-"], capture_output=True, env=ENV, timeout=120)
    assert (done.returncode, done.stderr) == (1, b"hubbub: write error: Bad file descriptor\n")
