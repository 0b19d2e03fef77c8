"""``hubbub inbox saved add`` run as a command: what a refused field's quote shows
and what is stored from standard input (found by a review of 92aae6a)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = [sys.executable, "-c", "from hubbub.launch import run; run()"]  # the `hubbub` script
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _hubbub(db: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*SCRIPT, *args, "--db", str(db)], input=stdin, capture_output=True, env=ENV, timeout=120
    )


def _refusal(db: Path, text: str) -> str:
    done = _hubbub(db, "inbox", "saved", "add", "c", text)
    assert done.returncode != 0
    line = done.stderr.decode().strip().splitlines()[-1]
    return line.split("'")[1]  # the quoted field


def test_the_quote_stops_before_an_escaped_brace(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    assert _refusal(db, "Hi {name{x} — use }} for a brace") == "{name{x}"
    # a nested format spec is still quoted to its own closing brace (92aae6a)
    assert _refusal(db, "Hi {name:{agent}} there") == "{name:{agent}}"
    assert _refusal(db, "Hi {name:{agent}}}} there") == "{name:{agent}}"


def test_the_quote_is_cut_after_escaping(tmp_path: Path) -> None:
    """70 tag characters, each shown as \\U000e0041, gave a 694-character message."""
    quote = _refusal(tmp_path / "h.db", "{" + chr(0xE0041) * 70 + "}")
    assert len(quote) <= 60 and quote.endswith("…")
    assert quote.startswith("{\\U000e0041")
    assert "\\U000e0041" * 5 in quote and "\\U000e" not in quote.replace("\\U000e0041", "")


def test_a_bom_read_from_standard_input_is_not_stored(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    done = _hubbub(db, "inbox", "saved", "add", "bom", "-", stdin=b"\xef\xbb\xbfHi {name}\n")
    assert done.returncode == 0, done.stderr
    listed = _hubbub(db, "inbox", "saved", "list")
    assert listed.stdout.decode().split() == ["bom", "Hi", "{name}"]
    assert "\ufeff" not in listed.stdout.decode()
