"""A killed ``hubbub import`` takes its parser process with it: the child used
to wait on the full queue for ever, holding the database and its pickles
(found by a newcomer review). And a killed parser is a one-line error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_shared_data
from tests.processes import children_of

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _big_file(tmp_path: Path) -> Path:
    x = require_shared_data() / "payloads" / "x_v2_twarc2"
    body = b"".join(p.read_bytes() for p in sorted(x.glob("*.jsonl")))
    path = tmp_path / "big.jsonl"
    path.write_bytes(body * 7)  # ~26 MB: parsed in the second process
    return path


def _start(tmp_path: Path, path: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    db = tmp_path / "k.db"
    command = [sys.executable, "-m", "hubbub.cli", "import", "--json", "--db", str(db), str(path)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        kids = sorted(children_of(proc.pid))
        if kids and any(tmp_path.glob("hubbub-import-*")):
            return proc, kids[0]
        if proc.poll() is not None:
            pytest.fail(f"import ended before its parser started: {proc.stderr.read()!r}")
        time.sleep(0.05)
    pytest.fail("the import never forked its parser")


def _gone(pid: int, within: float = 60.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited, waiting to be reaped by init
            return True
        time.sleep(0.1)
    return False


@pytest.mark.serial
def test_killing_the_import_ends_its_parser_and_removes_its_batches(tmp_path: Path) -> None:
    proc, child = _start(tmp_path, _big_file(tmp_path))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)  # reaps it and closes its pipes
    assert _gone(child), "the parser process outlived the import"
    assert not list(tmp_path.glob("hubbub-import-*")), "the parser's batches were left behind"


def test_a_killed_parser_is_a_one_line_error(tmp_path: Path) -> None:
    proc, child = _start(tmp_path, _big_file(tmp_path))
    os.kill(child, signal.SIGKILL)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert b"Traceback" not in err
    assert b"the parser process ended" in err
